//! mcp-audit: audits the source code of MCP servers (Python, TypeScript /
//! JavaScript, Rust) for resilience and security gaps.
//!
//! [`scan`] is the one entry point: discover → read, prefilter, parse and
//! lower each file in parallel (the tree is dropped as soon as its facts are
//! built) → link the facts of all files → run the rules per module in
//! parallel → sort and fingerprint → baseline → grade.

pub mod config;
pub mod discover;
pub mod facts;
pub mod finding;
pub mod fingerprint;
pub mod grade;
pub mod knowledge;
pub mod lang;
pub mod link;
pub mod package;
pub mod report;
pub mod rules;
pub mod suppress;

use finding::{Finding, Skipped, Warning};
use knowledge::Knowledge;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// Files larger than this are skipped unless the user raises it.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

/// Stack for worker threads: lowering recurses up to `lang::MAX_DEPTH`
/// levels, and debug builds use large frames.
const WORKER_STACK: usize = 64 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Config {
    /// Rule ids or names to run; empty = all.
    pub select: Vec<String>,
    /// Rule ids or names not to run.
    pub ignore: Vec<String>,
    /// Extra knowledge packs.
    pub knowledge: Vec<PathBuf>,
    /// Worker threads; `None` or 0 = one per core. At most
    /// [`config::max_jobs`], whatever is asked.
    pub jobs: Option<usize>,
    pub max_file_size: u64,
    /// Skip files that mention nothing any rule looks at. Never changes a
    /// finding; off only to prove that.
    pub prefilter: bool,
    pub discover: discover::Options,
    /// Config `per-path-ignores`: findings of these rules (all, when empty)
    /// under paths matching the glob, relative to `root`, are dropped.
    pub per_path_ignores: Vec<(globset::GlobMatcher, Vec<String>)>,
    /// Report only findings this baseline does not know.
    pub baseline: Option<suppress::Baseline>,
    /// Report findings in code no MCP entry point reaches too (`--scope
    /// all`), marked as left out; by default they are only counted.
    pub scope_all: bool,
    /// The project root that fingerprints, baselines and per-path ignores
    /// are relative to (see [`fingerprint::project_root`]); `None` = the
    /// working directory.
    pub root: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            select: Vec::new(),
            ignore: Vec::new(),
            knowledge: Vec::new(),
            jobs: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            prefilter: true,
            discover: discover::Options::default(),
            per_path_ignores: Vec::new(),
            baseline: None,
            scope_all: false,
            root: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error(transparent)]
    Knowledge(#[from] knowledge::KnowledgeError),
    #[error("unknown rule {0:?} (see `mcp-audit rules`)")]
    UnknownRule(String),
    #[error("{0}: not a Python, TypeScript, JavaScript or Rust file name")]
    UnknownLanguage(String),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct Report {
    /// Sorted by path, line, column, rule.
    pub findings: Vec<Finding>,
    /// Files not scanned, and why; sorted by path.
    pub skipped: Vec<Skipped>,
    /// Files discovered in a known language.
    pub files_discovered: usize,
    /// Discovered files that were read and examined: `files_discovered`
    /// less the discovered files that were skipped.
    pub files_scanned: usize,
    /// Files parsed (the rest were skipped or had nothing any rule looks at).
    pub files_parsed: usize,
    /// MCP tool handlers found.
    pub tools: usize,
    /// MCP entry points of every kind found (tools, resources, prompts,
    /// request handlers, auth checks, routes).
    pub entry_points: usize,
    /// Findings in code no MCP server runs, by reason: left out of
    /// `findings` unless `--scope all`, where they stay, marked.
    pub left_out: BTreeMap<finding::LeftOut, usize>,
    /// `--scope all`: left-out findings are in `findings`, marked.
    pub scope_all: bool,
    /// The rules that ran, by id.
    pub rules_run: Vec<&'static str>,
    /// Whether unused suppressions were reported (MCP001 selected).
    pub unused_reported: bool,
    /// The text of every file with a finding, by display path.
    pub sources: BTreeMap<String, Arc<str>>,
    /// Scores and letters from `findings` (see [`grade`]).
    pub grades: grade::Grades,
    /// What the user must know about the scan itself (nothing scanned).
    pub warnings: Vec<Warning>,
    /// Findings the baseline knows, left out of `findings`; in the same
    /// order. `--write-baseline` records them with `findings`.
    pub baselined: Vec<Finding>,
    /// The display path of every scanned file → its path relative to the
    /// project root (what fingerprints and the baseline use).
    pub project_paths: BTreeMap<String, String>,
}

impl Report {
    /// What the scope left out, in one sentence for people; `None` when
    /// there is nothing to say. Every format prints the same words.
    pub fn scope_note(&self) -> Option<String> {
        let n: usize = self.left_out.values().sum();
        let reasons = self
            .left_out
            .iter()
            .map(|(why, k)| format!("{k} in {}", why.describe()))
            .collect::<Vec<_>>()
            .join(", ");
        let s = if n == 1 { "" } else { "s" };
        if self.entry_points == 0 && self.files_parsed > 0 {
            let what = if n == 0 {
                String::new()
            } else if self.scope_all {
                format!("; {n} finding{s} reported with --scope all")
            } else {
                format!("; {n} finding{s} left out")
            };
            return Some(format!(
                "no MCP server found in these paths (no tool, resource, prompt or request handler){what}: findings are reported only in code an MCP server runs; `--scope all` reports every one"
            ));
        }
        if n == 0 {
            return None;
        }
        Some(if self.scope_all {
            format!(
                "{n} finding{s} in code no MCP server runs, reported with --scope all ({reasons})"
            )
        } else {
            format!("{n} finding{s} in code no MCP server runs left out ({reasons}); `--scope all` reports them")
        })
    }
}

/// What `config` selects: the rules to run, and whether unused
/// suppressions are reported (`MCP001`, which `--select`/`--ignore` name
/// like a rule).
pub struct Selection {
    pub rules: Vec<&'static rules::Rule>,
    pub report_unused: bool,
}

pub fn selected_rules(config: &Config) -> Result<Selection, Error> {
    let resolve = |keys: &[String]| -> Result<Vec<&'static str>, Error> {
        keys.iter()
            .flat_map(|k| k.split(','))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| suppress::rule_key(k).ok_or_else(|| Error::UnknownRule(k.to_string())))
            .collect()
    };
    let select = resolve(&config.select)?;
    let ignore = resolve(&config.ignore)?;
    let wanted = |id: &str| (select.is_empty() || select.contains(&id)) && !ignore.contains(&id);
    Ok(Selection {
        rules: rules::REGISTRY
            .iter()
            .copied()
            .filter(|r| wanted(r.id))
            .collect(),
        report_unused: wanted(suppress::UNUSED_ID),
    })
}

