//! The command line: parse arguments, call the library, map the outcome to
//! an exit code (0 clean, 1 findings at or above --fail-on or an overall
//! grade below --min-grade, 2 usage or I/O error).

use clap::{Parser, Subcommand, ValueEnum};
use mcp_audit::grade::Letter;
use mcp_audit::report;
use mcp_audit::rules::{self, REGISTRY};
use mcp_audit::scan;
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

    /// Files or directories to scan.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    format: Format,

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
    #[arg(long, value_enum)]
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

    /// Parse every file, even those that mention nothing a rule looks at
    /// (for checking that the prefilter changes nothing).
    #[arg(long, hide = true)]
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
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Terminal,
    Json,
    Sarif,
    Github,
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

fn run(cli: Cli) -> Result<ExitCode, String> {
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
        None => {}
    }
    let settings = mcp_audit::config::resolve(&mcp_audit::config::Cli {
        paths: cli.paths.clone(),
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
    })
    .map_err(|e| e.to_string())?;
    for n in &settings.notices {
        eprintln!("mcp-audit: {n}");
    }
    let config = &settings.config;
    let report = scan(config, &cli.paths).map_err(|e| e.to_string())?;
    for w in &report.warnings {
        eprintln!("mcp-audit: warning: {}", w.message);
    }
    let text = match cli.format {
        Format::Terminal => {
            let to_tty = cli.output.is_none() && std::io::stdout().is_terminal();
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let width = if to_tty {
                terminal_width().unwrap_or(100)
            } else {
                100
            };
            report::terminal::render(
                &report,
                &report::terminal::Style {
                    color: to_tty && !no_color,
                    width,
                },
            )
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
    emit(&cli.output, &text)?;
    if let Some(p) = &cli.write_baseline {
        let b = mcp_audit::suppress::Baseline::updated(config.baseline.as_ref(), &report);
        b.write(p)?;
        eprintln!(
            "mcp-audit: wrote a baseline of {} finding{} to {}",
            b.findings.len(),
            if b.findings.len() == 1 { "" } else { "s" },
            p.display()
        );
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
