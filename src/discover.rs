//! Which files to scan, and in which language.
//!
//! Walks with the `ignore` crate: `.gitignore`, `.ignore` and hidden files
//! are honoured, symlinks are followed with loop detection. Below a named
//! directory, vendored and build folders and test files are skipped (RULES.md
//! "General policy"); a path named explicitly is scanned whatever its name.
//!
//! Excludes (`--exclude`, config `exclude`) are gitignore-style globs, each
//! set anchored at its own directory: the working directory for the
//! command line's, the config file's directory for the config's. They apply
//! to files named explicitly too (pre-commit names every staged file), like
//! ruff's `--force-exclude`.

use crate::facts::Lang;
use crate::finding::Skipped;
use std::path::{Path, PathBuf};

/// Folders never descended into unless named explicitly.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    ".venv",
    "venv",
    "target",
    "dist",
    "build",
    "__pycache__",
    ".git",
    "tests",
    "test",
    "__tests__",
];

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// The path to open.
    pub path: PathBuf,
    /// The path to show: relative to the working directory where possible,
    /// `/`-separated.
    pub display: String,
    /// The path made absolute, directories' symlinks resolved (see
    /// [`crate::fingerprint::absolute`]): what excludes and the project
    /// root are compared with.
    pub absolute: PathBuf,
    pub lang: Lang,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0}: no such file or directory")]
    Missing(String),
    #[error("{origin}: {glob:?} is not a valid glob: {message}")]
    BadGlob {
        origin: String,
        glob: String,
        message: String,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Paths to leave out: sets of globs, each anchored at its own directory.
    pub exclude: Vec<Exclude>,
}

/// Gitignore-style globs relative to `base`: `src/legacy/**` is that
/// folder under `base`, `*.gen.py` such files at any depth below it.
#[derive(Clone, Debug)]
pub struct Exclude {
    /// Relative to the working directory, or absolute.
    pub base: PathBuf,
    pub globs: Vec<String>,
    /// Where the globs come from, for error messages (`--exclude`, a config file).
    pub origin: String,
}

/// Compiled excludes: (absolute base, matcher).
struct Excluder(Vec<(PathBuf, ignore::gitignore::Gitignore)>);

impl Excluder {
    fn new(sets: &[Exclude], cwd: &Path) -> Result<Excluder, DiscoverError> {
        let mut out = Vec::new();
        for set in sets.iter().filter(|s| !s.globs.is_empty()) {
            let base = crate::fingerprint::absolute(&set.base, cwd);
            let mut b = ignore::gitignore::GitignoreBuilder::new(&base);
            for g in &set.globs {
                b.add_line(None, g).map_err(|e| DiscoverError::BadGlob {
                    origin: set.origin.clone(),
                    glob: g.clone(),
                    message: e.to_string(),
                })?;
            }
            let m = b.build().map_err(|e| DiscoverError::BadGlob {
                origin: set.origin.clone(),
                glob: set.globs.join(", "),
                message: e.to_string(),
            })?;
            out.push((base, m));
        }
        Ok(Excluder(out))
    }

    /// Whether `path` (absolute) or a folder above it is excluded by a set
    /// whose base holds it.
    fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        self.0.iter().any(|(base, m)| {
            path.strip_prefix(base).is_ok_and(|rel| {
                !rel.as_os_str().is_empty()
                    && m.matched_path_or_any_parents(rel, is_dir).is_ignore()
            })
        })
    }
}

/// The language of a file, by its name; `None` for files we do not scan.
pub fn language_of(path: &Path) -> Option<Lang> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".d.ts") || name.ends_with(".min.js") {
        return None;
    }
    let ext = path.extension()?.to_str()?;
    match ext {
        "py" => Some(Lang::Python),
        "ts" | "mts" | "cts" | "tsx" => Some(Lang::TypeScript),
        "js" | "mjs" | "cjs" | "jsx" => Some(Lang::JavaScript),
        "rs" => Some(Lang::Rust),
        _ => None,
    }
}

/// Test files by name (RULES.md): skipped below a named directory.
pub fn is_test_file(name: &str) -> bool {
    if name.starts_with("test_") && name.ends_with(".py") || name.ends_with("_test.py") {
        return true;
    }
    ["test", "spec"].iter().any(|kind| {
        ["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{kind}.{ext}")))
    })
}

