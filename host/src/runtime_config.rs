//! `runtime-config.toml`: key-value stores and variable providers. Every
//! top-level key must be understood; anything else is a start-up error that
//! names the file and the key.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub key_value_store: BTreeMap<String, KeyValueStore>,
    #[serde(default, alias = "config_provider")]
    pub variables_provider: Vec<VariablesProvider>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyValueStore {
    Redis { url: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VariablesProvider {
    Static {
        values: HashMap<String, String>,
    },
    Env {
        #[serde(default)]
        prefix: Option<String>,
    },
}

impl VariablesProvider {
    pub fn lookup(&self, name: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match self {
            Self::Static { values } => values.get(name).cloned(),
            Self::Env { prefix } => {
                env(&format!("{}_{}", prefix.as_deref().unwrap_or("SPIN_VARIABLE"), name.to_ascii_uppercase()))
            }
        }
    }
}

impl RuntimeConfig {
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let config: RuntimeConfig =
            toml::from_str(&text).with_context(|| format!("invalid runtime config {}", path.display()))?;
        for (label, store) in &config.key_value_store {
            let KeyValueStore::Redis { url } = store;
            if !url.starts_with("redis://") && !url.starts_with("rediss://") {
                bail!("invalid runtime config {}: key_value_store.{label}.url must be a redis:// URL", path.display());
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stores_and_providers() {
        let c: RuntimeConfig = toml::from_str(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n\
             [[variables_provider]]\ntype = \"env\"\nprefix = \"APP\"\n\
",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.key_value_store.contains_key("default"));
        assert_eq!(c.variables_provider.len(), 1);
        let alias: RuntimeConfig =
            toml::from_str("[[config_provider]]\ntype = \"static\"\nvalues = { a = \"1\" }\n").unwrap();
        assert_eq!(alias.variables_provider[0].lookup("a", &|_| None).as_deref(), Some("1"));
    }

    #[test]
    fn unknown_keys_and_types_are_errors() {
        assert!(toml::from_str::<RuntimeConfig>("[sqlite_database.x]\n").is_err());
        assert!(toml::from_str::<RuntimeConfig>("[key_value_store.x]\ntype = \"spin\"\n").is_err());
        assert!(
            toml::from_str::<RuntimeConfig>("[key_value_store.x]\ntype = \"redis\"\nurl = \"x\"\nextra = 1\n").is_err()
        );
    }
}
