//! Packages: the tree under a manifest (pyproject.toml, setup.py,
//! package.json, Cargo.toml). Reach never crosses from one package to
//! another by a name alone, and a package with no MCP entry point is not a
//! server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

const MANIFESTS: [&str; 5] = [
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "package.json",
    "Cargo.toml",
];

/// Finds the package root of files, caching per directory: a scan asks for
/// thousands of files in a few hundred directories.
#[derive(Default)]
pub struct Roots {
    cache: HashMap<PathBuf, Option<PathBuf>>,
    names: HashMap<PathBuf, Option<String>>,
}

/// The package a file belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    /// Its directory as a display path (relative to the working directory
    /// where possible, `/`-separated); empty when no manifest was found.
    pub dir: String,
    /// The name other packages import it by: package.json's `name`, or
    /// Cargo.toml's `[package] name` (as a crate path: `-` becomes `_`).
    pub name: Option<String>,
}

impl Roots {
    /// The nearest directory at or above `file`'s that holds a manifest.
    pub fn of(&mut self, file: &Path, cwd: &Path) -> Package {
        let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        let Some(root) = self.dir_root(&dir) else {
            return Package::default();
        };
        let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
        let name = self
            .names
            .entry(root.clone())
            .or_insert_with(|| manifest_name(&root))
            .clone();
        Package {
            dir: crate::discover::display_path(&root, &cwd),
            name,
        }
    }

    fn dir_root(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(hit) = self.cache.get(dir) {
            return hit.clone();
        }
        // Walk the real ancestors: a relative path ("." or "") has none.
        let start = std::fs::canonicalize(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .ok();
        let found = start.and_then(|s| {
            s.ancestors()
                .find(|a| MANIFESTS.iter().any(|m| a.join(m).is_file()))
                .map(Path::to_path_buf)
        });
        self.cache.insert(dir.to_path_buf(), found.clone());
        found
    }
}

/// The import name a package's manifest declares, if it declares one.
fn manifest_name(root: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(root.join("package.json")) {
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        return v.get("name")?.as_str().map(str::to_string);
    }
    if let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) {
        let v: toml::Value = toml::from_str(&text).ok()?;
        let name = v.get("package")?.get("name")?.as_str()?;
        return Some(name.replace('-', "_"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_manifest_wins() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("a/src/x")).unwrap();
        std::fs::create_dir_all(root.join("a/tools/seed")).unwrap();
        std::fs::write(root.join("a/package.json"), "{}").unwrap();
        std::fs::write(root.join("a/tools/seed/package.json"), "{}").unwrap();
        std::fs::write(root.join("a/package.json"), "{\"name\": \"@corp/app\"}").unwrap();
        let mut r = Roots::default();
        let a = r.of(&root.join("a/src/x/index.ts"), root);
        assert_eq!(a.dir, "a");
        assert_eq!(a.name.as_deref(), Some("@corp/app"));
        let seed = r.of(&root.join("a/tools/seed/seed.ts"), root);
        assert_eq!(seed.dir, "a/tools/seed");
        assert_eq!(seed.name, None, "{{}} has no name");
    }
}
