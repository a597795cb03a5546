//! `mcp-audit verify`: every rule proven on running servers.
//!
//! For each rule with a runnable case (`fixtures/<rule-name>/verify.toml`
//! and `<lang>-flagged/`, `<lang>-fixed/` servers), in each language:
//!
//! 1. the static scan must report the rule in the flagged server and not in
//!    the fixed one;
//! 2. under the scenario's fault, from a fault-injecting upstream on
//!    127.0.0.1, the flagged server (on the real SDK) must show the failure
//!    and the fixed one must not;
//! 3. where the rule's findings in the flagged server carry fixes, the
//!    server as `mcp-audit --fix` leaves it must re-scan clean of the rule
//!    and pass the scenario too.
//!
//! The environments (a virtualenv with `mcp`, `npm ci` of the TypeScript
//! SDK, the Rust servers on `rmcp`) are installed from the pins in
//! `verify/` on first use.

pub mod case;
mod env;
mod scenario;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};

use crate::fix;
use crate::Config;
use case::{Case, Lang, ScenarioKind, Variant};
pub use scenario::Observation;

/// What to verify, and where.
#[derive(Clone, Debug)]
pub struct Options {
    /// The repository checkout (holds `fixtures/` and `verify/`).
    pub root: PathBuf,
    /// Where environments are installed; `<root>/target/verify` if unset.
    pub work: Option<PathBuf>,
    /// Rule ids or names; all when empty.
    pub rules: Vec<String>,
    /// Languages; all when empty.
    pub langs: Vec<Lang>,
    /// Cases run at once.
    pub jobs: usize,
    /// The Python the virtualenv is made from.
    pub python: String,
    /// No progress on stderr.
    pub quiet: bool,
}

/// The static half of a case: what the scan reports in one server.
#[derive(Clone, Debug)]
pub struct StaticCheck {
    pub ok: bool,
    pub detail: String,
}

/// `--fix` applied to a copy of the flagged server.
#[derive(Clone, Debug)]
pub struct FixProof {
    /// Fixes applied.
    pub applied: usize,
    /// Findings of the rule that remain after the fixes.
    pub remaining: Vec<String>,
    /// The scenario, run on the fixed copy.
    pub run: Result<Observation, String>,
}

impl FixProof {
    pub fn ok(&self) -> bool {
        self.applied > 0 && self.remaining.is_empty() && matches!(&self.run, Ok(o) if !o.failed)
    }
}

/// Everything verified about one rule in one language.
pub struct CaseResult {
    pub case: Case,
    pub static_flagged: StaticCheck,
    pub static_fixed: StaticCheck,
    pub flagged: Result<Observation, String>,
    pub fixed: Result<Observation, String>,
    /// `None` when the rule's findings here carry no fix.
    pub fix: Option<FixProof>,
}

impl CaseResult {
    pub fn static_ok(&self) -> bool {
        self.static_flagged.ok && self.static_fixed.ok
    }

    pub fn dynamic_ok(&self) -> bool {
        matches!(&self.flagged, Ok(o) if o.failed) && matches!(&self.fixed, Ok(o) if !o.failed)
    }

    pub fn ok(&self) -> bool {
        self.static_ok() && self.dynamic_ok() && self.fix.as_ref().is_none_or(FixProof::ok)
    }
}

