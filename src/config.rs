//! The config file: `mcp-audit.toml` (or `.mcp-audit.toml`), or a
//! `[tool.mcp-audit]` table in `pyproject.toml`, found by walking up from
//! the first scanned path; `--config FILE` names one directly.
//!
//! ```toml
//! select = ["MCP101"]              # rule ids or names; default: all
//! ignore = ["MCP103"]
//! exclude = ["scripts/**"]         # gitignore-style globs
//! knowledge = ["mcp-knowledge.toml"]  # extra knowledge packs, relative to this file
//! fail-on = "medium"               # low | medium | high | never
//! min-grade = "B"                  # A..F
//! max-file-size = 2097152
//! scope = "all"                    # reached (default) | all
//!
//! [per-path-ignores]
//! "scripts/*.py" = ["MCP101"]
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub knowledge: Option<Vec<PathBuf>>,
    pub fail_on: Option<String>,
    pub min_grade: Option<String>,
    pub max_file_size: Option<u64>,
    pub per_path_ignores: Option<BTreeMap<String, Vec<String>>>,
    /// `reached` (default) or `all`.
    pub scope: Option<String>,
}

#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub file: FileConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Invalid { path: String, message: String },
}

/// The nearest config file at or above `start`.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let mut dir = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        for name in ["mcp-audit.toml", ".mcp-audit.toml"] {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        let py = d.join("pyproject.toml");
        if py.is_file()
            && std::fs::read_to_string(&py).is_ok_and(|t| {
                t.lines()
                    .any(|l| l.trim_start().starts_with("[tool.mcp-audit"))
            })
        {
            return Some(py);
        }
        dir = d.parent();
    }
    None
}

pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: shown.clone(),
        message,
    };
    let file: FileConfig = if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        let doc: toml::Table =
            toml::from_str(&text).map_err(|e| invalid(one_line(&e.to_string())))?;
        match doc.get("tool").and_then(|t| t.get("mcp-audit")) {
            Some(t) => t.clone().try_into().map_err(|e: toml::de::Error| {
                invalid(format!("[tool.mcp-audit]: {}", one_line(&e.to_string())))
            })?,
            None => FileConfig::default(),
        }
    } else {
        toml::from_str(&text).map_err(|e| invalid(one_line(&e.to_string())))?
    };
    if let Some(f) = &file.fail_on {
        if !matches!(f.as_str(), "low" | "medium" | "high" | "never") {
            return Err(invalid(format!(
                "fail-on = {f:?}: expected \"low\", \"medium\", \"high\" or \"never\""
            )));
        }
    }
    if let Some(sc) = &file.scope {
        if !sc.eq_ignore_ascii_case("reached") && !sc.eq_ignore_ascii_case("all") {
            return Err(invalid(format!(
                "scope = {sc:?}: expected \"reached\" or \"all\""
            )));
        }
    }
    if let Some(g) = &file.min_grade {
        if !matches!(g.as_str(), "A" | "B" | "C" | "D" | "F") {
            return Err(invalid(format!(
                "min-grade = {g:?}: expected one of A, B, C, D, F"
            )));
        }
    }
    for (k, ids) in file.per_path_ignores.iter().flatten() {
        if globset::Glob::new(k).is_err() {
            return Err(invalid(format!(
                "per-path-ignores: {k:?} is not a valid glob"
            )));
        }
        for id in ids {
            if crate::suppress::rule_key(id).is_none() {
                return Err(invalid(format!(
                    "per-path-ignores.{k:?}: unknown rule {id:?}"
                )));
            }
        }
    }
    for (key, list) in [("select", &file.select), ("ignore", &file.ignore)] {
        for id in list.iter().flatten() {
            if crate::suppress::rule_key(id).is_none() {
                return Err(invalid(format!("{key}: unknown rule {id:?}")));
            }
        }
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        file,
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Loaded {
    /// Knowledge pack paths, relative to the config file's directory.
    pub fn knowledge_paths(&self) -> Vec<PathBuf> {
        let base = self.path.parent().unwrap_or(Path::new("."));
        self.file
            .knowledge
            .iter()
            .flatten()
            .map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    base.join(p)
                }
            })
            .collect()
    }

    pub fn per_path_ignores(&self) -> Vec<(globset::GlobMatcher, Vec<String>)> {
        self.file
            .per_path_ignores
            .iter()
            .flatten()
            .filter_map(|(k, ids)| {
                let g = globset::GlobBuilder::new(k)
                    .literal_separator(false)
                    .build()
                    .ok()?
                    .compile_matcher();
                let ids = ids
                    .iter()
                    .filter_map(|i| crate::suppress::rule_key(i).map(str::to_string))
                    .collect();
                Some((g, ids))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(name: &str, text: &str) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        load(&p)
    }

    #[test]
    fn a_bad_key_is_named() {
        let e = load_str("mcp-audit.toml", "selekt = [\"MCP101\"]\n").unwrap_err();
        assert!(e.to_string().contains("selekt"), "{e}");
        let e = load_str("mcp-audit.toml", "fail-on = \"sometimes\"\n").unwrap_err();
        assert!(e.to_string().contains("fail-on"), "{e}");
        let e = load_str("pyproject.toml", "[tool.mcp-audit]\nmin-grade = \"Z\"\n").unwrap_err();
        assert!(e.to_string().contains("min-grade"), "{e}");
        let e = load_str("mcp-audit.toml", "ignore = [\"MCP999\"]\n").unwrap_err();
        assert!(e.to_string().contains("MCP999"), "{e}");
    }

    #[test]
    fn pyproject_table_and_walk_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n\n[tool.mcp-audit]\nignore = [\"unbounded-await\"]\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("src/pkg")).unwrap();
        let found = find(&dir.path().join("src/pkg")).unwrap();
        assert!(found.ends_with("pyproject.toml"));
        let l = load(&found).unwrap();
        assert_eq!(l.file.ignore.unwrap(), vec!["unbounded-await"]);
    }
}
