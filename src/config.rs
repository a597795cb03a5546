//! The config file: `mcp-audit.toml` (or `.mcp-audit.toml`), or a
//! `[tool.mcp-audit]` table in `pyproject.toml`, found by walking up from
//! the first scanned path; `--config FILE` names one directly. [`resolve`]
//! merges it with the command line into a [`Config`] and a [`Gate`].
//!
//! ```toml
//! select = ["MCP101"]              # rule ids or names; default: all
//! ignore = ["MCP103"]
//! exclude = ["scripts/**"]         # gitignore-style globs, relative to this file
//! knowledge = ["mcp-knowledge.toml"]  # extra knowledge packs, relative to this file
//! fail-on = "medium"               # low | medium | high | never (any case)
//! min-grade = "B"                  # A..F (any case)
//! max-file-size = 2097152
//! scope = "all"                    # reached (default) | all
//!
//! [per-path-ignores]               # globs relative to this file
//! "scripts/*.py" = ["MCP101"]
//! ```
//!
//! Precedence: a value on the command line replaces the file's; `ignore`
//! and `exclude` lists add up, except that a rule named by `--select` runs
//! even when the file's `ignore` names it (the command line is the more
//! specific wish).

use crate::finding::Severity;
use crate::grade::Letter;
use crate::{Config, Report};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub knowledge: Option<Vec<PathBuf>>,
    pub fail_on: Option<String>,
    pub min_grade: Option<String>,
    pub max_file_size: Option<u64>,
    pub per_path_ignores: Option<BTreeMap<String, Vec<String>>>,
    /// `reached` (default) or `all`.
    pub scope: Option<String>,
}

#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub file: FileConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot read baseline {path}: {source}")]
    ReadBaseline {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid baseline {path}: {message}")]
    InvalidBaseline { path: String, message: String },
}

/// The nearest config file at or above `start`.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let mut dir = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        for name in ["mcp-audit.toml", ".mcp-audit.toml"] {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        let py = d.join("pyproject.toml");
        if py.is_file()
            && std::fs::read_to_string(&py).is_ok_and(|t| {
                t.lines()
                    .any(|l| l.trim_start().starts_with("[tool.mcp-audit"))
            })
        {
            return Some(py);
        }
        dir = d.parent();
    }
    None
}

pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: shown.clone(),
        message,
    };
    let file: FileConfig = if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        let doc: toml::Table =
            toml::from_str(&text).map_err(|e| invalid(one_line(&e.to_string())))?;
        match doc.get("tool").and_then(|t| t.get("mcp-audit")) {
            Some(t) => t.clone().try_into().map_err(|e: toml::de::Error| {
                invalid(format!("[tool.mcp-audit]: {}", one_line(&e.to_string())))
            })?,
            None => FileConfig::default(),
        }
    } else {
        toml::from_str(&text).map_err(|e| invalid(one_line(&e.to_string())))?
    };
    if let Some(f) = &file.fail_on {
        if f.parse::<FailOn>().is_err() {
            return Err(invalid(format!(
                "fail-on = {f:?}: expected \"low\", \"medium\", \"high\" or \"never\""
            )));
        }
    }
    if let Some(sc) = &file.scope {
        if !sc.eq_ignore_ascii_case("reached") && !sc.eq_ignore_ascii_case("all") {
            return Err(invalid(format!(
                "scope = {sc:?}: expected \"reached\" or \"all\""
            )));
        }
    }
    if let Some(g) = &file.min_grade {
        if g.parse::<Letter>().is_err() {
            return Err(invalid(format!(
                "min-grade = {g:?}: expected one of A, B, C, D, F"
            )));
        }
    }
    for g in file.exclude.iter().flatten() {
        if let Err(e) = ignore::gitignore::GitignoreBuilder::new("/").add_line(None, g) {
            return Err(invalid(format!("exclude: {g:?} is not a valid glob: {e}")));
        }
    }
    for (k, ids) in file.per_path_ignores.iter().flatten() {
        if globset::Glob::new(k).is_err() {
            return Err(invalid(format!(
                "per-path-ignores: {k:?} is not a valid glob"
            )));
        }
        for id in ids {
            if crate::suppress::rule_key(id).is_none() {
                return Err(invalid(format!(
                    "per-path-ignores.{k:?}: unknown rule {id:?}"
                )));
            }
        }
    }
    for (key, list) in [("select", &file.select), ("ignore", &file.ignore)] {
        for id in list.iter().flatten() {
            if crate::suppress::rule_key(id).is_none() {
                return Err(invalid(format!("{key}: unknown rule {id:?}")));
            }
        }
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        file,
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Loaded {
    /// Knowledge pack paths, relative to the config file's directory.
    pub fn knowledge_paths(&self) -> Vec<PathBuf> {
        let base = self.path.parent().unwrap_or(Path::new("."));
        self.file
            .knowledge
            .iter()
            .flatten()
            .map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    base.join(p)
                }
            })
            .collect()
    }

    pub fn per_path_ignores(&self) -> Vec<(globset::GlobMatcher, Vec<String>)> {
        self.file
            .per_path_ignores
            .iter()
            .flatten()
            .filter_map(|(k, ids)| {
                let g = globset::GlobBuilder::new(k)
                    .literal_separator(false)
                    .build()
                    .ok()?
                    .compile_matcher();
                let ids = ids
                    .iter()
                    .filter_map(|i| crate::suppress::rule_key(i).map(str::to_string))
                    .collect();
                Some((g, ids))
            })
            .collect()
    }
}

