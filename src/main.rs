//! The command line: parse arguments, call the library, map the outcome to
//! an exit code (0 clean, 1 findings at or above --fail-on or an overall
//! grade below --min-grade, 2 usage or I/O error).

use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use mcp_audit::grade::Letter;
use mcp_audit::report;
use mcp_audit::rules::{self, REGISTRY};
use mcp_audit::{scan_sources, InMemoryFile};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mcp-audit",
    version,
    about = "Audits MCP server source code (Python, TypeScript/JavaScript, Rust) for resilience and security gaps",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Files or directories to scan [default: .]. `-` reads one file from
    /// standard input (name it with --stdin-filename).
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,

    /// Output format: terminal (source snippets and a summary), concise (one
    /// line per finding), json, sarif or github (workflow annotations).
    #[arg(long, value_enum, default_value_t = Format::Terminal, ignore_case = true)]
    format: Format,

    /// When to colour terminal and concise output. auto: on a terminal,
    /// unless NO_COLOR is set; a non-empty FORCE_COLOR colours it anywhere.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, ignore_case = true)]
    color: ColorChoice,

    /// Print the findings only: no summary, grades or notes. -qq prints
    /// nothing, like --silent.
    #[arg(long, short = 'q', action = ArgAction::Count)]
    quiet: u8,

    /// Print nothing on standard output; the exit code still tells. Files
    /// named by --output, --sarif-output, --json-output and
    /// --write-baseline are still written.
    #[arg(long, short = 's')]
    silent: bool,

    /// Print how many findings each rule has instead of the findings
    /// (terminal, concise or json format).
    #[arg(long)]
    statistics: bool,

    /// Report the text read from standard input (`-`) as this file: its
    /// extension picks the language, and its place picks the config file.
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also write a SARIF 2.1.0 report to FILE (beside the --format output,
    /// from the same scan).
    #[arg(long, value_name = "FILE")]
    sarif_output: Option<PathBuf>,

    /// Also write a JSON report to FILE (beside the --format output, from
    /// the same scan).
    #[arg(long, value_name = "FILE")]
    json_output: Option<PathBuf>,

    /// Worker threads (default: one per core; at most four per core and 256).
    /// Output is the same for any value.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,

    /// Only run these rules (ids or names, comma-separated).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    select: Vec<String>,

    /// Do not run these rules (ids or names, comma-separated).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    ignore: Vec<String>,

    /// Exit 1 when a finding of this severity or higher is reported [default: low].
    #[arg(long, value_enum, ignore_case = true)]
    fail_on: Option<FailOn>,

    /// Use this config file instead of looking for mcp-audit.toml or
    /// [tool.mcp-audit] in pyproject.toml above the first path.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Record today's findings in FILE as the baseline, and exit 0.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,

    /// Exit 1 when the overall grade is below this (F: never) [default: F].
    #[arg(long, value_enum, ignore_case = true)]
    min_grade: Option<MinGrade>,

    /// An extra knowledge pack (TOML, same format as rules/*.toml). Repeatable.
    #[arg(long, value_name = "FILE")]
    knowledge: Vec<PathBuf>,

    /// Leave out paths matching this glob (gitignore syntax). Repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Skip files larger than this many bytes [default: 2097152].
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,

    /// Which findings to report: `reached`, those in code an MCP entry
    /// point (tool, resource, prompt, request handler, auth check) runs;
    /// `all`, every one, marked when no handler reaches it [default: reached].
    #[arg(long, value_enum, ignore_case = true)]
    scope: Option<ScopeArg>,

    /// Apply the mechanical fixes (a timeout on an HTTP call, a settled
    /// aggregation, a fail-closed fallback, masked errors), say on standard
    /// error what changed, then report the findings that remain.
    #[arg(long)]
    fix: bool,

    /// Print the fixes as a unified diff instead of writing them (exit 1
    /// when there is one).
    #[arg(long, conflicts_with_all = ["statistics", "write_baseline", "sarif_output", "json_output"])]
    diff: bool,

    /// Parse every file, even those that mention nothing a rule looks at.
    /// Slower, never changes a finding: for checking exactly that, and for
    /// benchmarks.
    #[arg(long)]
    no_prefilter: bool,
}

