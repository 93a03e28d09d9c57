//! The formats `ward inject` knows, how a template's name picks one, and
//! the placer each one uses.

use super::placer::{Placer, Raw};
use super::{env, json, toml, yaml};

/// What a rendered file is, so each value can be escaped for where it
/// lands. `Raw` replaces references with the values as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
    Env,
    Raw,
}

impl Format {
    /// The format a template's file name says, after dropping a `.tpl`,
    /// `.tmpl` or `.template` suffix: `.json`, `.yaml`/`.yml`, `.toml`,
    /// `.env` (also `.env.NAME`). `None` when the name says nothing.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = [".tpl", ".tmpl", ".template"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
        if name.ends_with(".json") {
            Some(Self::Json)
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            Some(Self::Yaml)
        } else if name.ends_with(".toml") {
            Some(Self::Toml)
        } else if name == ".env" || name.ends_with(".env") || name.starts_with(".env.") {
            Some(Self::Env)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Yaml => "yaml",
            Self::Toml => "toml",
            Self::Env => "env",
            Self::Raw => "raw",
        }
    }

    pub(super) fn placer(self) -> Box<dyn Placer> {
        match self {
            Self::Json => Box::new(json::Json::default()),
            Self::Yaml => Box::new(yaml::Yaml::default()),
            Self::Toml => Box::new(toml::Toml::default()),
            Self::Env => Box::new(env::Env::default()),
            Self::Raw => Box::new(Raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_name_picks_the_format_through_a_template_suffix() {
        for (name, format) in [
            ("app.json", Some(Format::Json)),
            ("app.JSON.tpl", Some(Format::Json)),
            ("app.yml.tmpl", Some(Format::Yaml)),
            ("conf/app.yaml", Some(Format::Yaml)),
            ("Cargo.toml.template", Some(Format::Toml)),
            (".env", Some(Format::Env)),
            (".env.tpl", Some(Format::Env)),
            (".env.production", Some(Format::Env)),
            ("prod.env", Some(Format::Env)),
            ("t.tpl", None),
            ("nginx.conf", None),
        ] {
            assert_eq!(Format::from_path(Path::new(name)), format, "{name}");
        }
    }
}