/// `--fail-on` / `fail-on`: the least severity that fails the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailOn {
    #[default]
    Low,
    Medium,
    High,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Never => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Low => "low",
            FailOn::Medium => "medium",
            FailOn::High => "high",
            FailOn::Never => "never",
        }
    }
}

impl std::str::FromStr for FailOn {
    type Err = String;

    /// Any case: `MEDIUM` is `medium`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(FailOn::Low),
            "medium" => Ok(FailOn::Medium),
            "high" => Ok(FailOn::High),
            "never" => Ok(FailOn::Never),
            _ => Err(format!("{s:?} is not low, medium, high or never")),
        }
    }
}

/// What the command line says: empty or `None` where it says nothing.
#[derive(Clone, Debug, Default)]
pub struct Cli {
    pub paths: Vec<PathBuf>,
    /// `--config`: use this file instead of looking for one.
    pub config: Option<PathBuf>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub knowledge: Vec<PathBuf>,
    /// Globs relative to the working directory.
    pub exclude: Vec<String>,
    pub jobs: Option<usize>,
    pub max_file_size: Option<u64>,
    pub no_prefilter: bool,
    pub fail_on: Option<FailOn>,
    pub min_grade: Option<Letter>,
    /// `--baseline`: read here, into [`Config::baseline`].
    pub baseline: Option<PathBuf>,
    /// `--scope all` (`Some(true)`) or `--scope reached` (`Some(false)`).
    pub scope_all: Option<bool>,
}

/// The command line and the config file, merged.
#[derive(Debug)]
pub struct Resolved {
    pub config: Config,
    pub gate: Gate,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// Things worth a line on standard error (a `--jobs` that was capped).
    pub notices: Vec<String>,
}

/// Where a gate setting came from, to say so when it fails the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    CommandLine,
    File(PathBuf),
}

/// When a scan fails the run (exit 1).
#[derive(Clone, Debug)]
pub struct Gate {
    pub fail_on: FailOn,
    pub fail_on_origin: Origin,
    pub min_grade: Letter,
    pub min_grade_origin: Origin,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            fail_on: FailOn::Low,
            fail_on_origin: Origin::Default,
            min_grade: Letter::F,
            min_grade_origin: Origin::Default,
        }
    }
}

/// A gate's judgement of a report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Why the run fails (exit 1), one line per reason; empty when it passes.
    pub failures: Vec<String>,
    /// What the gate could not check, worth a line on standard error.
    pub notes: Vec<String>,
}

