//! Suppressions: inline ignores, per-path ignores from the config, and the
//! baseline.
//!
//! Inline, in any comment (found through the comment nodes the adapters
//! record, so a string that looks like one does not count):
//!
//! - `# mcp-audit: ignore[MCP101] reason` / `// mcp-audit: ignore[unbounded-await] reason`
//!   at the end of the flagged line, or alone on the line just above it;
//! - `mcp-audit: ignore-file[MCP101]` anywhere in the file: the whole file;
//! - `ignore` / `ignore-file` with no brackets: every rule.
//!
//! A list hides only the rules it names that exist; a key that names no
//! rule hides nothing (a typo must not widen a suppression to every rule).
//! A suppression that silences nothing, names an unknown rule, lists no rule
//! or never closes its `[` is itself reported (MCP001 unused-suppression),
//! so stale and mistyped ones do not pile up. "Silences nothing" is judged
//! only for rules that ran, since one that did not cannot have matched.

use crate::facts::{Module, Span};
use crate::finding::{Axis, Finding, Location, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

pub use crate::rules::unused_suppression::{ID as UNUSED_ID, NAME as UNUSED_NAME};

/// The text that starts every inline suppression.
pub const MARKER: &str = "mcp-audit:";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub span: Span,
    /// The line it covers; `None` for a file-level suppression.
    pub line: Option<u32>,
    /// The bare form (`ignore`, `ignore-file`): every rule.
    pub every: bool,
    /// Rule ids of its list that exist.
    pub rules: Vec<String>,
    /// Rule keys of its list that name no rule.
    pub unknown: Vec<String>,
    /// Why it is malformed (an empty list, an unclosed `[`): it hides
    /// nothing.
    pub malformed: Option<&'static str>,
}

/// The suppressions written in a module's comments.
pub fn parse(module: &Module, source: &str) -> Vec<Suppression> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for c in &module.comments {
        let Some(at) = c.text.find(MARKER) else {
            continue;
        };
        let rest = c.text[at + MARKER.len()..].trim_start();
        let (file_level, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("ignore") {
            (false, r)
        } else {
            continue;
        };
        let mut rules = Vec::new();
        let mut unknown = Vec::new();
        let mut malformed = None;
        let every = if let Some(list) = rest.strip_prefix('[') {
            match list.find(']') {
                None => malformed = Some("its `[` is never closed"),
                Some(end) => {
                    for key in list[..end]
                        .split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                    {
                        match rule_key(key) {
                            Some(id) => rules.push(id.to_string()),
                            None => unknown.push(key.to_string()),
                        }
                    }
                    if rules.is_empty() && unknown.is_empty() {
                        malformed = Some("its rule list is empty");
                    }
                }
            }
            false
        } else if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            true
        } else {
            // `ignored`, `ignore-me`: not our syntax.
            continue;
        };
        let line = if file_level {
            None
        } else {
            let l = c.span.start_line;
            let alone = lines
                .get(l as usize - 1)
                .is_some_and(|t| t.trim_start().starts_with(c.text.trim_start()));
            Some(if alone { l + 1 } else { l })
        };
        out.push(Suppression {
            span: c.span,
            line,
            every,
            rules,
            unknown,
            malformed,
        });
    }
    out
}

/// A rule id for `key` (an id or a name, any case), `MCP001` included.
pub fn rule_key(key: &str) -> Option<&'static str> {
    crate::rules::lookup(key).map(|r| r.id)
}

impl Suppression {
    fn covers(&self, f: &Finding) -> bool {
        let line_ok = self.line.is_none_or(|l| l == f.location.span.start_line);
        line_ok && (self.every || self.rules.iter().any(|r| r == f.rule_id))
    }

    /// Why this suppression is reported, if it is: `used` says whether it
    /// hid a finding, `rules_run` which rules could have been hidden.
    fn problem(&self, used: bool, rules_run: &[&str]) -> Option<String> {
        if let Some(why) = self.malformed {
            return Some(format!("malformed suppression: {why}, so it hides nothing"));
        }
        if !self.unknown.is_empty() {
            let keys = self.unknown.join(", ");
            return Some(if self.rules.is_empty() {
                format!("suppression names no rule mcp-audit knows ({keys}), so it hides nothing")
            } else {
                format!(
                    "suppression names no rule mcp-audit knows ({keys}); it hides {} only",
                    self.rules.join(", ")
                )
            });
        }
        let ran_all = self.rules.iter().all(|r| rules_run.contains(&r.as_str()));
        (!used && ran_all).then(|| {
            if self.every {
                "suppression matches no finding".to_string()
            } else {
                format!(
                    "suppression of {} matches no finding",
                    self.rules.join(", ")
                )
            }
        })
    }
}

