//! Strong ETags of the embedded files, computed once at build time so no
//! instance hashes anything: the API description, and the web client's
//! production build (`web/dist`, made by `npm run build` in `web/`; without
//! it the component serves no web client).

use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut tag = String::new();
    for byte in &digest[..16] {
        let _ = write!(tag, "{byte:02x}");
    }
    format!("\"{tag}\"")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let description = "../../openapi/openapi.json";
    println!("cargo::rerun-if-changed={description}");
    let mut code = format!("const OPENAPI_ETAG: &str = {:?};\n", etag(&std::fs::read(description)?));

    let dist = Path::new("../../web/dist");
    println!("cargo::rerun-if-changed={}", dist.display());
    let mut found = Vec::new();
    if dist.is_dir() {
        files(dist, &mut found)?;
    }
    found.sort();
    code.push_str("/// The web client's files: URL path, content type, strong ETag, bytes.\n");
    code.push_str("static WEB_FILES: &[(&str, &str, &str, &[u8])] = &[\n");
    for path in &found {
        let bytes = std::fs::read(path)?;
        let url = format!("/{}", path.strip_prefix(dist)?.to_string_lossy().replace('\\', "/"));
        let absolute = std::fs::canonicalize(path)?;
        writeln!(
            code,
            "    ({url:?}, {:?}, {:?}, include_bytes!({:?})),",
            content_type(path),
            etag(&bytes),
            absolute.display().to_string()
        )?;
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("embedded.rs");
    std::fs::write(out, code)?;
    Ok(())
}