/// A file whose text is given rather than read from disk (`mcp-audit -
/// --stdin-filename PATH`, for editors): scanned and reported as `path`,
/// which need not exist. It stands in for a file of the same path that the
/// scanned directories hold.
#[derive(Clone, Debug)]
pub struct InMemoryFile {
    pub path: PathBuf,
    pub text: String,
}

pub fn scan(config: &Config, paths: &[PathBuf]) -> Result<Report, Error> {
    scan_sources(config, paths, &[])
}

/// [`scan`], with files whose text is given (see [`InMemoryFile`]).
pub fn scan_sources(
    config: &Config,
    paths: &[PathBuf],
    given: &[InMemoryFile],
) -> Result<Report, Error> {
    let kb = Knowledge::load(&config.knowledge)?;
    let Selection {
        rules,
        report_unused,
    } = selected_rules(config)?;
    let (mut files, mut skipped) = discover::discover(paths, &config.discover)?;
    let given = add_given(&mut files, given)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = match &config.root {
        Some(r) => fingerprint::absolute(r, &cwd),
        None => fingerprint::absolute(&cwd, &cwd),
    };
    let threads = match config.jobs {
        Some(j) if j > 0 => j,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .start_handler(|_| lang::set_stack_budget(WORKER_STACK / 2))
        .num_threads(threads.min(config::max_jobs()))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;

    let texts_read: Vec<Result<String, Skipped>> = pool.install(|| {
        files
            .par_iter()
            .map(|f| match given.get(&f.display) {
                Some(text) => given_source(f, text),
                None => read_source(f, config.max_file_size),
            })
            .collect()
    });
    let mut pending: Vec<Option<String>> = Vec::with_capacity(files.len());
    let mut not_scanned = 0;
    for t in texts_read {
        match t {
            Ok(text) => pending.push(Some(text)),
            Err(s) => {
                skipped.push(s);
                not_scanned += 1;
                pending.push(None);
            }
        }
    }
    let mut project_paths: BTreeMap<String, String> = files
        .iter()
        .zip(&pending)
        .filter(|(_, t)| t.is_some())
        .map(|(f, _)| {
            (
                f.display.clone(),
                fingerprint::relative_to(&f.absolute, &root),
            )
        })
        .collect();
    let mut literals = kb.prefilter_literals();
    if report_unused {
        // A file whose only relevant text is a suppression is parsed too,
        // so that MCP001 reports the same with the prefilter on or off.
        literals.push(suppress::MARKER.to_string());
    }
    let roots: std::collections::HashSet<&str> = literals.iter().map(String::as_str).collect();
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut matcher = aho_corasick::AhoCorasick::new(&literals).expect("literal patterns build");
    let mut parsed: Vec<(usize, facts::Module, Arc<str>)> = Vec::new();
    // Round one parses the files that mention a library or an MCP idiom;
    // each later round, those that mention a name the parsed files define
    // (a client, a helper, a class), until none is left. Without the
    // prefilter, every file in one round.
    loop {
        let batch: Vec<usize> = pool.install(|| {
            pending
                .par_iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    let t = t.as_ref()?;
                    (!config.prefilter || matcher.is_match(t)).then_some(i)
                })
                .collect()
        });
        if batch.is_empty() {
            break;
        }
        let jobs: Vec<(usize, String)> = batch
            .iter()
            .map(|&i| (i, pending[i].take().expect("pending text")))
            .collect();
        let lowered: Vec<(usize, Result<facts::Module, Skipped>, String)> = pool.install(|| {
            jobs.into_par_iter()
                .map(|(i, text)| {
                    let f = &files[i];
                    let r = lang::lower(f.lang, &f.display, &text).map_err(|e| Skipped {
                        path: f.display.clone(),
                        reason: e.to_string(),
                    });
                    (i, r, text)
                })
                .collect()
        });
        let mut names: Vec<String> = Vec::new();
        for (i, r, text) in lowered {
            match r {
                Ok(m) => {
                    names.extend(relevant_names(&m, &roots, &known));
                    parsed.push((i, m, Arc::from(text)));
                }
                Err(s) => {
                    project_paths.remove(&s.path);
                    skipped.push(s);
                    not_scanned += 1;
                }
            }
        }
        names.retain(|n| n.len() >= 3 && !known.contains(n));
        names.sort();
        names.dedup();
        known.extend(names.iter().cloned());
        if names.is_empty() || pending.iter().all(Option::is_none) {
            break;
        }
        // Many names, searched once: an NFA builds far faster than a DFA.
        matcher = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(&names)
            .expect("name patterns build");
    }
    parsed.sort_by_key(|(i, _, _)| *i);
    let mut roots = package::Roots::default();
    for (i, m, _) in &mut parsed {
        let pkg = roots.of(&files[*i].path, &cwd);
        m.package = pkg.dir;
        m.package_name = pkg.name;
    }
    let mut modules = Vec::with_capacity(parsed.len());
    let mut texts = Vec::with_capacity(parsed.len());
    for (_, m, t) in parsed {
        modules.push(m);
        texts.push(t);
    }
    let files_parsed = modules.len();
    let project = link::Project::new(modules, &kb);
    let findings: Vec<Finding> = pool.install(|| {
        (0..project.modules.len() as u32)
            .into_par_iter()
            .flat_map_iter(|m| {
                let mut out = Vec::new();
                for r in &rules {
                    (r.check)(&project, m, &mut out);
                }
                out
            })
            .collect()
    });
    let rules_run: Vec<&'static str> = rules.iter().map(|r| r.id).collect();
    let suppressions: BTreeMap<String, Vec<suppress::Suppression>> = project
        .modules
        .iter()
        .zip(&texts)
        .map(|(m, t)| (m.path.clone(), suppress::parse(m, t)))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let findings = suppress::apply_inline(findings, &suppressions, &rules_run, report_unused);
    // Scope, after inline suppressions (a suppression of a left-out finding
    // is still used) and before the rest.
    let mut left_out: BTreeMap<finding::LeftOut, usize> = BTreeMap::new();
    let findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| match f.left_out {
            Some(why) => {
                *left_out.entry(why).or_default() += 1;
                config.scope_all
            }
            None => true,
        })
        .collect();
    let mut findings = suppress::apply_per_path(findings, &config.per_path_ignores, &project_paths);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());

    let mut sources = BTreeMap::new();
    for (m, text) in project.modules.iter().zip(texts) {
        if findings.iter().any(|f| f.location.path == m.path)
            || findings
                .iter()
                .any(|f| f.related.iter().any(|r| r.location.path == m.path))
        {
            sources.insert(m.path.clone(), text);
        }
    }
    fingerprint::assign(&mut findings, &sources, &project_paths);
    let mut baselined = Vec::new();
    if let Some(b) = &config.baseline {
        (findings, baselined) = b.split(findings);
    }
    skipped.sort();
    skipped.dedup();
    let files_scanned = files.len() - not_scanned;
    let mut warnings = Vec::new();
    if files_scanned == 0 {
        warnings.push(nothing_scanned(paths, files.len()));
    }
    // Only the axes some rule that ran looks at, and none when nothing was
    // scanned: an A nobody earned is false assurance.
    let mut axes: Vec<finding::Axis> = if files_scanned == 0 {
        Vec::new()
    } else {
        // MCP001 reports on suppressions, not on the code: it grades nothing.
        rules
            .iter()
            .filter(|r| r.id != suppress::UNUSED_ID)
            .map(|r| r.axis)
            .collect()
    };
    axes.sort();
    axes.dedup();
    // After every step that adds or removes findings.
    let grades = grade::grade_axes(&findings, &axes);
    Ok(Report {
        findings,
        skipped,
        files_discovered: files.len(),
        files_scanned,
        files_parsed,
        tools: project.tool_count(),
        entry_points: project.entries().len(),
        left_out,
        scope_all: config.scope_all,
        rules_run,
        unused_reported: report_unused,
        sources,
        grades,
        warnings,
        baselined,
        project_paths,
    })
}