/// Drops the findings the modules' inline suppressions cover, and reports
/// the suppressions that covered nothing among `rules_run`.
pub fn apply_inline(
    findings: Vec<Finding>,
    suppressions: &BTreeMap<String, Vec<Suppression>>,
    rules_run: &[&str],
    report_unused: bool,
) -> Vec<Finding> {
    let mut used: HashSet<(String, usize)> = HashSet::new();
    let mut kept = Vec::with_capacity(findings.len());
    for f in findings {
        let hit = suppressions
            .get(&f.location.path)
            .and_then(|ss| ss.iter().position(|s| s.covers(&f)));
        match hit {
            Some(i) => {
                used.insert((f.location.path.clone(), i));
            }
            None => kept.push(f),
        }
    }
    if !report_unused {
        return kept;
    }
    for (path, ss) in suppressions {
        for (i, s) in ss.iter().enumerate() {
            if let Some(what) = s.problem(used.contains(&(path.clone(), i)), rules_run) {
                let help = if s.unknown.is_empty() && s.malformed.is_none() {
                    "remove the suppression: nothing is left for it to hide"
                } else {
                    "write the rule's id or name (`mcp-audit rules` lists them), `ignore` alone for every rule, or remove the suppression"
                };
                kept.push(Finding {
                    rule_id: UNUSED_ID,
                    rule_name: UNUSED_NAME,
                    axis: Axis::Maintenance,
                    severity: Severity::Low,
                    location: Location {
                        path: path.clone(),
                        span: s.span,
                    },
                    message: what,
                    help: help.into(),
                    related: Vec::new(),
                    flow: Vec::new(),
                    left_out: None,
                    fix: None,
                    fingerprint: String::new(),
                });
            }
        }
    }
    kept
}

/// Per-path ignores from the config: glob → rule ids or names. Globs match
/// a finding's path relative to the project root (the config file's
/// directory), found in `project_paths` by display path.
pub fn apply_per_path(
    findings: Vec<Finding>,
    per_path: &[(globset::GlobMatcher, Vec<String>)],
    project_paths: &BTreeMap<String, String>,
) -> Vec<Finding> {
    if per_path.is_empty() {
        return findings;
    }
    findings
        .into_iter()
        .filter(|f| {
            let path = project_paths
                .get(&f.location.path)
                .unwrap_or(&f.location.path);
            !per_path.iter().any(|(glob, ids)| {
                glob.is_match(path) && (ids.is_empty() || ids.iter().any(|i| i == f.rule_id))
            })
        })
        .collect()
}

pub const BASELINE_VERSION: u32 = 1;

/// The baseline file: known findings by fingerprint. Entries are sorted by
/// path, rule and fingerprint, not by line, so the file does not change
/// when code moves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// First, so entries sort by it.
    pub path: String,
    pub rule: String,
    pub fingerprint: String,
    pub message: String,
}

