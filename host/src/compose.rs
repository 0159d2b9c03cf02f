//! Load-time composition, as Spin 4 does it with wac-graph: a component's
//! own dependencies are plugged into its imports first, then each HTTP
//! middleware wraps the result through `wasi:http/handler@0.3.0`, the first
//! listed outermost.
//!
//! Dependencies that do not inherit configuration get no capability. Spin
//! plugs such imports with a deny-all adapter whose calls fail; this host
//! refuses to load a dependency that imports a capability it was not given,
//! so a capability-less dependency provably cannot reach one.

use anyhow::{Context, Result, bail};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

use crate::manifest::Inherit;

pub const HANDLER: &str = "wasi:http/handler@0.3.0";

/// A piece to plug in: its name (for errors), bytes, what it inherits.
pub struct Piece<'a> {
    pub name: &'a str,
    pub bytes: Vec<u8>,
    pub inherit: Inherit,
}

/// A component dependency: the import it satisfies and the export used.
pub struct Dependency<'a> {
    pub key: &'a str,
    pub export: Option<&'a str>,
    pub piece: Piece<'a>,
}

/// Capability groups a dependency may inherit, and the interfaces (without
/// version) that need them.
const GROUPS: &[(&str, &[&str])] = &[
    (
        "allowed_outbound_hosts",
        &[
            "wasi:http/client",
            "wasi:http/outgoing-handler",
            "spin:postgres/postgres",
            "spin:redis/redis",
            "spin:mysql/mysql",
            "spin:mqtt/mqtt",
            "fermyon:spin/postgres",
            "fermyon:spin/redis",
            "fermyon:spin/mysql",
            "fermyon:spin/mqtt",
            "fermyon:spin/http",
            "wasi:sockets/tcp",
            "wasi:sockets/udp",
            "wasi:sockets/tcp-create-socket",
            "wasi:sockets/udp-create-socket",
            "wasi:sockets/ip-name-lookup",
            "wasi:sockets/types",
        ],
    ),
    ("key_value_stores", &["spin:key-value/key-value", "fermyon:spin/key-value", "wasi:keyvalue/store"]),
    ("variables", &["spin:variables/variables", "fermyon:spin/variables", "fermyon:spin/config", "wasi:config/store"]),
    ("sqlite_databases", &["spin:sqlite/sqlite", "fermyon:spin/sqlite"]),
    ("ai_models", &["fermyon:spin/llm"]),
];

fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// The capability group an import needs, if any.
pub fn capability_of(import: &str) -> Option<&'static str> {
    let bare = unversioned(import);
    GROUPS.iter().find(|(_, names)| names.contains(&bare)).map(|(group, _)| *group)
}

fn inherits(inherit: &Inherit, group: &str) -> bool {
    match inherit {
        Inherit::All(all) => *all,
        Inherit::Some(groups) => groups.iter().any(|g| g == group),
    }
}

/// Refuses a piece that imports a capability it does not inherit.
fn check_isolation(graph: &CompositionGraph, package: wac_graph::PackageId, piece: &Piece<'_>) -> Result<()> {
    let ty = &graph.types()[graph[package].ty()];
    for import in ty.imports.keys() {
        if let Some(group) = capability_of(import)
            && !inherits(&piece.inherit, group)
        {
            bail!(
                "dependency {:?} imports {import:?}, which needs `{group}`, but it does not inherit that configuration; \
                 a dependency without inherited configuration gets no capability",
                piece.name
            );
        }
    }
    Ok(())
}

/// Whether an import name is satisfied by a dependency key (`ns:pkg`,
/// `ns:pkg/iface`, `ns:pkg/iface@x.y.z` or a plain name).
fn key_matches(key: &str, import: &str) -> bool {
    if !key.contains(':') {
        return key == import;
    }
    let (key_path, key_version) = match key.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (key, None),
    };
    let (import_path, import_version) = match import.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (import, None),
    };
    let package_match = match key_path.split_once('/') {
        Some(_) => key_path == import_path,
        None => import_path.split_once('/').map_or(import_path, |(p, _)| p) == key_path,
    };
    package_match && key_version.is_none_or(|v| Some(v) == import_version)
}

