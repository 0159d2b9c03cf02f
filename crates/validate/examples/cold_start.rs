//! Measures what a fresh component instance pays on its first phone or
//! email parse (libphonenumber metadata and regexes load lazily):
//! `cargo run --release -p vottery-validate --example cold_start`.

use std::time::Instant;

use vottery_validate::{Email, PhoneE164};

fn main() {
    let started = Instant::now();
    let _ = PhoneE164::parse("+44 7912 345678", None);
    let first = started.elapsed();
    let started = Instant::now();
    let _ = PhoneE164::parse("+31 6 12345678", None);
    let second = started.elapsed();
    let started = Instant::now();
    let _ = Email::parse("Ada@Bücher.de");
    println!("first phone parse {first:?}, second {second:?}, first email parse {:?}", started.elapsed());
}