impl Gate {
    /// Judges `report`. An overall grade that is not graded (no file
    /// scanned, or no rule that ran on any axis) is below no `min-grade`:
    /// the gate says it could not check, and the empty-scan warning says
    /// what happened (the Action fails on an empty scan).
    pub fn judge(&self, report: &Report) -> Verdict {
        let mut v = Verdict::default();
        if let Some(t) = self.fail_on.threshold() {
            let n = report.findings.iter().filter(|f| f.severity >= t).count();
            if n > 0 {
                v.failures.push(format!(
                    "{n} finding{} at or above {}",
                    if n == 1 { "" } else { "s" },
                    setting("fail-on", self.fail_on.as_str(), &self.fail_on_origin)
                ));
            }
        }
        let min_grade = setting("min-grade", self.min_grade.as_str(), &self.min_grade_origin);
        match report.grades.overall {
            Some(overall) if overall.grade < self.min_grade => v
                .failures
                .push(format!("overall grade {overall} is below {min_grade}")),
            None if self.min_grade != Letter::F => v
                .notes
                .push(format!("{min_grade} not checked: nothing was graded")),
            _ => {}
        }
        v
    }
}

/// `--fail-on low (the default)`, `--fail-on medium`, `fail-on = "medium" in mcp-audit.toml`.
fn setting(key: &str, value: &str, origin: &Origin) -> String {
    match origin {
        Origin::Default => format!("--{key} {value} (the default)"),
        Origin::CommandLine => format!("--{key} {value}"),
        Origin::File(p) => format!("{key} = {value:?} in {}", p.display()),
    }
}

/// The most worker threads a scan starts: four per available core, and
/// never more than 256. The work is CPU-bound, so more threads than cores
/// buy nothing; each has a large stack, so thousands exhaust memory.
pub fn max_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(4).clamp(1, 256)
}

/// Merges the command line with the config file (`--config`, else the
/// nearest one above the first path) and reads the baseline.
pub fn resolve(cli: &Cli) -> Result<Resolved, ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let found = match &cli.config {
        Some(p) => Some(p.clone()),
        None => cli.paths.first().and_then(|p| find(p)),
    };
    let loaded = found.as_deref().map(load).transpose()?;
    let fc = loaded.as_ref().map(|l| &l.file);
    let config_path = loaded
        .as_ref()
        .map(|l| crate::fingerprint::absolute(&l.path, &cwd));
    let config_dir = config_path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let list = |v: Option<&Vec<String>>| v.cloned().unwrap_or_default();

    // The command line's selection replaces the file's; ignores add up,
    // but what --select names explicitly is not ignored by the file.
    let selected: Vec<&str> = cli
        .select
        .iter()
        .flat_map(|k| k.split(','))
        .filter_map(|k| crate::suppress::rule_key(k.trim()))
        .collect();
    let file_ignore: Vec<String> = list(fc.and_then(|f| f.ignore.as_ref()))
        .into_iter()
        .filter(|k| crate::suppress::rule_key(k).is_none_or(|id| !selected.contains(&id)))
        .collect();

    let mut exclude = vec![crate::discover::Exclude {
        base: cwd.clone(),
        globs: cli.exclude.clone(),
        origin: "--exclude".into(),
    }];
    if let (Some(dir), Some(globs)) = (&config_dir, fc.and_then(|f| f.exclude.as_ref())) {
        exclude.push(crate::discover::Exclude {
            base: dir.clone(),
            globs: globs.clone(),
            origin: crate::discover::display_path(
                config_path.as_deref().unwrap_or(Path::new("")),
                &cwd,
            ),
        });
    }

    let mut notices = Vec::new();
    let jobs = cli.jobs.map(|j| {
        let cap = max_jobs();
        if j > cap {
            notices.push(format!(
                "--jobs {j} is more than this machine can use: running {cap} worker threads"
            ));
        }
        j.min(cap)
    });

    let baseline = cli.baseline.as_deref().map(read_baseline).transpose()?;

    let shown_file = found
        .as_deref()
        .map(|p| crate::discover::display_path(&crate::fingerprint::absolute(p, &cwd), &cwd))
        .unwrap_or_default();
    let file_origin = || Origin::File(PathBuf::from(&shown_file));
    let (fail_on, fail_on_origin) = match (cli.fail_on, fc.and_then(|f| f.fail_on.as_deref())) {
        (Some(v), _) => (v, Origin::CommandLine),
        // Checked by `load`.
        (None, Some(v)) => (v.parse().unwrap_or_default(), file_origin()),
        (None, None) => (FailOn::Low, Origin::Default),
    };
    let (min_grade, min_grade_origin) =
        match (cli.min_grade, fc.and_then(|f| f.min_grade.as_deref())) {
            (Some(v), _) => (v, Origin::CommandLine),
            (None, Some(v)) => (v.parse().unwrap_or(Letter::F), file_origin()),
            (None, None) => (Letter::F, Origin::Default),
        };

    let config = Config {
        select: if cli.select.is_empty() {
            list(fc.and_then(|f| f.select.as_ref()))
        } else {
            cli.select.clone()
        },
        ignore: [file_ignore, cli.ignore.clone()].concat(),
        knowledge: [
            loaded
                .as_ref()
                .map(|l| l.knowledge_paths())
                .unwrap_or_default(),
            cli.knowledge.clone(),
        ]
        .concat(),
        jobs,
        max_file_size: cli
            .max_file_size
            .or(fc.and_then(|f| f.max_file_size))
            .unwrap_or(crate::DEFAULT_MAX_FILE_SIZE),
        prefilter: !cli.no_prefilter,
        discover: crate::discover::Options { exclude },
        per_path_ignores: loaded
            .as_ref()
            .map(|l| l.per_path_ignores())
            .unwrap_or_default(),
        baseline,
        scope_all: cli.scope_all.unwrap_or_else(|| {
            fc.and_then(|f| f.scope.as_deref())
                .is_some_and(|v| v.eq_ignore_ascii_case("all"))
        }),
        root: Some(crate::fingerprint::project_root(
            config_path.as_deref(),
            &cli.paths,
            &cwd,
        )),
    };
    Ok(Resolved {
        config,
        gate: Gate {
            fail_on,
            fail_on_origin,
            min_grade,
            min_grade_origin,
        },
        file: found,
        notices,
    })
}

