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
    requires: HashMap<PathBuf, Requires>,
}

/// The dependencies a Python package declares, by distribution name
/// (lower case, `_` as `-`): the version specifier as written (`>=1.2,<2`,
/// `==1.9.4`, `^1.2`), empty when none is given.
pub type Requires = std::sync::Arc<Vec<(String, String)>>;

/// The package a file belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    /// Its directory as a display path (relative to the working directory
    /// where possible, `/`-separated); empty when no manifest was found.
    pub dir: String,
    /// The name other packages import it by: package.json's `name`, or
    /// Cargo.toml's `[package] name` (as a crate path: `-` becomes `_`).
    pub name: Option<String>,
    /// The Python dependencies its manifests pin (pyproject.toml,
    /// requirements*.txt, setup.py), for rules whose verdict depends on a
    /// library's version.
    pub requires: Requires,
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
        let requires = self
            .requires
            .entry(root.clone())
            .or_insert_with(|| python_requires(&root))
            .clone();
        Package {
            dir: crate::discover::display_path(&root, &cwd),
            name,
            requires,
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

/// The Python requirements a package root declares: PEP 621
/// `[project] dependencies` and optional dependencies, Poetry's
/// `[tool.poetry.dependencies]`, `requirements*.txt` beside the manifest,
/// and requirement strings in `setup.py`.
fn python_requires(root: &Path) -> Requires {
    let mut out: Vec<(String, String)> = Vec::new();
    if let Ok(text) = std::fs::read_to_string(root.join("pyproject.toml")) {
        if let Ok(v) = toml::from_str::<toml::Value>(&text) {
            let project = v.get("project");
            let mut lists: Vec<&toml::Value> = Vec::new();
            if let Some(d) = project.and_then(|p| p.get("dependencies")) {
                lists.push(d);
            }
            if let Some(t) = project
                .and_then(|p| p.get("optional-dependencies"))
                .and_then(|o| o.as_table())
            {
                lists.extend(t.values());
            }
            for l in lists.iter().filter_map(|l| l.as_array()) {
                out.extend(l.iter().filter_map(|r| r.as_str()).filter_map(requirement));
            }
            let poetry = v
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("dependencies"))
                .and_then(|d| d.as_table());
            for (name, spec) in poetry.into_iter().flatten() {
                let spec = match spec {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Table(t) => t
                        .get("version")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string(),
                    _ => String::new(),
                };
                let spec = if spec == "*" { String::new() } else { spec };
                out.push((normalize(name), spec));
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir(root) {
        let mut files: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("requirements") && n.ends_with(".txt"))
            })
            .collect();
        files.sort();
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            for line in text.lines() {
                let line = line.split(" #").next().unwrap_or("").trim();
                if line.starts_with('#') || line.starts_with('-') {
                    continue;
                }
                out.extend(requirement(line));
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string(root.join("setup.py")) {
        // Requirement strings are quoted literals: `"mcp>=1.2,<2"`.
        for (i, part) in text.split(['"', '\'']).enumerate() {
            if i % 2 == 1 && part.contains(['<', '>', '=', '~']) {
                out.extend(requirement(part));
            }
        }
    }
    std::sync::Arc::new(out)
}

/// `mcp[cli]>=1.2,<2; python_version >= "3.10"` → (`mcp`, `>=1.2,<2`).
fn requirement(r: &str) -> Option<(String, String)> {
    let r = r.split(';').next()?.trim();
    let end = r
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(r.len());
    let name = &r[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = r[end..].trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        rest = after
            .split_once(']')
            .map(|(_, t)| t)
            .unwrap_or("")
            .trim_start();
    }
    let spec = rest.trim_start_matches('(').trim_end_matches(')').trim();
    if !spec.is_empty() && !spec.starts_with(['<', '>', '=', '~', '!', '^']) {
        return None;
    }
    Some((normalize(name), spec.replace(' ', "")))
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The highest major version a specifier allows, when it caps one:
/// `==1.9.4`, `~=1.9`, `==1.*`, `<2`, `<2.0`, `<=1.9`, Poetry's `^1.2` and
/// `~1.2` all cap at 1. `None` for no cap (`>=1.2`, empty).
pub fn max_major(spec: &str) -> Option<u64> {
    let mut cap: Option<u64> = None;
    for clause in spec.split(',') {
        let clause = clause.trim();
        let (op, ver) = match clause.find(|c: char| c.is_ascii_digit()) {
            Some(i) => clause.split_at(i),
            None => continue,
        };
        let mut nums = ver
            .split('.')
            .map(|p| p.trim_end_matches('*').parse::<u64>().ok());
        let major = match nums.next().flatten() {
            Some(m) => m,
            None => continue,
        };
        let rest_zero = nums.all(|n| n.is_none_or(|n| n == 0));
        let c = match op.trim() {
            "==" | "===" | "~=" | "^" | "~" | "" => Some(major),
            "<=" => Some(major),
            "<" if rest_zero => major.checked_sub(1),
            "<" => Some(major),
            _ => None,
        };
        if let Some(c) = c {
            cap = Some(cap.map_or(c, |x: u64| x.min(c)));
        }
    }
    cap
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
    fn python_requirements_and_their_major_cap() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname='x'\ndependencies = ['mcp[cli]>=1.2,<2; python_version>=\"3.10\"', 'httpx']\n",
        )
        .unwrap();
        std::fs::write(
            root.join("requirements-dev.txt"),
            "# dev\nRequests==2.31.0\n-e .\n",
        )
        .unwrap();
        let r = python_requires(root);
        assert!(r.contains(&("mcp".into(), ">=1.2,<2".into())));
        assert!(r.contains(&("httpx".into(), "".into())));
        assert!(r.contains(&("requests".into(), "==2.31.0".into())));
        assert_eq!(max_major(">=1.2,<2"), Some(1));
        assert_eq!(max_major("<2.0"), Some(1));
        assert_eq!(max_major("<1.5"), Some(1));
        assert_eq!(max_major("==1.9.4"), Some(1));
        assert_eq!(max_major("^1.2"), Some(1));
        assert_eq!(max_major(">=1.2"), None);
        assert_eq!(max_major(""), None);
        assert_eq!(max_major(">=2.0,<3"), Some(2));
    }

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
