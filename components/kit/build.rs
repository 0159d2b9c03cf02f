//! Rebuilds the bindings when the WIT contracts change.

fn main() {
    println!("cargo:rerun-if-changed=../../wit");
}
