//! Splits libphonenumber's metadata by country calling code: one postcard
//! blob per code, and a table from region to code, so a number's
//! validation loads only its own country's numbering plan.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufReader;
use std::path::PathBuf;

use phonenumber::metadata::loader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let source = "data/PhoneNumberMetadata.xml";
    println!("cargo:rerun-if-changed={source}");
    let all = loader::load(BufReader::new(std::fs::File::open(source)?))?;
    let mut by_code: BTreeMap<u16, Vec<loader::Metadata>> = BTreeMap::new();
    let mut regions = BTreeMap::new();
    for meta in all {
        let code = meta.country_code.ok_or("a territory without a country code")?;
        if let Some(id) = &meta.id {
            regions.insert(id.clone(), code);
        }
        by_code.entry(code).or_default().push(meta);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut table = String::from("/// Postcard-encoded metadata per country calling code, sorted by code.\n");
    table.push_str("pub static BY_CODE: &[(u16, &[u8])] = &[\n");
    for (code, metas) in &by_code {
        let file = out.join(format!("phone-{code}.bin"));
        std::fs::write(&file, postcard::to_stdvec(metas)?)?;
        writeln!(table, "    ({code}, include_bytes!({:?})),", file.display().to_string())?;
    }
    table.push_str("];\n/// Region (ISO 3166 alpha-2, or `001`) to country calling code, sorted.\n");
    table.push_str("pub static REGIONS: &[(&str, u16)] = &[\n");
    for (id, code) in &regions {
        writeln!(table, "    ({id:?}, {code}),")?;
    }
    table.push_str("];\n");
    std::fs::write(out.join("phone_plans.rs"), table)?;
    Ok(())
}
