//! mcp-audit: audits the source code of MCP servers (Python, TypeScript /
//! JavaScript, Rust) for resilience and security gaps.
//!
//! [`scan`] is the one entry point: discover → read, prefilter, parse and
//! lower each file in parallel (the tree is dropped as soon as its facts are
//! built; see [`prefilter`]) → link the facts of all files → run the rules
//! per module in parallel → suppress, scope, sort and fingerprint →
//! baseline → grade, into a [`Report`] (see [`report::model`]).

pub mod config;
pub mod discover;
pub mod facts;
pub mod finding;
pub mod fingerprint;
pub mod fix;
pub mod grade;
pub mod knowledge;
pub mod lang;
pub mod link;
pub mod package;
pub mod prefilter;
pub mod report;
pub mod rules;
pub mod suppress;
pub mod verify;

pub use report::model::{Report, Warning};

use finding::{Finding, Skipped};
use knowledge::Knowledge;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
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
    let stand_ins: Vec<PathBuf> = given.iter().map(|g| g.path.clone()).collect();
    let (mut files, mut skipped) =
        discover::discover_in_context(paths, &stand_ins, &config.discover)?;
    let given = add_given(&mut files, given)?;
    let pool = worker_pool(config.jobs)?;
    let (texts, unread) = read_all(&pool, &files, &given, config.max_file_size);
    let mut scanned: Vec<bool> = texts.iter().map(Option::is_some).collect();
    let parsed =
        prefilter::Prefilter::new(&kb, report_unused, config.prefilter).parse(&pool, &files, texts);
    let mut not_scanned = unread;
    for (i, s) in parsed.failed {
        scanned[i] = false;
        not_scanned.push((i, s));
    }
    // Only the files asked about are reported on: not those read for context.
    skipped.extend(
        not_scanned
            .into_iter()
            .filter(|(i, _)| !files[*i].context)
            .map(|(_, s)| s),
    );
    let files_parsed = parsed
        .modules
        .iter()
        .filter(|(i, _, _)| !files[*i].context)
        .count();
    let (project, texts) = link(parsed.modules, &files, &kb);
    let findings = check(&pool, &project, &rules);
    let root = project_root(config);
    let project_paths: BTreeMap<String, String> = files
        .iter()
        .zip(&scanned)
        .filter(|(f, s)| **s && !f.context)
        .map(|(f, _)| {
            let rel = fingerprint::relative_to(&f.absolute, &root);
            (f.display.clone(), rel)
        })
        .collect();
    let rules_run: Vec<&'static str> = rules.iter().map(|r| r.id).collect();
    let Settled {
        findings,
        left_out,
        baselined,
        sources,
    } = settle(
        findings,
        &project,
        texts,
        config,
        (&rules_run, report_unused),
        &files,
        &project_paths,
    );
    skipped.sort();
    skipped.dedup();
    let (files_discovered, files_scanned, files_context) = tally(&files, &scanned);
    let mut warnings = Vec::new();
    if files_scanned == 0 {
        warnings.push(Warning::nothing_scanned(paths, files_discovered));
    }
    let grades = grade::grade_axes(&findings, &graded_axes(&rules, files_scanned));
    Ok(Report {
        findings,
        skipped,
        files_discovered,
        files_scanned,
        files_parsed,
        files_context,
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

/// The worker threads: `jobs` of them (0 or `None`: one per core), at
/// most [`config::max_jobs`].
fn worker_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    let threads = match jobs {
        Some(j) if j > 0 => j,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .start_handler(|_| lang::set_stack_budget(WORKER_STACK / 2))
        .num_threads(threads.min(config::max_jobs()))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))
}

/// The project root fingerprints and per-path ignores are relative to.
fn project_root(config: &Config) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    match &config.root {
        Some(r) => fingerprint::absolute(r, &cwd),
        None => fingerprint::absolute(&cwd, &cwd),
    }
}

/// The text of each file (given, or read from disk), by index; `None` for
/// a file that cannot be scanned, whose index and reason are listed.
fn read_all(
    pool: &rayon::ThreadPool,
    files: &[discover::SourceFile],
    given: &HashMap<String, &str>,
    max_file_size: u64,
) -> (Vec<Option<String>>, Vec<(usize, Skipped)>) {
    let read: Vec<Result<String, Skipped>> = pool.install(|| {
        files
            .par_iter()
            .map(|f| match given.get(&f.display) {
                Some(text) => given_source(f, text),
                None => read_source(f, max_file_size),
            })
            .collect()
    });
    let mut unread = Vec::new();
    let texts = read
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.map_err(|s| unread.push((i, s))).ok())
        .collect();
    (texts, unread)
}

