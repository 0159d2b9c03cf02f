//! Numbering plans by country calling code, loaded on first use of that
//! code and kept for the instance's life (plain constant data, nothing of
//! any request), so checking a number costs its own country's plan only.

use std::sync::{Arc, Mutex};

use phonenumber::metadata::{Database, loader};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/phone_plans.rs"));
}

static LOADED: Mutex<Vec<(u16, Arc<Database>)>> = Mutex::new(Vec::new());

/// The plan(s) of calling code `code`, or `None` for a code no country has.
pub fn database(code: u16) -> Option<Arc<Database>> {
    if let Some((_, db)) = LOADED.lock().ok()?.iter().find(|(c, _)| *c == code) {
        return Some(db.clone());
    }
    let index = generated::BY_CODE.binary_search_by_key(&code, |(c, _)| *c).ok()?;
    let metas: Vec<loader::Metadata> = postcard::from_bytes(generated::BY_CODE[index].1).ok()?;
    let db = Arc::new(Database::from(metas).ok()?);
    LOADED.lock().ok()?.push((code, db.clone()));
    Some(db)
}

/// The calling code a number written as `+<digits>` starts with (codes are
/// prefix-free, so at most one of its first three digits' prefixes is one).
pub fn code_of_international(raw: &str) -> Option<u16> {
    let digits: String = raw.strip_prefix('+')?.chars().filter(char::is_ascii_digit).take(3).collect();
    (1..=digits.len()).find_map(|n| {
        let code = digits[..n].parse().ok()?;
        generated::BY_CODE.binary_search_by_key(&code, |(c, _)| *c).ok().map(|_| code)
    })
}

/// The calling code of a region (ISO 3166 alpha-2).
pub fn code_of_region(region: &str) -> Option<u16> {
    let i = generated::REGIONS.binary_search_by_key(&region, |(r, _)| r).ok()?;
    Some(generated::REGIONS[i].1)
}

#[cfg(test)]
pub fn regions() -> impl Iterator<Item = (&'static str, u16)> {
    generated::REGIONS.iter().copied()
}
