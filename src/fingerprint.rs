//! Finding fingerprints: the line-shift-stable identity that SARIF's
//! `partialFingerprints["mcpAudit/v1"]` and the baseline share.
//!
//! A fingerprint hashes the rule, the file's path relative to the project
//! root, the text of the flagged line (whitespace-normalised) and its rank
//! among findings sharing all three. Line numbers stay out of it, so edits
//! elsewhere in the file keep it; the working directory stays out of it, so
//! a scan started from a subdirectory gives the same fingerprints.
//!
//! The project root is the config file's directory, else the repository
//! root (the nearest ancestor holding `.git`), else the working directory.

use crate::finding::Finding;
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Fills in `fingerprint` on every finding. `sources` holds the text of
/// each file with a finding, by display path; `project_path` maps a display
/// path to its path relative to the project root (the display path itself
/// when absent). Findings must be in their final order: the rank among
/// identical lines counts in that order.
pub fn assign(
    findings: &mut [Finding],
    sources: &BTreeMap<String, Arc<str>>,
    project_path: &BTreeMap<String, String>,
) {
    let mut seen: HashMap<(String, &'static str, String), u32> = HashMap::new();
    for f in findings.iter_mut() {
        let line = sources
            .get(&f.location.path)
            .and_then(|s| {
                s.lines()
                    .nth(f.location.span.start_line.saturating_sub(1) as usize)
            })
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let path = project_path
            .get(&f.location.path)
            .cloned()
            .unwrap_or_else(|| f.location.path.clone());
        let n = seen
            .entry((path.clone(), f.rule_id, line.clone()))
            .or_insert(0);
        f.fingerprint = of(f.rule_id, &path, &line, *n);
        *n += 1;
    }
}

/// The fingerprint of the `rank`th finding of `rule` on a line reading
/// `line` in the file at `path` (relative to the project root).
pub fn of(rule: &str, path: &str, line: &str, rank: u32) -> String {
    let text = format!("{rule}\0{path}\0{line}\0{rank}");
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// FNV-1a, 64-bit. Fingerprints must be stable across Rust releases and
/// platforms (std's hashers promise neither), and nothing here needs a
/// cryptographic hash; eight lines do not justify a dependency.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The project root for a scan of `paths` with the config file `config`:
/// the config file's directory, else the nearest ancestor of the first
/// path that holds `.git` (a directory, or a file in a worktree), else
/// `cwd`. Absolute.
pub fn project_root(config: Option<&Path>, paths: &[PathBuf], cwd: &Path) -> PathBuf {
    if let Some(dir) = config.and_then(|c| absolute(c, cwd).parent().map(Path::to_path_buf)) {
        return dir;
    }
    if let Some(first) = paths.first() {
        let start = absolute(first, cwd);
        let mut dir = if start.is_dir() {
            Some(start.as_path())
        } else {
            start.parent()
        };
        while let Some(d) = dir {
            if d.join(".git").exists() {
                return d.to_path_buf();
            }
            dir = d.parent();
        }
    }
    absolute(cwd, cwd)
}

/// `path` made absolute against `cwd`, with symlinks in its directories
/// resolved where it exists (the config file's directory comes from a
/// resolved path too, and both must compare), and its last component kept
/// as named: a file reached through a symlink keeps the link's name.
pub fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let lexical = normalize(&joined);
    if lexical.is_dir() {
        if let Ok(p) = std::fs::canonicalize(&lexical) {
            return p;
        }
    }
    match (lexical.parent(), lexical.file_name()) {
        (Some(parent), Some(name)) => match std::fs::canonicalize(parent) {
            Ok(p) => p.join(name),
            Err(_) => lexical,
        },
        _ => lexical,
    }
}

/// `a/b/../c/./d` → `a/c/d`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` (absolute) relative to `root`, `/`-separated; the whole path,
/// `/`-separated, when it is not below `root`.
pub fn relative_to(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, Component::CurDir | Component::RootDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = parts.join("/");
    if rel.has_root() {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Span;
    use crate::finding::{Axis, Location, Severity};

    #[test]
    fn fnv_is_the_reference_function() {
        // Reference values of FNV-1a 64.
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
    }

    fn finding(path: &str, line: u32) -> Finding {
        Finding {
            rule_id: "MCP101",
            rule_name: "unbounded-await",
            axis: Axis::Maintenance,
            severity: Severity::Medium,
            location: Location {
                path: path.into(),
                span: Span {
                    start_line: line,
                    end_line: line,
                    ..Span::default()
                },
            },
            message: String::new(),
            help: String::new(),
            related: Vec::new(),
            flow: Vec::new(),
            left_out: None,
            fix: None,
            fingerprint: String::new(),
        }
    }

    #[test]
    fn the_project_path_not_the_display_path_is_hashed() {
        let src: Arc<str> = Arc::from("x = 1\nrequests.get(u)\nrequests.get(u)\n");
        // Shown as `server.py` from a subdirectory, `src/server.py` from the root.
        let mut from_sub = vec![finding("server.py", 2), finding("server.py", 3)];
        let sources = BTreeMap::from([("server.py".to_string(), src.clone())]);
        let paths = BTreeMap::from([("server.py".to_string(), "src/server.py".to_string())]);
        assign(&mut from_sub, &sources, &paths);
        let mut from_root = vec![finding("src/server.py", 2)];
        let sources = BTreeMap::from([("src/server.py".to_string(), src)]);
        assign(&mut from_root, &sources, &BTreeMap::new());
        assert_eq!(from_sub[0].fingerprint, from_root[0].fingerprint);
        // Two findings on identical lines differ by their rank.
        assert_ne!(from_sub[0].fingerprint, from_sub[1].fingerprint);
        assert_eq!(
            from_sub[0].fingerprint,
            of("MCP101", "src/server.py", "requests.get(u)", 0)
        );
    }

    #[test]
    fn relative_paths_are_slashed() {
        let root = Path::new("/r/p");
        assert_eq!(relative_to(Path::new("/r/p/src/a.py"), root), "src/a.py");
        assert_eq!(relative_to(Path::new("/else/a.py"), root), "/else/a.py");
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
    }

    #[test]
    fn the_root_is_the_config_dir_else_the_repository_else_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(top.join("repo/.git")).unwrap();
        std::fs::create_dir_all(top.join("repo/app/src")).unwrap();
        std::fs::write(top.join("repo/app/mcp-audit.toml"), "").unwrap();
        let src = top.join("repo/app/src");
        assert_eq!(
            project_root(
                Some(&top.join("repo/app/mcp-audit.toml")),
                std::slice::from_ref(&src),
                &top
            ),
            top.join("repo/app")
        );
        assert_eq!(
            project_root(None, &[PathBuf::from("src")], &top.join("repo/app")),
            top.join("repo")
        );
        assert_eq!(project_root(None, &[PathBuf::from(".")], &top), top);
    }
}