#[derive(Subcommand)]
enum Command {
    /// List every rule.
    Rules,
    /// Print a rule's documentation.
    Explain {
        /// Rule id (MCP101) or name (unbounded-await).
        rule: String,
    },
    /// Print the facts extracted from one file (calls, bindings, imports,
    /// functions), as the rules see them: for writing knowledge packs.
    Facts {
        /// A Python, TypeScript/JavaScript or Rust file.
        file: PathBuf,
    },
    /// Prove the rules on running servers: for each rule's runnable case
    /// (fixtures/<rule-name>/verify.toml), run the flagged and the fixed
    /// server on the real MCP SDK against a fault-injecting upstream on
    /// 127.0.0.1, and check that the flagged one fails, the fixed one holds,
    /// the scan tells them apart, and `--fix` output holds too. Run from a
    /// checkout of the mcp-audit repository; installs the SDKs it needs on
    /// first use (Python, Node.js and cargo must be on PATH).
    Verify {
        /// Only these rules (ids or names, comma-separated).
        #[arg(long, value_name = "IDS", value_delimiter = ',')]
        rule: Vec<String>,
        /// Only these languages (python, typescript, rust; comma-separated).
        #[arg(long, value_name = "LANGS", value_delimiter = ',')]
        lang: Vec<String>,
        /// The mcp-audit checkout holding fixtures/ and verify/.
        #[arg(long, value_name = "DIR", default_value = ".")]
        root: PathBuf,
        /// Where to install the SDKs and build the servers [default:
        /// <root>/target/verify].
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
        /// Cases run at once.
        #[arg(long, short = 'j', value_name = "N", default_value_t = 3)]
        jobs: usize,
        /// The Python interpreter the virtualenv is made from.
        #[arg(long, value_name = "PROGRAM", default_value = "python3")]
        python: String,
        /// Print the README table instead of the report.
        #[arg(long, conflicts_with_all = ["update_readme", "check_readme"])]
        table: bool,
        /// Rewrite the table in <root>/README.md from this run.
        #[arg(long, conflicts_with = "check_readme")]
        update_readme: bool,
        /// Fail (exit 1) if <root>/README.md's table differs from this run's.
        #[arg(long)]
        check_readme: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Terminal,
    Concise,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum ScopeArg {
    Reached,
    All,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour: the flag, then NO_COLOR (no-color.org), then
    /// FORCE_COLOR (force-color.org), then whether output is a terminal.
    /// Both variables count when set and not empty, whatever their value.
    fn resolve(self, to_tty: bool) -> bool {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto if set("FORCE_COLOR") => true,
            ColorChoice::Auto => to_tty,
        }
    }
}

#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum FailOn {
    Low,
    Medium,
    High,
    Never,
}