/// Runs every case `opts` selects. An error is a set-up failure (no cases,
/// an environment that does not install); a case that does not hold is a
/// result.
pub fn run(opts: &Options) -> Result<Vec<CaseResult>, String> {
    let cases = case::load(&opts.root, &opts.rules, &opts.langs)?;
    if cases.is_empty() {
        return Err("no runnable cases match: see verify/README.md for how to add one".into());
    }
    let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let env = env::Env {
        root: abs(opts.root.clone()),
        work: abs(opts
            .work
            .clone()
            .unwrap_or_else(|| opts.root.join("target").join("verify"))),
        python: opts.python.clone(),
    };
    let mut langs: Vec<Lang> = cases.iter().map(|c| c.lang).collect();
    langs.sort();
    langs.dedup();
    env.prepare(&langs, opts.quiet)?;

    let config = Config::default();
    // The fixed copies live in temporary folders outside the repository
    // (whose ignore files would hide them from the scan) until the end.
    let scratch = tempfile::Builder::new()
        .prefix("mcp-audit-verify-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let mut prepared = Vec::new();
    let mut rust_bins = Vec::new();
    for case in cases {
        let static_flagged = static_check(&config, &case, Variant::Flagged);
        let static_fixed = static_check(&config, &case, Variant::Fixed);
        let fix = fix_copy(&config, &case, scratch.path())?;
        if let (Some((_, _, Some(file))), Lang::Rust) = (&fix, case.lang) {
            rust_bins.push((case.bin_name(Variant::FixedByTool), file.clone()));
        }
        prepared.push((case, static_flagged, static_fixed, fix));
    }
    env.build_rust_fixed(&rust_bins, opts.quiet)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let env = Arc::new(env);
    let quiet = opts.quiet;
    let jobs = opts.jobs.max(1);
    let results = rt.block_on(async move {
        let runs = prepared
            .into_iter()
            .map(|(case, static_flagged, static_fixed, fix)| {
                let env = env.clone();
                async move {
                    if !quiet {
                        eprintln!("verify: running {} in {}", case.rule.id, case.lang.title());
                    }
                    let flagged = dynamic(&env, &case, Variant::Flagged, None).await;
                    let fixed = dynamic(&env, &case, Variant::Fixed, None).await;
                    let fix = match fix {
                        None => None,
                        Some((applied, remaining, file)) => {
                            let run = match file {
                                Some(f) => {
                                    dynamic(&env, &case, Variant::FixedByTool, Some(&f)).await
                                }
                                None => Err("`--fix` changed nothing".into()),
                            };
                            Some(FixProof {
                                applied,
                                remaining,
                                run,
                            })
                        }
                    };
                    CaseResult {
                        case,
                        static_flagged,
                        static_fixed,
                        flagged,
                        fixed,
                        fix,
                    }
                }
            });
        // Cases run a few at a time; each has its own upstream and servers.
        let mut out: Vec<(usize, CaseResult)> = stream::iter(runs.enumerate())
            .map(|(i, f)| async move { (i, f.await) })
            .buffer_unordered(jobs)
            .collect()
            .await;
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, r)| r).collect::<Vec<_>>()
    });
    drop(scratch);
    Ok(results)
}

async fn dynamic(
    env: &env::Env,
    case: &Case,
    variant: Variant,
    file: Option<&Path>,
) -> Result<Observation, String> {
    let cmd = env.command(case, variant, file)?;
    scenario::observe(&case.params, variant, cmd).await
}

fn static_check(config: &Config, case: &Case, variant: Variant) -> StaticCheck {
    let dir = case.dir(variant);
    let report = match crate::scan(config, &[dir.to_path_buf()]) {
        Ok(r) => r,
        Err(e) => {
            return StaticCheck {
                ok: false,
                detail: format!("the scan failed: {e}"),
            }
        }
    };
    let lines: Vec<u32> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == case.rule.id)
        .map(|f| f.location.span.start_line)
        .collect();
    let file = case.lang.server_file();
    let at = lines
        .iter()
        .map(|l| format!("{file}:{l}"))
        .collect::<Vec<_>>()
        .join(", ");
    match variant {
        Variant::Flagged => StaticCheck {
            ok: !lines.is_empty(),
            detail: if lines.is_empty() {
                format!("{} not reported", case.rule.id)
            } else {
                format!("reported at {at}")
            },
        },
        _ => StaticCheck {
            ok: lines.is_empty(),
            detail: if lines.is_empty() {
                "clean".into()
            } else {
                format!("{} still reported at {at}", case.rule.id)
            },
        },
    }
}

/// Copies the flagged server into `scratch` and applies `--fix` there.
/// `None` when none of the rule's findings in it carries a fix; else the
/// fixes applied, what the re-scan still reports of the rule, and the
/// fixed file (if anything changed).
#[allow(clippy::type_complexity)]
fn fix_copy(
    config: &Config,
    case: &Case,
    scratch: &Path,
) -> Result<Option<(usize, Vec<String>, Option<PathBuf>)>, String> {
    let report = crate::scan(config, std::slice::from_ref(&case.flagged_dir))
        .map_err(|e| format!("{}: {e}", case.flagged_dir.display()))?;
    let fixable = report
        .findings
        .iter()
        .any(|f| f.rule_id == case.rule.id && f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()));
    if !fixable {
        return Ok(None);
    }
    let dir = scratch
        .join(case.rule.name)
        .join(format!("{}-flagged", case.lang));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let copy = dir.join(case.lang.server_file());
    std::fs::copy(case.server(Variant::Flagged), &copy)
        .map_err(|e| format!("cannot copy {}: {e}", copy.display()))?;
    let outcome = fix::run(config, std::slice::from_ref(&dir), &[])
        .map_err(|e| format!("--fix on {}: {e}", copy.display()))?;
    let mut applied = 0;
    for f in &outcome.files {
        std::fs::write(&f.path, &f.fixed).map_err(|e| format!("cannot write {}: {e}", f.path))?;
        applied += f
            .applied
            .iter()
            .filter(|a| a.rule_id == case.rule.id)
            .count();
    }
    let remaining = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.rule_id == case.rule.id)
        .map(|f| format!("line {}: {}", f.location.span.start_line, f.message))
        .collect();
    Ok(Some((
        applied,
        remaining,
        (!outcome.files.is_empty()).then_some(copy),
    )))
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

