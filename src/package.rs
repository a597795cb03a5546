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
}

impl Roots {
    /// The nearest directory at or above `file`'s that holds a manifest, as
    /// a string key; empty when there is none.
    pub fn of(&mut self, file: &Path) -> String {
        let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        self.dir_root(&dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
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
        let mut r = Roots::default();
        let a = r.of(&root.join("a/src/x/index.ts"));
        assert!(a.ends_with("/a"), "{a}");
        let seed = r.of(&root.join("a/tools/seed/seed.ts"));
        assert!(seed.ends_with("/a/tools/seed"), "{seed}");
    }
}
