//! `spin.toml` (manifest version 2), the subset of it this host runs: HTTP
//! triggers with middleware, components with dependencies, variables,
//! outbound hosts and key-value stores. Anything it does not know is a
//! start-up error naming the key, as Spin's own loader does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

// Some fields are read only to reject unknown keys, as Spin does.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub trigger: Option<toml::Table>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    #[serde(default)]
    pub id: Option<String>,
    pub route: RouteSpec,
    pub component: String,
    #[serde(default)]
    pub executor: Option<toml::Table>,
    #[serde(default)]
    pub dependencies: TriggerDependencies,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteSpec {
    Path(String),
    Private(PrivateRoute),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerDependencies {
    #[serde(default)]
    pub middleware: Vec<DependencySource>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub dependencies_inherit_configuration: Option<bool>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, DependencySource>,
    #[serde(default)]
    pub build: Option<Build>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub command: toml::Value,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// Where a dependency or middleware comes from, and what it inherits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencySource {
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub export: Option<String>,
    #[serde(default)]
    pub inherit_configuration: Option<Inherit>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Inherit {
    All(bool),
    Some(Vec<String>),
}

impl Manifest {
    /// Reads and checks a manifest; errors name the file and the key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read manifest {}", path.display()))?;
        let manifest: Manifest =
            toml::from_str(&text).with_context(|| format!("invalid manifest {}", path.display()))?;
        manifest.check().with_context(|| format!("invalid manifest {}", path.display()))?;
        Ok(manifest)
    }

    fn check(&self) -> Result<()> {
        if self.spin_manifest_version != 2 {
            bail!("spin_manifest_version must be 2, found {}", self.spin_manifest_version);
        }
        if let Some(base) = self.application.trigger.as_ref().and_then(|t| t.get("http")) {
            let is_root = base.get("base").and_then(|b| b.as_str()) == Some("/");
            if !is_root {
                bail!("application.trigger.http: the deprecated `base` is not supported; prepend it to each route");
            }
        }
        for (name, var) in &self.variables {
            check_variable_name(name).with_context(|| format!("variables.{name}"))?;
            if var.required == var.default.is_some() {
                bail!("variables.{name}: must be `required` OR have a `default`");
            }
        }
        for (i, trigger) in self.trigger.http.iter().enumerate() {
            if !self.component.contains_key(&trigger.component) {
                bail!("trigger.http[{i}]: component {:?} is not defined", trigger.component);
            }
            if let Some(executor) = &trigger.executor {
                let kind = executor.get("type").and_then(|t| t.as_str());
                if !matches!(kind, Some("http" | "spin")) {
                    bail!("trigger.http[{i}].executor: only `{{ type = \"http\" }}` is supported");
                }
            }
            if let RouteSpec::Private(PrivateRoute { private: false }) = trigger.route {
                bail!("trigger.http[{i}]: route must be a string pattern or `{{ private = true }}`");
            }
            for mw in &trigger.dependencies.middleware {
                self.check_source(mw).with_context(|| format!("trigger.http[{i}].dependencies.middleware"))?;
            }
        }
        for (id, component) in &self.component {
            for (name, template) in &component.variables {
                check_variable_name(name).with_context(|| format!("component.{id}.variables.{name}"))?;
                for reference in crate::variables::template_references(template)
                    .with_context(|| format!("component.{id}.variables.{name}"))?
                {
                    if !self.variables.contains_key(&reference) {
                        bail!(
                            "component.{id}.variables.{name}: invalid variable template: unknown variable {reference:?}"
                        );
                    }
                }
            }
            for (name, dep) in &component.dependencies {
                self.check_source(dep).with_context(|| format!("component.{id}.dependencies.{name:?}"))?;
                if dep.inherit_configuration.is_some() && component.dependencies_inherit_configuration.is_some() {
                    bail!(
                        "component `{id}` specifies both `dependencies_inherit_configuration` and per-dependency `inherit_configuration`"
                    );
                }
            }
        }
        Ok(())
    }

    fn check_source(&self, source: &DependencySource) -> Result<()> {
        match (&source.component, &source.path) {
            (Some(id), None) => {
                let Some(dep) = self.component.get(id) else {
                    bail!("dependency ID {id} does not exist");
                };
                let mut own = Vec::new();
                if !dep.allowed_outbound_hosts.is_empty() {
                    own.push("allowed_outbound_hosts");
                }
                if !dep.variables.is_empty() {
                    own.push("variables");
                }
                if !dep.key_value_stores.is_empty() {
                    own.push("key_value_stores");
                }
                if !dep.environment.is_empty() {
                    own.push("environment");
                }
                if !dep.dependencies.is_empty() {
                    own.push("dependencies");
                }
                if !own.is_empty() {
                    bail!(
                        "dependencies may not have their own resources or permissions: component {id} specifies {}",
                        own.join(", ")
                    );
                }
                Ok(())
            }
            (None, Some(_)) => Ok(()),
            _ => bail!("a dependency needs exactly one of `component` or `path`"),
        }
    }
}

impl DependencySource {
    /// The `.wasm` file this dependency is loaded from.
    pub fn wasm_path(&self, manifest: &Manifest, root: &Path) -> PathBuf {
        match (&self.component, &self.path) {
            (Some(id), _) => manifest.component.get(id).map(|c| root.join(&c.source)).unwrap_or_default(),
            (None, Some(path)) => root.join(path),
            (None, None) => PathBuf::new(),
        }
    }
}

/// Variable names are lower snake case: `[a-z][a-z0-9]*(_[a-z0-9]+)*`.
pub fn check_variable_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.contains("__")
        && !name.ends_with('_');
    if ok {
        Ok(())
    } else {
        bail!("{name:?}: variable names may contain only lower-case letters, numbers and single underscores")
    }
}