impl Baseline {
    /// A baseline of `findings`; paths relative to the project root, from
    /// `project_paths` (by display path).
    pub fn of(findings: &[Finding], project_paths: &BTreeMap<String, String>) -> Baseline {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                path: project_paths
                    .get(&f.location.path)
                    .unwrap_or(&f.location.path)
                    .clone(),
                rule: f.rule_id.to_string(),
                fingerprint: f.fingerprint.clone(),
                message: f.message.clone(),
            })
            .collect();
        entries.sort();
        entries.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        Baseline {
            version: BASELINE_VERSION,
            findings: entries,
        }
    }

    /// What `--write-baseline` records after a scan that read `old` (when
    /// `--baseline` was given too): every finding of this scan, those the
    /// old baseline hid included, so none comes back; and the old entries
    /// this scan could not judge, because their rule did not run or their
    /// file was not scanned (another path, a file now skipped). Old entries
    /// of rules that ran on files that were scanned and found nothing are
    /// fixed, and dropped.
    pub fn updated(old: Option<&Baseline>, report: &crate::Report) -> Baseline {
        let all: Vec<Finding> = report
            .findings
            .iter()
            .chain(&report.baselined)
            .cloned()
            .collect();
        let mut b = Baseline::of(&all, &report.project_paths);
        let scanned: HashSet<&str> = report.project_paths.values().map(String::as_str).collect();
        let have: HashSet<String> = b.findings.iter().map(|e| e.fingerprint.clone()).collect();
        for e in old.map(|o| o.findings.as_slice()).unwrap_or_default() {
            let judged = if e.rule == UNUSED_ID {
                report.unused_reported
            } else {
                report.rules_run.contains(&e.rule.as_str())
            };
            let still_known = have.contains(&e.fingerprint);
            let unjudged = !(judged && scanned.contains(e.path.as_str()));
            if unjudged && !still_known {
                b.findings.push(e.clone());
            }
        }
        b.findings.sort();
        b
    }

    /// Splits findings into those the baseline does not know (reported)
    /// and those it does (left out).
    pub fn split(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>) {
        let known: HashSet<&str> = self
            .findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        findings
            .into_iter()
            .partition(|f| !known.contains(f.fingerprint.as_str()))
    }

    /// Keeps the findings the baseline does not know.
    pub fn filter(&self, findings: Vec<Finding>) -> Vec<Finding> {
        self.split(findings).0
    }

    /// Writes the baseline, pretty-printed, to `path`.
    pub fn write(&self, path: &std::path::Path) -> Result<(), String> {
        let json = serde_json::to_string_pretty(self).expect("baseline serializes") + "\n";
        std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Lang;

    fn sups(lang: Lang, path: &str, src: &str) -> Vec<Suppression> {
        let m = crate::lang::lower(lang, path, src).unwrap();
        parse(&m, src)
    }

    #[test]
    fn inline_forms_and_their_lines() {
        let src = "import requests\n\
                   requests.get(u)  # mcp-audit: ignore[MCP101] upstream is local\n\
                   # mcp-audit: ignore[unbounded-await, MCP999]\n\
                   requests.get(u)\n\
                   x = '# mcp-audit: ignore[MCP101]'\n\
                   # mcp-audit: ignore-file\n\
                   # mcp-audit: ignored\n";
        let s = sups(Lang::Python, "a.py", src);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].line, Some(2));
        assert_eq!(s[0].rules, vec!["MCP101"]);
        assert_eq!(s[1].line, Some(4));
        assert_eq!(s[1].rules, vec!["MCP101"]);
        assert_eq!(s[1].unknown, vec!["MCP999"]);
        assert!(!s[1].every);
        assert_eq!(s[2].line, None);
        assert!(s[2].every && s[2].rules.is_empty());
    }

    fn finding(rule_id: &'static str, line: u32) -> Finding {
        Finding {
            rule_id,
            rule_name: "r",
            axis: Axis::Maintenance,
            severity: Severity::Medium,
            location: Location {
                path: "a.py".into(),
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

    /// (rule, line) of what `apply_inline` keeps for one finding of each
    /// of `rules` on line 2, under a suppression `comment` on that line.
    fn kept(comment: &str, rules: &[&'static str]) -> Vec<(String, u32)> {
        let src = format!("import requests\nrequests.get(u)  # {comment}\n");
        let map = BTreeMap::from([("a.py".to_string(), sups(Lang::Python, "a.py", &src))]);
        let findings = rules.iter().map(|r| finding(r, 2)).collect();
        apply_inline(findings, &map, &["MCP001", "MCP101"], true)
            .into_iter()
            .map(|f| (f.rule_id.to_string(), f.location.span.start_line))
            .collect()
    }

    #[test]
    fn an_unknown_rule_hides_nothing_and_is_reported() {
        let k = kept("mcp-audit: ignore[MCP999]", &["MCP101"]);
        assert_eq!(k, [("MCP101".into(), 2), ("MCP001".into(), 2)]);
        // Mixed: the known key hides its rule, the unknown one is reported.
        let k = kept("mcp-audit: ignore[MCP101, MCP999]", &["MCP101"]);
        assert_eq!(k, [("MCP001".into(), 2)]);
        // An empty list or an unclosed `[` hides nothing either.
        for c in ["mcp-audit: ignore[]", "mcp-audit: ignore[MCP101"] {
            let k = kept(c, &["MCP101"]);
            assert_eq!(k, [("MCP101".into(), 2), ("MCP001".into(), 2)], "{c}");
        }
        // The bare form hides every rule.
        assert!(kept("mcp-audit: ignore", &["MCP101"]).is_empty());
    }

    #[test]
    fn messages_name_the_unknown_key() {
        let src = "import requests\nrequests.get(u)  # mcp-audit: ignore[MCP1O1]\n";
        let map = BTreeMap::from([("a.py".to_string(), sups(Lang::Python, "a.py", src))]);
        let out = apply_inline(vec![finding("MCP101", 2)], &map, &["MCP101"], true);
        let unused = out.iter().find(|f| f.rule_id == UNUSED_ID).unwrap();
        assert!(unused.message.contains("MCP1O1"), "{}", unused.message);
        assert!(
            unused.message.contains("hides nothing"),
            "{}",
            unused.message
        );
        // With MCP001 turned off, nothing is reported, and nothing hidden.
        let out = apply_inline(vec![finding("MCP101", 2)], &map, &["MCP101"], false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule_id, "MCP101");
    }

    #[test]
    fn typescript_and_rust_comments() {
        let s = sups(
            Lang::TypeScript,
            "a.ts",
            "fetch(u); // mcp-audit: ignore[MCP101]\n",
        );
        assert_eq!(s[0].line, Some(1));
        let s = sups(
            Lang::Rust,
            "a.rs",
            "fn f() {\n    /* mcp-audit: ignore[MCP101] */\n    g();\n}\n",
        );
        assert_eq!(s[0].line, Some(3));
    }
}