/// The files under `roots`, sorted by display path, and the entries that
/// could not be walked.
pub fn discover(
    roots: &[PathBuf],
    opts: &Options,
) -> Result<(Vec<SourceFile>, Vec<Skipped>), DiscoverError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let excluder = std::sync::Arc::new(Excluder::new(&opts.exclude, &cwd)?);
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root)
            .map_err(|_| DiscoverError::Missing(root.display().to_string()))?;
        let root_abs = crate::fingerprint::absolute(root, &cwd);
        if meta.is_file() {
            if excluder.excludes(&root_abs, false) {
                continue;
            }
            // Named explicitly: scanned whatever its name, if we know its language.
            match language_of(root) {
                Some(lang) => files.push(SourceFile {
                    path: root.clone(),
                    display: display_path(root, &cwd),
                    absolute: root_abs,
                    lang,
                }),
                None => skipped.push(Skipped {
                    path: display_path(root, &cwd),
                    reason: "not a Python, TypeScript, JavaScript or Rust file".into(),
                }),
            }
            continue;
        }
        let mut builder = ignore::WalkBuilder::new(root);
        builder
            .follow_links(true)
            .hidden(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .parents(true);
        let walk_root = root.clone();
        let walk_abs = root_abs.clone();
        let ex = excluder.clone();
        let absolute = move |p: &Path| walk_abs.join(p.strip_prefix(&walk_root).unwrap_or(p));
        let entry_abs = absolute.clone();
        builder.filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if !ex.0.is_empty() && ex.excludes(&entry_abs(e.path()), is_dir) {
                return false;
            }
            if e.depth() == 0 {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            if is_dir {
                !SKIP_DIRS.contains(&name.as_ref())
            } else {
                !is_test_file(&name)
            }
        });
        for entry in builder.build() {
            match entry {
                Ok(e) => {
                    if !e.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    if let Some(lang) = language_of(e.path()) {
                        files.push(SourceFile {
                            path: e.path().to_path_buf(),
                            display: display_path(e.path(), &cwd),
                            absolute: absolute(e.path()),
                            lang,
                        });
                    }
                }
                Err(err) => skipped.push(walk_error(&err, &cwd)),
            }
        }
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    files.dedup_by(|a, b| a.display == b.display);
    skipped.sort();
    skipped.dedup();
    Ok((files, skipped))
}

fn walk_error(err: &ignore::Error, cwd: &Path) -> Skipped {
    fn inner(err: &ignore::Error) -> (Option<PathBuf>, String) {
        match err {
            ignore::Error::WithPath { path, err } => (Some(path.clone()), inner(err).1),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner(err)
            }
            ignore::Error::Loop { child, .. } => (Some(child.clone()), "symlink loop".to_string()),
            ignore::Error::Io(e) => (None, format!("cannot read: {e}")),
            other => (None, other.to_string()),
        }
    }
    let (path, mut reason) = inner(err);
    if let Some(p) = &path {
        if p.is_symlink() && !p.exists() {
            reason = "broken symlink (its target does not exist)".into();
        }
    }
    Skipped {
        path: path.map(|p| display_path(&p, cwd)).unwrap_or_default(),
        reason,
    }
}

/// `path` relative to `cwd` when it is below it, `/`-separated.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let rel = if path.is_absolute() {
        path.strip_prefix(cwd).unwrap_or(path)
    } else {
        path
    };
    let s: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = s.join("/");
    let joined = joined.replace("//", "/");
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_by_extension() {
        assert_eq!(language_of(Path::new("a/b.py")), Some(Lang::Python));
        assert_eq!(language_of(Path::new("x.tsx")), Some(Lang::TypeScript));
        assert_eq!(language_of(Path::new("x.mjs")), Some(Lang::JavaScript));
        assert_eq!(language_of(Path::new("x.rs")), Some(Lang::Rust));
        assert_eq!(language_of(Path::new("x.d.ts")), None);
        assert_eq!(language_of(Path::new("README.md")), None);
    }

    #[test]
    fn test_files_by_name() {
        for n in [
            "test_api.py",
            "api_test.py",
            "a.test.ts",
            "a.spec.tsx",
            "a.test.mjs",
        ] {
            assert!(is_test_file(n), "{n}");
        }
        for n in ["api.py", "testing.py", "contest.ts", "latest.js"] {
            assert!(!is_test_file(n), "{n}");
        }
    }

    #[test]
    fn display_paths_are_relative_and_slashed() {
        let cwd = Path::new("/work/x");
        assert_eq!(display_path(Path::new("/work/x/src/a.py"), cwd), "src/a.py");
        assert_eq!(display_path(Path::new("./src/a.py"), cwd), "src/a.py");
        assert_eq!(
            display_path(Path::new("/elsewhere/a.py"), cwd),
            "/elsewhere/a.py"
        );
    }
}
