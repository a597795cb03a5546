//! Packages: the tree under a manifest (pyproject.toml, setup.py,
//! package.json, Cargo.toml). Reach never crosses from one package to
//! another by a name alone, and a package with no MCP entry point is not a
//! server. A file named on its own is judged with the rest of its package
//! ([`context_root`]).

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
        // Walk the real ancestors: a relative path ("." or "") has none. A
        // file not saved yet (`--stdin-filename`) may be in a folder that
        // does not exist yet: its package is that of the nearest that does.
        let start = dir
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .find_map(|a| std::fs::canonicalize(a).ok())
            .or_else(|| std::fs::canonicalize(".").ok());
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

/// What ends the search for the context of a file named on its own,
/// besides a manifest: the config file and the repository root. Both mark
/// a project's top; nothing above them is the file's context.
const PROJECT_MARKERS: [&str; 2] = ["mcp-audit.toml", ".git"];

/// The directory whose files a file in `dir` (absolute) is judged with
/// when it is named on its own (pre-commit, an editor): the nearest
/// directory at or above `dir` holding a manifest (its package), an
/// `mcp-audit.toml` or `.git` (a project without manifests). With none,
/// `dir` itself: the working directory may be anything (a home directory),
/// and walking it all for one file is no one's intent.
pub fn context_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|a| {
            MANIFESTS
                .iter()
                .chain(&PROJECT_MARKERS)
                .any(|m| a.join(m).exists())
        })
        .unwrap_or(dir)
        .to_path_buf()
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
        assert_eq!(r.of(&root.join("a/src/not/yet/saved.ts"), root), a);
    }

    #[test]
    fn a_file_is_judged_within_its_package_else_its_project_else_its_folder() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for dir in ["repo/.git", "repo/svc/src/deep", "repo/loose", "bare/x"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("repo/svc/pyproject.toml"), "").unwrap();
        assert_eq!(
            context_root(&root.join("repo/svc/src/deep")),
            root.join("repo/svc")
        );
        // A manifest above the repository is not the file's package.
        std::fs::write(root.join("package.json"), "{}").unwrap();
        assert_eq!(context_root(&root.join("repo/loose")), root.join("repo"));
        std::fs::write(root.join("bare/mcp-audit.toml"), "").unwrap();
        assert_eq!(context_root(&root.join("bare/x")), root.join("bare"));
        std::fs::remove_file(root.join("package.json")).unwrap();
        std::fs::remove_file(root.join("bare/mcp-audit.toml")).unwrap();
        // Nothing marks a project: the file's own folder (when the
        // temporary directory itself is in no project).
        if context_root(root) == root {
            assert_eq!(context_root(&root.join("bare/x")), root.join("bare/x"));
        }
    }
}
