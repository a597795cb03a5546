//! The fixtures are the rules' specification, annotated in place:
//! `expect: MCP101` (ids or names, comma-separated) on the line a finding
//! must point at, or alone on the line just above it; `ok: MCP101` on a
//! look-alike that must stay clean. Annotations are read from comment nodes.
//!
//! Strict both ways, for every rule over every fixture: each expected
//! finding is reported at its line, and nothing unannotated is reported.
//! A new rule adds fixture files only.

use mcp_audit::discover::{discover, language_of, Options};
use mcp_audit::{lang, rules, scan, Config};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
struct Annotations {
    /// (path, line, rule id)
    expect: BTreeSet<(String, u32, String)>,
    ok: BTreeSet<(String, u32, String)>,
}

/// The rule keys at the start of `list` (`MCP101, unbounded-await (why)`):
/// ids and names, up to the first word that is neither. A word shaped like
/// a key that names no rule is a typo in the fixture, and fails the test.
fn rule_ids(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in list.split(|c: char| c == ',' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        match rules::lookup(word) {
            Some(r) => out.push(r.id.to_string()),
            None if word.starts_with("MCP") => panic!("annotation names unknown rule {word:?}"),
            None => break,
        }
    }
    out
}

fn annotations(dir: &Path) -> Annotations {
    let mut out = Annotations::default();
    let (files, _) = discover(&[dir.to_path_buf()], &Options::default()).unwrap();
    for f in files {
        let src = std::fs::read_to_string(&f.path).unwrap();
        let m = lang::lower(language_of(&f.path).unwrap(), &f.display, &src)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display));
        let lines: Vec<&str> = src.lines().collect();
        for c in &m.comments {
            let line = c.span.start_line;
            let own_line = lines
                .get(line as usize - 1)
                .is_some_and(|l| l.trim_start().starts_with(c.text.trim_start()));
            let target = if own_line { line + 1 } else { line };
            for (key, set) in [("expect:", &mut out.expect), ("ok:", &mut out.ok)] {
                if let Some(i) = c.text.find(key) {
                    let rest = &c.text[i + key.len()..];
                    let rest = rest.trim_end_matches("*/").trim();
                    for id in rule_ids(rest) {
                        set.insert((f.display.clone(), target, id));
                    }
                }
            }
        }
    }
    out
}

fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs = Vec::new();
    for rule in std::fs::read_dir(&root).unwrap() {
        let rule = rule.unwrap().path();
        if !rule.is_dir() {
            continue;
        }
        for lang in std::fs::read_dir(&rule).unwrap() {
            let lang = lang.unwrap().path();
            if lang.is_dir() {
                dirs.push(lang);
            }
        }
    }
    dirs.sort();
    dirs
}

fn rel(p: &Path) -> PathBuf {
    // Findings carry paths relative to the working directory (the crate root
    // under `cargo test`).
    p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| p.to_path_buf())
}

#[test]
fn every_fixture_folder_reports_exactly_what_it_annotates() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let mut failures = Vec::new();
    let dirs = fixture_dirs();
    assert!(!dirs.is_empty(), "no fixtures found");
    for dir in dirs {
        let dir = rel(&dir);
        let ann = annotations(&dir);
        let report = scan(&Config::default(), std::slice::from_ref(&dir)).unwrap();
        assert!(
            report.skipped.iter().all(|s| s.reason == "empty file"),
            "{}: fixtures must all scan: {:?}",
            dir.display(),
            report.skipped
        );
        let got: BTreeSet<(String, u32, String)> = report
            .findings
            .iter()
            .map(|f| {
                (
                    f.location.path.clone(),
                    f.location.span.start_line,
                    f.rule_id.to_string(),
                )
            })
            .collect();
        for e in ann.expect.difference(&got) {
            failures.push(format!("missing   {}:{} {}", e.0, e.1, e.2));
        }
        for g in got.difference(&ann.expect) {
            let msg = report
                .findings
                .iter()
                .find(|f| f.location.path == g.0 && f.location.span.start_line == g.1)
                .map(|f| f.message.as_str())
                .unwrap_or("");
            let ok = if ann.ok.contains(g) {
                " (marked ok)"
            } else {
                ""
            };
            failures.push(format!("unexpected {}:{} {}{ok}: {msg}", g.0, g.1, g.2));
        }
        for both in ann.expect.intersection(&ann.ok) {
            failures.push(format!(
                "both expect and ok {}:{} {}",
                both.0, both.1, both.2
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// Each rule folder has, per language, flagged forms (`expect:`) and clean
/// look-alikes (`ok:`) for its own rule.
#[test]
fn every_rule_has_flagged_and_clean_fixtures_in_each_language() {
    for r in rules::REGISTRY {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(r.name);
        for lang in ["python", "typescript", "rust"] {
            let d = dir.join(lang);
            assert!(
                d.is_dir(),
                "{} has no {lang} fixtures at {}",
                r.id,
                d.display()
            );
            let ann = annotations(&d);
            let mine =
                |s: &BTreeSet<(String, u32, String)>| s.iter().filter(|a| a.2 == r.id).count();
            assert!(
                mine(&ann.expect) >= 3,
                "{} {lang}: fewer than 3 flagged forms",
                r.id
            );
            assert!(
                mine(&ann.ok) >= 3,
                "{} {lang}: fewer than 3 clean look-alikes",
                r.id
            );
        }
    }
}

/// The prefilter only saves work: with it off, the findings are the same.
#[test]
fn the_prefilter_never_changes_a_finding() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let roots = vec![PathBuf::from("fixtures"), PathBuf::from("examples")];
    let on = scan(&Config::default(), &roots).unwrap();
    let off = scan(
        &Config {
            prefilter: false,
            ..Config::default()
        },
        &roots,
    )
    .unwrap();
    assert!(!on.findings.is_empty());
    assert_eq!(on.findings, off.findings);
}

/// A file named on its own is judged within its package, here this whole
/// repository: it reports exactly what a scan of the package reports in
/// it, the same with the prefilter off. Some fixtures need another file
/// to be reported at all (a client built in one module, a tool in another).
#[test]
fn each_file_named_alone_reports_what_its_package_scan_reports_in_it() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let package = scan(&Config::default(), &[PathBuf::from(".")]).unwrap();
    let no_prefilter = Config {
        prefilter: false,
        ..Config::default()
    };
    let (files, _) = discover(
        &[PathBuf::from("fixtures"), PathBuf::from("examples")],
        &Options::default(),
    )
    .unwrap();
    let mut needed_context = 0;
    for f in &files {
        let want: Vec<_> = package
            .findings
            .iter()
            .filter(|x| x.location.path == f.display)
            .cloned()
            .collect();
        let alone = scan(&Config::default(), std::slice::from_ref(&f.path)).unwrap();
        assert_eq!(alone.findings, want, "{} named alone", f.display);
        assert_eq!(alone.files_discovered, 1, "{}", f.display);
        let off = scan(&no_prefilter, std::slice::from_ref(&f.path)).unwrap();
        assert_eq!(off.findings, want, "{} with --no-prefilter", f.display);
        needed_context += usize::from(
            !want
                .iter()
                .all(|x| x.related.iter().all(|r| r.location.path == x.location.path)),
        );
    }
    assert!(needed_context > 0, "no fixture reaches across files");
}
