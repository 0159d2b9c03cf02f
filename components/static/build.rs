//! The strong ETag of the embedded API description, computed once at build
//! time so no instance hashes it.

use sha2::{Digest, Sha256};
use std::fmt::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let source = "../../openapi/openapi.json";
    println!("cargo::rerun-if-changed={source}");
    let digest = Sha256::digest(std::fs::read(source)?);
    let mut tag = String::new();
    for byte in &digest[..16] {
        write!(tag, "{byte:02x}")?;
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("etag.rs");
    std::fs::write(out, format!("const OPENAPI_ETAG: &str = \"\\\"{tag}\\\"\";\n"))?;
    Ok(())
}