/// Reads a baseline file written by `--write-baseline`.
pub fn read_baseline(path: &Path) -> Result<crate::suppress::Baseline, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadBaseline {
        path: shown.clone(),
        source,
    })?;
    let invalid = |message: String| ConfigError::InvalidBaseline {
        path: shown.clone(),
        message,
    };
    let b: crate::suppress::Baseline =
        serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    if b.version != crate::suppress::BASELINE_VERSION {
        return Err(invalid(format!(
            "version {} (this mcp-audit reads version {})",
            b.version,
            crate::suppress::BASELINE_VERSION
        )));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(name: &str, text: &str) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        load(&p)
    }

    #[test]
    fn a_bad_key_is_named() {
        let e = load_str("mcp-audit.toml", "selekt = [\"MCP101\"]\n").unwrap_err();
        assert!(e.to_string().contains("selekt"), "{e}");
        let e = load_str("mcp-audit.toml", "fail-on = \"sometimes\"\n").unwrap_err();
        assert!(e.to_string().contains("fail-on"), "{e}");
        let e = load_str("pyproject.toml", "[tool.mcp-audit]\nmin-grade = \"Z\"\n").unwrap_err();
        assert!(e.to_string().contains("min-grade"), "{e}");
        let e = load_str("mcp-audit.toml", "ignore = [\"MCP999\"]\n").unwrap_err();
        assert!(e.to_string().contains("MCP999"), "{e}");
    }

    #[test]
    fn pyproject_table_and_walk_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n\n[tool.mcp-audit]\nignore = [\"unbounded-await\"]\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("src/pkg")).unwrap();
        let found = find(&dir.path().join("src/pkg")).unwrap();
        assert!(found.ends_with("pyproject.toml"));
        let l = load(&found).unwrap();
        assert_eq!(l.file.ignore.unwrap(), vec!["unbounded-await"]);
    }
}
