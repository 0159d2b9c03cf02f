//! Application and component variables, resolved the way Spin does:
//! static providers from the runtime config, then env providers in file
//! order, then the default env provider (`SPIN_VARIABLE_<NAME>`), then the
//! manifest default. Everything is resolved once at start-up, so a guest's
//! `get` is a map lookup.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, bail};

use crate::manifest::{Manifest, check_variable_name};
use crate::runtime_config::VariablesProvider;

/// The `{{ name }}` references in a template.
pub fn template_references(template: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            bail!("invalid variable template {template:?}: unclosed `{{{{`");
        };
        let name = rest[start + 2..start + 2 + len].trim();
        check_variable_name(name)?;
        names.push(name.to_owned());
        rest = &rest[start + 2 + len + 2..];
    }
    Ok(names)
}

/// Renders a template against resolved application variables.
pub fn render(template: &str, values: &AppVariables) -> Result<String, VariableError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start + 2..].find("}}") else {
            return Err(VariableError::Other(format!("invalid variable template {template:?}")));
        };
        let name = rest[start + 2..start + 2 + len].trim();
        match values.values.get(name) {
            Some(Some(value)) => out.push_str(value),
            Some(None) => {
                return Err(VariableError::Provider(format!("no provider resolved required variable {name:?}")));
            }
            None => return Err(VariableError::Other(format!("invalid variable template: unknown variable {name:?}"))),
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Why a variable has no value; mirrors `spin:variables` errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableError {
    InvalidName(String),
    Undefined(String),
    Provider(String),
    Other(String),
}

/// Application variables after every provider was asked; `None` is a
/// required variable nobody provided.
#[derive(Debug, Default)]
pub struct AppVariables {
    values: HashMap<String, Option<String>>,
}

impl AppVariables {
    pub fn resolve(manifest: &Manifest, providers: &[VariablesProvider], env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut values = HashMap::new();
        for (name, decl) in &manifest.variables {
            let from_providers = providers.iter().find_map(|p| p.lookup(name, env));
            let from_default_env = || env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()));
            let value = from_providers.or_else(from_default_env).or_else(|| decl.default.clone());
            values.insert(name.clone(), value);
        }
        Self { values }
    }

    #[cfg(test)]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|v| v.as_deref())
    }
}

/// A component's variables, rendered at start-up.
#[derive(Debug, Default)]
pub struct ComponentVariables {
    component: String,
    values: HashMap<String, Result<String, VariableError>>,
}

impl ComponentVariables {
    pub fn render(component: &str, templates: &BTreeMap<String, String>, app: &AppVariables) -> Self {
        let values = templates.iter().map(|(name, template)| (name.clone(), render(template, app))).collect();
        Self { component: component.to_owned(), values }
    }

    /// What `spin:variables/variables.get` answers.
    pub fn get(&self, name: &str) -> Result<String, VariableError> {
        if let Err(e) = check_variable_name(name) {
            return Err(VariableError::InvalidName(format!("{e}")));
        }
        match self.values.get(name) {
            Some(result) => result.clone(),
            None => Err(VariableError::Undefined(format!("no variable for {:?}.{name:?}", self.component))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(vars: &str) -> Manifest {
        toml::from_str(&format!("spin_manifest_version = 2\n[application]\nname = \"t\"\n[variables]\n{vars}")).unwrap()
    }

    #[test]
    fn finds_references() {
        assert_eq!(template_references("a{{ x }}b{{y_1}}").unwrap(), vec!["x", "y_1"]);
        assert!(template_references("{{ X }}").is_err());
        assert!(template_references("{{ x ").is_err());
    }

    #[test]
    fn providers_then_default_env_then_default() {
        let m = manifest(
            "a = { default = \"da\" }\nb = { default = \"db\" }\nc = { required = true }\nd = { required = true, secret = true }",
        );
        let providers = vec![VariablesProvider::Static { values: [("a".to_owned(), "static".to_owned())].into() }];
        let env = |k: &str| match k {
            "SPIN_VARIABLE_A" => Some("env-a".to_owned()),
            "SPIN_VARIABLE_B" => Some("env-b".to_owned()),
            _ => None,
        };
        let app = AppVariables::resolve(&m, &providers, &env);
        assert_eq!(app.get("a"), Some("static"));
        assert_eq!(app.get("b"), Some("env-b"));
        assert_eq!(app.get("c"), None);
        assert_eq!(app.get("d"), None);
    }

    #[test]
    fn component_errors_match_spin() {
        let m = manifest("host = { default = \"db\" }\nkey = { required = true }");
        let app = AppVariables::resolve(&m, &[], &|_| None);
        let templates =
            [("url".to_owned(), "postgres://{{ host }}:5432".to_owned()), ("key".to_owned(), "{{ key }}".to_owned())]
                .into();
        let vars = ComponentVariables::render("auth", &templates, &app);
        assert_eq!(vars.get("url").unwrap(), "postgres://db:5432");
        assert!(matches!(vars.get("key"), Err(VariableError::Provider(m)) if m.contains("\"key\"")));
        assert!(
            matches!(vars.get("nope"), Err(VariableError::Undefined(m)) if m == "no variable for \"auth\".\"nope\"")
        );
        assert!(matches!(vars.get("URL"), Err(VariableError::InvalidName(_))));
    }
}

mod host {
    use wasmtime::component::{Accessor, HasSelf};

    use super::VariableError;
    use crate::bindings::variables::{Error, Host, HostWithStore};
    use crate::state::StoreData;

    impl Host for StoreData {}

    impl<T> HostWithStore<T> for HasSelf<StoreData> {
        async fn get(accessor: &Accessor<T, Self>, name: String) -> wasmtime::Result<Result<String, Error>> {
            let answer = accessor.with(|mut access| access.get().component.variables.get(&name));
            Ok(answer.map_err(|e| match e {
                VariableError::InvalidName(m) => Error::InvalidName(m),
                VariableError::Undefined(m) => Error::Undefined(m),
                VariableError::Provider(m) => Error::Provider(m),
                VariableError::Other(m) => Error::Other(m),
            }))
        }
    }
}