impl FailOn {
    fn lib(self) -> mcp_audit::config::FailOn {
        match self {
            FailOn::Low => mcp_audit::config::FailOn::Low,
            FailOn::Medium => mcp_audit::config::FailOn::Medium,
            FailOn::High => mcp_audit::config::FailOn::High,
            FailOn::Never => mcp_audit::config::FailOn::Never,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum MinGrade {
    #[value(name = "A")]
    A,
    #[value(name = "B")]
    B,
    #[value(name = "C")]
    C,
    #[value(name = "D")]
    D,
    #[value(name = "F")]
    F,
}

impl MinGrade {
    fn letter(self) -> Letter {
        match self {
            MinGrade::A => Letter::A,
            MinGrade::B => Letter::B,
            MinGrade::C => Letter::C,
            MinGrade::D => Letter::D,
            MinGrade::F => Letter::F,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("mcp-audit: error: {msg}");
            ExitCode::from(2)
        }
    }
}

struct VerifyArgs<'a> {
    rule: &'a [String],
    lang: &'a [String],
    root: &'a PathBuf,
    work_dir: &'a Option<PathBuf>,
    jobs: usize,
    python: &'a str,
    table: bool,
    update_readme: bool,
    check_readme: bool,
}

fn verify(cli: &Cli, a: VerifyArgs) -> Result<ExitCode, String> {
    use mcp_audit::verify::{self, case::Lang};
    let langs = a
        .lang
        .iter()
        .map(|l| {
            Lang::parse(l).ok_or_else(|| {
                format!("unknown language {l:?}: expected python, typescript or rust")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for r in a.rule {
        rules::lookup(r).ok_or_else(|| format!("unknown rule {r:?} (see `mcp-audit rules`)"))?;
    }
    let opts = verify::Options {
        root: a.root.clone(),
        work: a.work_dir.clone(),
        rules: a.rule.to_vec(),
        langs,
        jobs: a.jobs,
        python: a.python.to_owned(),
        quiet: cli.quiet > 0,
    };
    let results = verify::run(&opts)?;
    let all_hold = results.iter().all(|r| r.ok());
    let table = verify::render_table(&results);
    if a.table {
        emit(&cli.output, &table)?;
    } else {
        emit(&cli.output, &verify::render_text(&results))?;
    }
    let readme = a.root.join("README.md");
    if a.update_readme || a.check_readme {
        if !a.rule.is_empty() || !a.lang.is_empty() {
            return Err("the README table covers every case: run without --rule and --lang".into());
        }
        let text = std::fs::read_to_string(&readme)
            .map_err(|e| format!("cannot read {}: {e}", readme.display()))?;
        let new = verify::with_table(&text, &table).ok_or_else(|| {
            format!(
                "{} has no table markers ({} … {})",
                readme.display(),
                verify::TABLE_START,
                verify::TABLE_END
            )
        })?;
        if a.update_readme && new != text {
            std::fs::write(&readme, &new)
                .map_err(|e| format!("cannot write {}: {e}", readme.display()))?;
            eprintln!("mcp-audit: updated the table in {}", readme.display());
        }
        if a.check_readme && new != text {
            eprintln!(
                "mcp-audit: the table in {} differs from this run; `mcp-audit verify \
                 --update-readme` rewrites it",
                readme.display()
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(if all_hold {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run(mut cli: Cli) -> Result<ExitCode, String> {
    match &cli.command {
        Some(Command::Rules) => {
            let mut out = String::new();
            out.push_str(&format!(
                "{:<8} {:<28} {:<12} {:<9} {}\n",
                "id", "name", "axis", "severity", "summary"
            ));
            for r in REGISTRY {
                out.push_str(&format!(
                    "{:<8} {:<28} {:<12} {:<9} {}\n",
                    r.id,
                    r.name,
                    r.axis.as_str(),
                    r.severity.as_str(),
                    r.summary()
                ));
            }
            emit(&cli.output, &out)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Explain { rule }) => {
            let r = rules::lookup(rule)
                .ok_or_else(|| format!("unknown rule {rule:?} (see `mcp-audit rules`)"))?;
            let header = format!(
                "{} {} — {} axis, {} severity{}\n\n",
                r.id,
                r.name,
                r.axis,
                r.severity,
                if r.cwe.is_empty() {
                    String::new()
                } else {
                    format!(", {}", r.cwe.join(", "))
                }
            );
            let docs = r.docs();
            let body = docs
                .split_once('\n')
                .map(|(_, b)| b.trim_start())
                .unwrap_or("");
            emit(&cli.output, &format!("{header}{body}"))?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Facts { file }) => {
            let lang = mcp_audit::discover::language_of(file).ok_or_else(|| {
                format!(
                    "{}: not a Python, TypeScript, JavaScript or Rust file",
                    file.display()
                )
            })?;
            let src = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let shown = mcp_audit::discover::display_path(
                file,
                &std::env::current_dir().unwrap_or_default(),
            );
            let m =
                mcp_audit::lang::lower(lang, &shown, &src).map_err(|e| format!("{shown}: {e}"))?;
            emit(&cli.output, &format!("{m:#?}\n"))?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Verify {
            rule,
            lang,
            root,
            work_dir,
            jobs,
            python,
            table,
            update_readme,
            check_readme,
        }) => {
            return verify(
                &cli,
                VerifyArgs {
                    rule,
                    lang,
                    root,
                    work_dir,
                    jobs: *jobs,
                    python,
                    table: *table,
                    update_readme: *update_readme,
                    check_readme: *check_readme,
                },
            );
        }
        None => {}
    }
    let stdin = stdin_file(&mut cli)?;
    // The config is looked for from the first path; for `-`, from where the
    // stdin file would be.
    let config_anchor = match (cli.paths.first(), &stdin) {
        (Some(p), Some(s)) if is_stdin(p) => Some(existing_ancestor(&s.path)),
        (p, _) => p.cloned(),
    };
    let disk_paths: Vec<PathBuf> = cli.paths.iter().filter(|p| !is_stdin(p)).cloned().collect();
    let verbosity = match (cli.silent, cli.quiet) {
        (true, _) | (_, 2..) => Verbosity::Silent,
        (_, 1) => Verbosity::Quiet,
        _ => Verbosity::Normal,
    };
    if cli.statistics && matches!(cli.format, Format::Sarif | Format::Github) {
        return Err("--statistics works with --format terminal, concise or json".to_string());
    }
    let anchor_paths: Vec<PathBuf> = config_anchor
        .into_iter()
        .chain(disk_paths.iter().cloned())
        .collect();
    let settings = mcp_audit::config::resolve(&mcp_audit::config::Cli {
        paths: anchor_paths,
        config: cli.config.clone(),
        select: cli.select.clone(),
        ignore: cli.ignore.clone(),
        knowledge: cli.knowledge.clone(),
        exclude: cli.exclude.clone(),
        jobs: cli.jobs,
        max_file_size: cli.max_file_size,
        no_prefilter: cli.no_prefilter,
        fail_on: cli.fail_on.map(FailOn::lib),
        min_grade: cli.min_grade.map(MinGrade::letter),
        baseline: cli.baseline.clone(),
        scope_all: cli.scope.map(|s| s == ScopeArg::All),
    })
    .map_err(|e| e.to_string())?;
    for n in &settings.notices {
        eprintln!("mcp-audit: {n}");
    }
    let config = &settings.config;
    if cli.diff {
        return diff(
            config,
            &disk_paths,
            stdin.as_slice(),
            &cli.output,
            verbosity,
        );
    }
    let report = if cli.fix {
        if let Some(s) = &stdin {
            return Err(format!(
                "--fix cannot write the text read from standard input (reported as {}): \
                 use --diff to see the fixes, or name the file",
                s.path.display()
            ));
        }
        fix(config, &disk_paths, verbosity)?
    } else {
        scan_sources(config, &disk_paths, stdin.as_slice()).map_err(|e| e.to_string())?
    };
    for w in &report.warnings {
        eprintln!("mcp-audit: warning: {}", w.message);
    }
    let to_tty = cli.output.is_none() && std::io::stdout().is_terminal();
    let color = cli.color.resolve(to_tty);
    let summary = verbosity == Verbosity::Normal;
    let text = match cli.format {
        Format::Json if cli.statistics => report::statistics_json(&report::rule_counts(&report)),
        Format::Terminal | Format::Concise if cli.statistics => {
            let mut text = report::statistics_text(&report::rule_counts(&report));
            if summary {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&report::concise::summary_line(&report));
            }
            text
        }
        Format::Terminal => {
            let width = if to_tty {
                terminal_width().unwrap_or(100)
            } else {
                100
            };
            report::terminal::render(
                &report,
                &report::terminal::Style {
                    color,
                    width,
                    summary,
                },
            )
        }
        Format::Concise => {
            report::concise::render(&report, &report::concise::Style { color, summary })
        }
        Format::Json => report::json::render(&report),
        Format::Sarif => report::sarif::render(&report),
        Format::Github => report::github::render(&report),
    };
    // The extra reports first: CI reads them whatever the main output is.
    if let Some(path) = &cli.sarif_output {
        write_file(path, &report::sarif::render(&report))?;
    }
    if let Some(path) = &cli.json_output {
        write_file(path, &report::json::render(&report))?;
    }
    if cli.output.is_some() || verbosity != Verbosity::Silent {
        emit(&cli.output, &text)?;
    }
    if let Some(p) = &cli.write_baseline {
        let b = mcp_audit::suppress::Baseline::updated(config.baseline.as_ref(), &report);
        b.write(p)?;
        if verbosity == Verbosity::Normal {
            eprintln!(
                "mcp-audit: wrote a baseline of {} finding{} to {}",
                b.findings.len(),
                if b.findings.len() == 1 { "" } else { "s" },
                p.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let verdict = settings.gate.judge(&report);
    for n in &verdict.notes {
        eprintln!("mcp-audit: note: {n}");
    }
    for f in &verdict.failures {
        eprintln!("mcp-audit: failing: {f}");
    }
    Ok(if verdict.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--fix`: applies the fixes, writes the files, says on standard error
/// what changed in each; returns the scan of what remains.
fn fix(
    config: &mcp_audit::Config,
    paths: &[PathBuf],
    verbosity: Verbosity,
) -> Result<mcp_audit::Report, String> {
    let outcome = mcp_audit::fix::run(config, paths, &[]).map_err(|e| e.to_string())?;
    let failed = mcp_audit::fix::write(&outcome.files, paths);
    let not_written: Vec<&str> = failed.iter().map(|e| e.path()).collect();
    let written: Vec<&mcp_audit::fix::FileFix> = outcome
        .files
        .iter()
        .filter(|f| !not_written.contains(&f.path.as_str()))
        .collect();
    for e in &failed {
        eprintln!("mcp-audit: error: {e}");
    }
    if verbosity == Verbosity::Normal {
        eprint!("{}", mcp_audit::fix::summary(&written, "fixed"));
    }
    if !failed.is_empty() {
        return Err(format!(
            "{} fixed file{} could not be written",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(outcome.report)
}

/// `--diff`: prints the fixes as a unified diff and writes nothing; exits 1
/// when there is a fix to make, 0 when there is none.
fn diff(
    config: &mcp_audit::Config,
    paths: &[PathBuf],
    stdin: &[InMemoryFile],
    output: &Option<PathBuf>,
    verbosity: Verbosity,
) -> Result<ExitCode, String> {
    let outcome = mcp_audit::fix::run(config, paths, stdin).map_err(|e| e.to_string())?;
    if output.is_some() || verbosity != Verbosity::Silent {
        emit(output, &mcp_audit::fix::unified_diff(&outcome.files))?;
    }
    if verbosity == Verbosity::Normal {
        let files: Vec<&mcp_audit::fix::FileFix> = outcome.files.iter().collect();
        eprint!("{}", mcp_audit::fix::summary(&files, "would fix"));
    }
    Ok(if outcome.files.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// How much to print (`-q`, `-qq` / `--silent`), as in ruff.
#[derive(Clone, Copy, PartialEq)]
enum Verbosity {
    Normal,
    /// The findings only.
    Quiet,
    /// Nothing on standard output.
    Silent,
}

fn is_stdin(p: &std::path::Path) -> bool {
    p.as_os_str() == "-"
}

const STDIN_NEEDS_DASH: &str =
    "--stdin-filename names the text read from standard input: add `-` to the paths";
const STDIN_NEEDS_NAME: &str = "reading standard input (`-`) needs --stdin-filename PATH: \
     the path the text is reported as, whose extension picks the language";

/// The text of standard input, when the paths hold `-` (or none are given
/// and --stdin-filename is), under the --stdin-filename it is reported as.
/// Leaves `cli.paths` non-empty (`.` when none were given).
fn stdin_file(cli: &mut Cli) -> Result<Option<InMemoryFile>, String> {
    if cli.paths.is_empty() {
        let default = if cli.stdin_filename.is_some() {
            "-"
        } else {
            "."
        };
        cli.paths.push(PathBuf::from(default));
    }
    let dashes = cli.paths.iter().filter(|p| is_stdin(p)).count();
    let name = match (dashes, &cli.stdin_filename) {
        (0, None) => return Ok(None),
        (1, Some(name)) => name.clone(),
        (0, Some(_)) => return Err(STDIN_NEEDS_DASH.to_string()),
        (1, None) => return Err(STDIN_NEEDS_NAME.to_string()),
        _ => return Err("`-` (standard input) can be given only once".to_string()),
    };
    if mcp_audit::discover::language_of(&name).is_none() {
        return Err(format!(
            "--stdin-filename {}: not a Python, TypeScript, JavaScript or Rust file name \
             (.py, .ts, .tsx, .mts, .cts, .js, .jsx, .mjs, .cjs, .rs)",
            name.display()
        ));
    }
    let text = std::io::read_to_string(std::io::stdin().lock())
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(Some(InMemoryFile { path: name, text }))
}

/// `path` if it exists, else its nearest existing ancestor (`.` at worst):
/// where to look for the config of a file that may not be saved yet.
fn existing_ancestor(path: &std::path::Path) -> PathBuf {
    path.ancestors()
        .find(|a| !a.as_os_str().is_empty() && a.exists())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok()?.parse().ok()
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn emit(output: &Option<PathBuf>, text: &str) -> Result<(), String> {
    match output {
        Some(path) => write_file(path, text),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                // A closed pipe (`| head`) is not an error worth a message.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.map_err(|e| format!("cannot write to standard output: {e}")),
            }
        }
    }
}