/// Adds the given files to `files` (replacing a discovered file of the
/// same path), and returns their texts by display path.
fn add_given<'a>(
    files: &mut Vec<discover::SourceFile>,
    given: &'a [InMemoryFile],
) -> Result<HashMap<String, &'a str>, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut texts = HashMap::new();
    for g in given {
        let display = discover::display_path(&g.path, &cwd);
        let lang = discover::language_of(&g.path)
            .ok_or_else(|| Error::UnknownLanguage(display.clone()))?;
        files.retain(|f| f.display != display);
        files.push(discover::SourceFile {
            path: g.path.clone(),
            display: display.clone(),
            absolute: fingerprint::absolute(&g.path, &cwd),
            lang,
        });
        texts.insert(display, g.text.as_str());
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(texts)
}

/// A given file's text, or why it cannot be scanned (as for a file read
/// from disk, less what only bytes can show).
fn given_source(f: &discover::SourceFile, text: &str) -> Result<String, Skipped> {
    if text.is_empty() {
        return Err(Skipped {
            path: f.display.clone(),
            reason: "empty file".into(),
        });
    }
    Ok(text.to_string())
}

/// The warning that no file was scanned, saying why as far as we know.
fn nothing_scanned(paths: &[PathBuf], discovered: usize) -> Warning {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let message = if discovered == 0 {
        format!(
            "no file was scanned: no Python, TypeScript, JavaScript or Rust file in {} \
             (excluded, .gitignored, hidden, test and vendored paths are left out); \
             nothing is graded",
            shown.join(", ")
        )
    } else if discovered == 1 {
        "no file was scanned: the only file found was skipped; nothing is graded".to_string()
    } else {
        format!("no file was scanned: all {discovered} files found were skipped; nothing is graded")
    };
    Warning {
        code: finding::NO_FILES_SCANNED,
        message,
    }
}