/// The report for a terminal: each case, what was seen, and a summary.
pub fn render_text(results: &[CaseResult]) -> String {
    let mut out = String::new();
    for r in results {
        let c = &r.case;
        out.push_str(&format!(
            "{} {} · {}\n",
            c.rule.id,
            c.rule.name,
            c.lang.title()
        ));
        out.push_str(&format!(
            "  {} static    flagged: {}; fixed: {}\n",
            mark(r.static_ok()),
            r.static_flagged.detail,
            r.static_fixed.detail
        ));
        let line = |variant: Variant, o: &Result<Observation, String>| -> String {
            let (ok, what) = match o {
                Ok(o) if o.failed == variant.should_fail() => (
                    true,
                    if o.failed {
                        format!("fails as flagged: {}", o.detail)
                    } else {
                        format!("holds: {}", o.detail)
                    },
                ),
                Ok(o) => (
                    false,
                    if o.failed {
                        format!("FAILS: {}", o.detail)
                    } else {
                        format!("does NOT show the failure: {}", o.detail)
                    },
                ),
                Err(e) => (false, format!("could not run: {e}")),
            };
            format!("  {} {:<9} {what}\n", mark(ok), variant.key())
        };
        out.push_str(&line(Variant::Flagged, &r.flagged));
        out.push_str(&line(Variant::Fixed, &r.fixed));
        if let Some(f) = &r.fix {
            let scan = if f.remaining.is_empty() {
                format!("{} fix(es) applied, re-scan clean", f.applied)
            } else {
                format!(
                    "{} fix(es) applied, re-scan still reports {}",
                    f.applied,
                    f.remaining.join("; ")
                )
            };
            let run = match &f.run {
                Ok(o) if !o.failed => format!("holds: {}", o.detail),
                Ok(o) => format!("FAILS: {}", o.detail),
                Err(e) => format!("could not run: {e}"),
            };
            out.push_str(&format!("  {} --fix     {scan}; {run}\n", mark(f.ok())));
        }
    }
    let held = results.iter().filter(|r| r.ok()).count();
    out.push_str(&format!(
        "\n{held} of {} cases hold (static scan, flagged and fixed servers under fault{})\n",
        results.len(),
        if results.iter().any(|r| r.fix.is_some()) {
            ", --fix"
        } else {
            ""
        }
    ));
    out
}

/// What each scenario provokes, for the table.
fn failure(kind: ScenarioKind) -> &'static str {
    match kind {
        ScenarioKind::Hang => "the upstream hangs: the call runs past 3× its budget",
        ScenarioKind::RetryStorm => "a 503: retries go out at once, with no wait",
        ScenarioKind::NoBreaker => "the upstream is down: every call still reaches it",
        ScenarioKind::BreakerCrossTrip => "one upstream down: calls to a healthy one refused",
        ScenarioKind::PoolWait => "pool held by slow calls: the next call waits past its budget",
        ScenarioKind::BlockingStall => "one blocking call stalls a concurrent call",
        ScenarioKind::Partial => "one source fails: the whole answer fails",
        ScenarioKind::FanOut => "a 40-item call: more requests in flight than the limit",
        ScenarioKind::AuthDown => "the auth service is down: access is granted",
        ScenarioKind::Leak => "an upstream error: its path, host or SQL reaches the model",
        ScenarioKind::DoubleMutation => "one intent retried: two mutations applied",
        ScenarioKind::ReadOnlyMutates => "a tool declared read-only mutates",
    }
}

