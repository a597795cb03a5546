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
    /// Read only to judge the files named on the command line within their
    /// package (see [`discover_in_context`]): not reported on.
    pub context: bool,
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
                    context: false,
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
                            context: false,
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

/// [`discover`], and for each file named explicitly — in `roots`, or in
/// `stand_ins` (files whose text is given, saved or not) — the files of the
/// package around it ([`crate::package::context_root`]), found as a walk
/// of that directory finds them (gitignore, excludes, skipped folders and
/// test files alike), marked `context`. A file named on its own is then
/// judged as in a scan of its package: a tool in another file reaches it,
/// a helper in another file gives its deadline. What cannot be walked or
/// read there is not reported: it is not what was asked about.
pub fn discover_in_context(
    roots: &[PathBuf],
    stand_ins: &[PathBuf],
    opts: &Options,
) -> Result<(Vec<SourceFile>, Vec<Skipped>), DiscoverError> {
    let (mut files, skipped) = discover(roots, opts)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let cwd_abs = crate::fingerprint::absolute(&cwd, &cwd);
    let abs = |p: &Path| crate::fingerprint::absolute(p, &cwd);
    let mut have: std::collections::HashSet<PathBuf> =
        files.iter().map(|f| f.absolute.clone()).collect();
    let named_dirs: Vec<PathBuf> = roots
        .iter()
        .filter(|r| r.is_dir())
        .map(|r| abs(r))
        .collect();
    // The folder of each file named (those discovered: excluded ones are
    // not) and of each stand-in (where it is or would be), and whether it
    // was named by a relative path.
    let mut anchors: Vec<(PathBuf, bool)> = Vec::new();
    for r in roots.iter().filter(|r| r.is_file()) {
        let a = abs(r);
        if let (true, Some(dir)) = (have.contains(&a), a.parent()) {
            anchors.push((dir.to_path_buf(), r.is_relative()));
        }
    }
    for s in stand_ins {
        if let Some(dir) = abs(s).ancestors().skip(1).find(|a| a.is_dir()) {
            anchors.push((abs(dir), s.is_relative()));
        }
    }
    let mut context_roots: Vec<(PathBuf, bool)> = anchors
        .into_iter()
        .map(|(a, rel)| (crate::package::context_root(&a), rel))
        // A folder named whole is walked already.
        .filter(|(r, _)| !named_dirs.iter().any(|d| r.starts_with(d)))
        .collect();
    context_roots.sort();
    // An outer root's walk holds an inner one's.
    let mut outer: Vec<(PathBuf, bool)> = Vec::new();
    for (r, rel) in context_roots {
        if !outer.iter().any(|(o, _)| r.starts_with(o)) {
            outer.push((r, rel));
        }
    }
    for (root, rel) in outer {
        // Walked as the file was named, relative or not, so that the
        // package's paths show like the file's own.
        let walk = match rel {
            true => relative_path(&root, &cwd_abs).unwrap_or(root),
            false => root,
        };
        let (found, _) = discover(&[walk], opts)?;
        for mut f in found {
            if have.insert(f.absolute.clone()) {
                f.context = true;
                files.push(f);
            }
        }
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok((files, skipped))
}

/// `path` relative to `base` (both absolute), with `..` where it is not
/// below it; `None` when they share no root (another drive).
fn relative_path(path: &Path, base: &Path) -> Option<PathBuf> {
    let common = path.ancestors().find(|a| base.starts_with(a))?;
    let mut out = PathBuf::new();
    for _ in base.strip_prefix(common).ok()?.components() {
        out.push("..");
    }
    out.push(path.strip_prefix(common).ok()?);
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Some(out)
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
    fn relative_paths_climb_with_dot_dot() {
        let rel = |p: &str, b: &str| relative_path(Path::new(p), Path::new(b)).unwrap();
        assert_eq!(rel("/w/pkg", "/w/pkg/src"), Path::new(".."));
        assert_eq!(rel("/w/pkg/src", "/w"), Path::new("pkg/src"));
        assert_eq!(rel("/w/a", "/w/b/c"), Path::new("../../a"));
        assert_eq!(rel("/w", "/w"), Path::new("."));
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