/// Links the parsed modules (each given its package) into the project;
/// returns it with the modules' texts, in the same order.
fn link<'k>(
    parsed: Vec<(usize, facts::Module, Arc<str>)>,
    files: &[discover::SourceFile],
    kb: &'k Knowledge,
) -> (link::Project<'k>, Vec<Arc<str>>) {
    let mut roots = package::Roots::default();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut modules = Vec::with_capacity(parsed.len());
    let mut texts = Vec::with_capacity(parsed.len());
    for (i, mut m, t) in parsed {
        let pkg = roots.of(&files[i].path, &cwd);
        m.package = pkg.dir;
        m.package_name = pkg.name;
        m.package_requires = pkg.requires;
        modules.push(m);
        texts.push(t);
    }
    (link::Project::new(modules, kb), texts)
}

/// Runs the rules on every module, in parallel.
fn check(
    pool: &rayon::ThreadPool,
    project: &link::Project,
    rules: &[&rules::Rule],
) -> Vec<Finding> {
    pool.install(|| {
        (0..project.modules.len() as u32)
            .into_par_iter()
            .flat_map_iter(|m| {
                let mut out = Vec::new();
                for r in rules {
                    (r.check)(project, m, &mut out);
                }
                out
            })
            .collect()
    })
}

/// The findings as reported, and what was set aside on the way.
struct Settled {
    findings: Vec<Finding>,
    left_out: BTreeMap<finding::LeftOut, usize>,
    baselined: Vec<Finding>,
    sources: BTreeMap<String, Arc<str>>,
}

/// Files discovered and scanned of those asked about, and files read for
/// their context; `scanned`: per file, whether it was read (and parsed,
/// if it needed to be).
fn tally(files: &[discover::SourceFile], scanned: &[bool]) -> (usize, usize, usize) {
    let (mut discovered, mut read, mut context) = (0, 0, 0);
    for (f, s) in files.iter().zip(scanned) {
        match (f.context, s) {
            (true, true) => context += 1,
            (true, false) => {}
            (false, s) => {
                discovered += 1;
                read += usize::from(*s);
            }
        }
    }
    (discovered, read, context)
}

/// Inline suppressions, what was not asked about (files read only for
/// context), scope, per-path ignores, order, fingerprints and the
/// baseline, in that order.
fn settle(
    findings: Vec<Finding>,
    project: &link::Project,
    texts: Vec<Arc<str>>,
    config: &Config,
    (rules_run, report_unused): (&[&'static str], bool),
    files: &[discover::SourceFile],
    project_paths: &BTreeMap<String, String>,
) -> Settled {
    let reported: HashSet<&str> = files
        .iter()
        .filter(|f| !f.context)
        .map(|f| f.display.as_str())
        .collect();
    let suppressions: BTreeMap<String, Vec<suppress::Suppression>> = project
        .modules
        .iter()
        .zip(&texts)
        .map(|(m, t)| (m.path.clone(), suppress::parse(m, t)))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let findings = suppress::apply_inline(findings, &suppressions, rules_run, report_unused);
    // Scope, after inline suppressions (a suppression of a left-out finding
    // is still used) and before the rest; counting only what was asked about.
    let mut left_out: BTreeMap<finding::LeftOut, usize> = BTreeMap::new();
    let findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| reported.contains(f.location.path.as_str()))
        .filter(|f| match f.left_out {
            Some(why) => {
                *left_out.entry(why).or_default() += 1;
                config.scope_all
            }
            None => true,
        })
        .collect();
    let mut findings = suppress::apply_per_path(findings, &config.per_path_ignores, project_paths);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());

    let mut sources = BTreeMap::new();
    for (m, text) in project.modules.iter().zip(texts) {
        let shown = |p: &str| p == m.path;
        if findings
            .iter()
            .any(|f| shown(&f.location.path) || f.related.iter().any(|r| shown(&r.location.path)))
        {
            sources.insert(m.path.clone(), text);
        }
    }
    fingerprint::assign(&mut findings, &sources, project_paths);
    let mut baselined = Vec::new();
    if let Some(b) = &config.baseline {
        (findings, baselined) = b.split(findings);
    }
    Settled {
        findings,
        left_out,
        baselined,
        sources,
    }
}

/// The axes to grade: those some rule that ran looks at, and none when
/// nothing was scanned — an A nobody earned is false assurance.
fn graded_axes(rules: &[&rules::Rule], files_scanned: usize) -> Vec<finding::Axis> {
    if files_scanned == 0 {
        return Vec::new();
    }
    // MCP001 reports on suppressions, not on the code: it grades nothing.
    let mut axes: Vec<finding::Axis> = rules
        .iter()
        .filter(|r| r.id != suppress::UNUSED_ID)
        .map(|r| r.axis)
        .collect();
    axes.sort();
    axes.dedup();
    axes
}

/// Adds the given files to `files` (replacing a discovered file of the
/// same path, found for context or not: the given file is reported on),
/// and returns their texts by display path.
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
        let absolute = fingerprint::absolute(&g.path, &cwd);
        files.retain(|f| f.display != display && f.absolute != absolute);
        files.push(discover::SourceFile {
            path: g.path.clone(),
            display: display.clone(),
            absolute,
            lang,
            context: false,
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