/// Composes `primary` with its dependencies and middleware. Returns the
/// primary bytes untouched when there is nothing to compose.
pub fn compose(primary: Vec<u8>, dependencies: Vec<Dependency<'_>>, middleware: Vec<Piece<'_>>) -> Result<Vec<u8>> {
    if dependencies.is_empty() && middleware.is_empty() {
        return Ok(primary);
    }
    let mut graph = CompositionGraph::new();
    let package =
        Package::from_bytes("primary", None, primary, graph.types_mut()).context("cannot read the component")?;
    let primary_pkg = graph.register_package(package)?;
    let primary_inst = graph.instantiate(primary_pkg);
    let primary_ty = graph.types()[graph[primary_pkg].ty()].clone();

    for (i, dep) in dependencies.into_iter().enumerate() {
        let name = format!("dependency{i}");
        let package = Package::from_bytes(&name, None, dep.piece.bytes.clone(), graph.types_mut())
            .with_context(|| format!("cannot read dependency {:?}", dep.piece.name))?;
        let dep_pkg = graph.register_package(package)?;
        check_isolation(&graph, dep_pkg, &dep.piece)?;
        let matched: Vec<String> = primary_ty.imports.keys().filter(|i| key_matches(dep.key, i)).cloned().collect();
        if matched.is_empty() {
            bail!("dependency {:?} doesn't match any imports of the component", dep.key);
        }
        let dep_inst = graph.instantiate(dep_pkg);
        for import in matched {
            let export = dep.export.unwrap_or(&import);
            let alias = graph.alias_instance_export(dep_inst, export).with_context(|| {
                format!("dependency {:?} doesn't export {export:?} to satisfy import {import:?}", dep.key)
            })?;
            graph.set_instantiation_argument(primary_inst, &import, alias).with_context(|| {
                format!("dependency {:?} exports {export:?}, which is not compatible with import {import:?}", dep.key)
            })?;
        }
    }

    let mut upstream = graph
        .alias_instance_export(primary_inst, HANDLER)
        .context("the component does not export wasi:http/handler@0.3.0")?;
    for (i, piece) in middleware.into_iter().enumerate().rev() {
        let package = Package::from_bytes(&format!("middleware{i}"), None, piece.bytes.clone(), graph.types_mut())
            .with_context(|| format!("cannot read middleware {:?}", piece.name))?;
        let mw_pkg = graph.register_package(package)?;
        check_isolation(&graph, mw_pkg, &piece)?;
        let mw_inst = graph.instantiate(mw_pkg);
        graph
            .set_instantiation_argument(mw_inst, HANDLER, upstream)
            .with_context(|| format!("middleware {:?} must import {HANDLER}", piece.name))?;
        upstream = graph
            .alias_instance_export(mw_inst, HANDLER)
            .with_context(|| format!("middleware {:?} must export {HANDLER}", piece.name))?;
    }
    graph.export(upstream, HANDLER)?;
    graph.encode(EncodeOptions { validate: false, ..Default::default() }).context("cannot encode the composition")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_keys_match_imports_like_spin() {
        assert!(key_matches("vottery:crypto", "vottery:crypto/digest@0.1.0"));
        assert!(key_matches("vottery:crypto/digest", "vottery:crypto/digest@0.1.0"));
        assert!(key_matches("vottery:crypto/digest@0.1.0", "vottery:crypto/digest@0.1.0"));
        assert!(!key_matches("vottery:crypto/digest@0.2.0", "vottery:crypto/digest@0.1.0"));
        assert!(!key_matches("vottery:crypto/digest@0.1.0", "vottery:crypto/digest"));
        assert!(!key_matches("vottery:crypt", "vottery:crypto/digest"));
        assert!(key_matches("plain-name", "plain-name"));
    }

    #[test]
    fn capabilities_by_interface() {
        assert_eq!(capability_of("spin:variables/variables@3.0.0"), Some("variables"));
        assert_eq!(capability_of("wasi:http/client@0.3.0"), Some("allowed_outbound_hosts"));
        assert_eq!(capability_of("wasi:http/types@0.3.0"), None);
        assert_eq!(capability_of("wasi:random/random@0.3.0"), None);
        assert!(inherits(&Inherit::Some(vec!["variables".into()]), "variables"));
        assert!(!inherits(&Inherit::All(false), "variables"));
    }
}