/// Reads a file, or says why it cannot be scanned.
fn read_source(f: &discover::SourceFile, max_size: u64) -> Result<String, Skipped> {
    let skip = |reason: String| Skipped {
        path: f.display.clone(),
        reason,
    };
    let size = std::fs::metadata(&f.path)
        .map_err(|e| skip(format!("cannot read: {e}")))?
        .len();
    if size > max_size {
        return Err(skip(format!(
            "larger than the {} KiB limit ({} KiB; raise it with --max-file-size)",
            max_size / 1024,
            size / 1024
        )));
    }
    let bytes = std::fs::read(&f.path).map_err(|e| skip(format!("cannot read: {e}")))?;
    if bytes.is_empty() {
        return Err(skip(finding::EMPTY_FILE.into()));
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Err(skip("binary file (contains NUL bytes)".into()));
    }
    String::from_utf8(bytes).map_err(|e| {
        skip(format!(
            "not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Names a module defines at its top level that can carry a finding to
/// another file: functions and classes whose code makes a relevant call,
/// and module-level bindings built by one. A call is relevant when its
/// path starts with a prefilter literal (a library, a deadline, an MCP
/// idiom) or it names something already relevant; other files can only
/// reach these through their names.
fn relevant_names(
    m: &facts::Module,
    roots: &std::collections::HashSet<&str>,
    known: &std::collections::HashSet<String>,
) -> Vec<String> {
    use facts::Expr;
    let mut mine: std::collections::HashSet<String> = std::collections::HashSet::new();
    let relevant = |c: &facts::Call, mine: &std::collections::HashSet<String>| {
        let named = |n: &str| known.contains(n) || mine.contains(n);
        c.path
            .as_deref()
            .is_some_and(|p| roots.contains(knowledge::first_segment(p)))
            || c.callee.root_name().is_some_and(named)
            || c.name().is_some_and(named)
    };
    // The top-level function or class each call's code belongs to.
    let owner_of = |f: facts::FuncId| -> Option<String> {
        let top = m.func_chain(Some(f)).last()?;
        let tf = m.func(top);
        match tf.class {
            Some(c) => Some(m.classes[c as usize].name.clone()),
            None => Some(tf.name.clone()),
        }
    };
    let owners: Vec<Option<String>> = m
        .calls
        .iter()
        .map(|c| c.func.and_then(owner_of).filter(|o| !o.is_empty()))
        .collect();
    // Functions calling each other within the module: iterate to a fixpoint.
    loop {
        let before = mine.len();
        for (c, owner) in m.calls.iter().zip(&owners) {
            if let Some(o) = owner {
                if !mine.contains(o) && relevant(c, &mine) {
                    mine.insert(o.clone());
                }
            }
        }
        for b in m
            .bindings
            .iter()
            .filter(|b| b.scope == facts::BindScope::Module && !b.name.contains('.'))
        {
            if mine.contains(&b.name) {
                continue;
            }
            let mut hit = false;
            b.value.walk(&mut |e| match e {
                Expr::Call(id) => hit |= relevant(m.call(*id), &mine),
                Expr::Name(n) => hit |= known.contains(n) || mine.contains(n),
                _ => {}
            });
            if hit {
                mine.insert(b.name.clone());
            }
        }
        if mine.len() == before {
            break;
        }
    }
    mine.into_iter().collect()
}