/// The README's table: rule × language × (static, dynamic), and the
/// languages where `--fix` was proven. Only marks, so a rerun that holds
/// gives the same text.
pub fn render_table(results: &[CaseResult]) -> String {
    let mut out = String::from(
        "| Rule | Failure provoked | Python static | Python dynamic | TypeScript static | \
         TypeScript dynamic | Rust static | Rust dynamic | `--fix` proven |\n\
         |---|---|:-:|:-:|:-:|:-:|:-:|:-:|---|\n",
    );
    let mut rules: Vec<&'static crate::rules::Rule> = Vec::new();
    for r in results {
        if !rules.iter().any(|x| x.id == r.case.rule.id) {
            rules.push(r.case.rule);
        }
    }
    for rule in rules {
        let of = |lang: Lang| {
            results
                .iter()
                .find(|r| r.case.rule.id == rule.id && r.case.lang == lang)
        };
        let kind = results
            .iter()
            .find(|r| r.case.rule.id == rule.id)
            .map(|r| r.case.params.scenario)
            .unwrap_or(ScenarioKind::Hang);
        let mut row = format!("| {} {} | {} |", rule.id, rule.name, failure(kind));
        let mut fixed_langs = Vec::new();
        for lang in Lang::ALL {
            match of(lang) {
                Some(r) => {
                    row.push_str(&format!(
                        " {} | {} |",
                        mark(r.static_ok()),
                        mark(r.dynamic_ok())
                    ));
                    if let Some(f) = &r.fix {
                        fixed_langs.push(format!("{} {}", lang.title(), mark(f.ok())));
                    }
                }
                None => row.push_str(" — | — |"),
            }
        }
        row.push_str(&format!(
            " {} |\n",
            if fixed_langs.is_empty() {
                "—".to_string()
            } else {
                fixed_langs.join(", ")
            }
        ));
        out.push_str(&row);
    }
    out
}

/// The markers around the table in the README.
pub const TABLE_START: &str =
    "<!-- verify-table:start (generated by `mcp-audit verify --update-readme`) -->";
pub const TABLE_END: &str = "<!-- verify-table:end -->";

/// `readme` with the text between the table markers replaced by `table`;
/// `None` when the markers are missing.
pub fn with_table(readme: &str, table: &str) -> Option<String> {
    let start = readme.find(TABLE_START)? + TABLE_START.len();
    let end = start + readme[start..].find(TABLE_END)?;
    Some(format!("{}\n{}{}", &readme[..start], table, &readme[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_replaces_only_what_is_between_the_markers() {
        let readme = format!("# T\n\nbefore\n{TABLE_START}\nold | table\n{TABLE_END}\nafter\n");
        let new = with_table(&readme, "| new |\n").unwrap();
        assert_eq!(
            new,
            format!("# T\n\nbefore\n{TABLE_START}\n| new |\n{TABLE_END}\nafter\n")
        );
        // Idempotent: a second run changes nothing.
        assert_eq!(with_table(&new, "| new |\n").unwrap(), new);
        assert!(with_table("no markers", "x").is_none());
    }

    #[test]
    fn a_case_needs_both_servers_and_known_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let rule = dir.path().join("fixtures/unbounded-await");
        std::fs::create_dir_all(rule.join("python-flagged")).unwrap();
        std::fs::write(
            rule.join("verify.toml"),
            "scenario = \"hang\"\ntool = \"t\"\nroute = \"/r\"\nbudget_ms = 10\n",
        )
        .unwrap();
        std::fs::write(rule.join("python-flagged/server.py"), "").unwrap();
        let err = case::load(dir.path(), &[], &[]).err().unwrap();
        assert!(err.contains("needs both"), "{err}");

        std::fs::create_dir_all(rule.join("python-fixed")).unwrap();
        std::fs::write(rule.join("python-fixed/server.py"), "").unwrap();
        let cases = case::load(dir.path(), &[], &[]).unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].params.budget_ms, Some(10));

        std::fs::write(
            rule.join("verify.toml"),
            "scenario = \"hang\"\ntool = \"t\"\nbudjet_ms = 10\n",
        )
        .unwrap();
        let err = case::load(dir.path(), &[], &[]).err().unwrap();
        assert!(err.contains("budjet_ms"), "{err}");
    }

    #[test]
    fn a_language_table_overrides_the_shared_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let rule = dir.path().join("fixtures/blocking-call-in-async");
        for v in [
            "rust-flagged",
            "rust-fixed",
            "python-flagged",
            "python-fixed",
        ] {
            std::fs::create_dir_all(rule.join(v)).unwrap();
        }
        for f in ["rust-flagged/main.rs", "rust-fixed/main.rs"] {
            std::fs::write(rule.join(f), "").unwrap();
        }
        for f in ["python-flagged/server.py", "python-fixed/server.py"] {
            std::fs::write(rule.join(f), "").unwrap();
        }
        std::fs::write(
            rule.join("verify.toml"),
            "scenario = \"blocking-stall\"\ntool = \"ping\"\nslow_calls = 1\n[rust]\nslow_calls = 4\n",
        )
        .unwrap();
        let cases = case::load(dir.path(), &[], &[]).unwrap();
        let calls: Vec<(Lang, Option<u32>)> = cases
            .iter()
            .map(|c| (c.lang, c.params.slow_calls))
            .collect();
        assert_eq!(calls, [(Lang::Python, Some(1)), (Lang::Rust, Some(4))]);
    }
}
