//! A rule's runnable case: `fixtures/<rule-name>/verify.toml` (the scenario)
//! and, per language, a `<lang>-flagged/` and a `<lang>-fixed/` server.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::rules::{Rule, REGISTRY};

/// A language a case can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    Python,
    TypeScript,
    Rust,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Python, Lang::TypeScript, Lang::Rust];

    /// The folder prefix and `verify.toml` table name.
    pub fn key(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::TypeScript => "typescript",
            Lang::Rust => "rust",
        }
    }

    /// The server's file in its folder.
    pub fn server_file(self) -> &'static str {
        match self {
            Lang::Python => "server.py",
            Lang::TypeScript => "server.ts",
            Lang::Rust => "main.rs",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Lang::Python => "Python",
            Lang::TypeScript => "TypeScript",
            Lang::Rust => "Rust",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "python" | "py" => Some(Lang::Python),
            "typescript" | "ts" | "javascript" | "js" => Some(Lang::TypeScript),
            "rust" | "rs" => Some(Lang::Rust),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Which of a case's servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// The form the rule reports: it must show the failure.
    Flagged,
    /// The form the rule's doc recommends: it must not.
    Fixed,
    /// The flagged server after `mcp-audit --fix`: it must not either.
    FixedByTool,
}

impl Variant {
    pub fn key(self) -> &'static str {
        match self {
            Variant::Flagged => "flagged",
            Variant::Fixed => "fixed",
            Variant::FixedByTool => "fixed-by-tool",
        }
    }

    /// Whether this server must show the failure.
    pub fn should_fail(self) -> bool {
        self == Variant::Flagged
    }
}

/// The failure a scenario provokes; see `verify/README.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioKind {
    Hang,
    RetryStorm,
    NoBreaker,
    BreakerCrossTrip,
    PoolWait,
    BlockingStall,
    Partial,
    FanOut,
    AuthDown,
    Leak,
    DoubleMutation,
    ReadOnlyMutates,
}

/// `verify.toml`, merged with the language's own table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub scenario: ScenarioKind,
    pub tool: String,
    #[serde(default)]
    pub arguments: Map<String, Value>,
    /// Added to `arguments` for the fixed servers only.
    #[serde(default)]
    pub fixed_arguments: Map<String, Value>,
    pub route: Option<String>,
    pub budget_ms: Option<u64>,
    pub calls: Option<u32>,
    pub window_ms: Option<u64>,
    pub trip_calls: Option<u32>,
    pub other_tool: Option<String>,
    #[serde(default)]
    pub other_arguments: Map<String, Value>,
    pub other_route: Option<String>,
    pub hold_tool: Option<String>,
    #[serde(default)]
    pub hold_arguments: Map<String, Value>,
    pub hold_route: Option<String>,
    pub hold_ms: Option<u64>,
    pub hold_calls: Option<u32>,
    pub slow_tool: Option<String>,
    #[serde(default)]
    pub slow_arguments: Map<String, Value>,
    pub slow_calls: Option<u32>,
    pub slow_ms: Option<u64>,
    pub marker: Option<String>,
    pub failing_route: Option<String>,
    pub items_arg: Option<String>,
    pub items: Option<u32>,
    pub limit: Option<u64>,
    pub auth_route: Option<String>,
    pub secret: Option<String>,
    pub mode: Option<String>,
    /// Environment variable → route; set to the route's full address.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// A parameter the scenario needs is missing.
#[derive(Debug)]
pub struct Missing(pub &'static str);

impl Params {
    pub fn need<T: Clone>(&self, v: &Option<T>, name: &'static str) -> Result<T, Missing> {
        v.clone().ok_or(Missing(name))
    }

    /// The arguments of `tool` for this server.
    pub fn arguments_for(&self, variant: Variant) -> Value {
        let mut args = self.arguments.clone();
        if variant != Variant::Flagged {
            for (k, v) in &self.fixed_arguments {
                args.insert(k.clone(), v.clone());
            }
        }
        Value::Object(args)
    }
}

/// One rule in one language.
#[derive(Clone)]
pub struct Case {
    pub rule: &'static Rule,
    pub lang: Lang,
    pub params: Params,
    /// `fixtures/<rule-name>/<lang>-flagged/`.
    pub flagged_dir: PathBuf,
    /// `fixtures/<rule-name>/<lang>-fixed/`.
    pub fixed_dir: PathBuf,
}

impl Case {
    pub fn dir(&self, variant: Variant) -> &Path {
        match variant {
            Variant::Flagged => &self.flagged_dir,
            _ => &self.fixed_dir,
        }
    }

    pub fn server(&self, variant: Variant) -> PathBuf {
        self.dir(variant).join(self.lang.server_file())
    }

    /// The Rust binary built from this case's server.
    pub fn bin_name(&self, variant: Variant) -> String {
        format!("{}-{}", self.rule.name, variant.key())
    }
}

/// Reads every `fixtures/*/verify.toml` under `root`, in registry order,
/// keeping the rules and languages asked for (all when empty).
pub fn load(root: &Path, rules: &[String], langs: &[Lang]) -> Result<Vec<Case>, String> {
    let fixtures = root.join("fixtures");
    if !fixtures.is_dir() {
        return Err(format!(
            "no fixtures folder at {}: run `mcp-audit verify` from a checkout of the mcp-audit \
             repository, or name one with --root",
            fixtures.display()
        ));
    }
    let mut out = Vec::new();
    for rule in REGISTRY {
        let wanted = rules.is_empty()
            || rules
                .iter()
                .any(|r| r.eq_ignore_ascii_case(rule.id) || r.eq_ignore_ascii_case(rule.name));
        if !wanted {
            continue;
        }
        let dir = fixtures.join(rule.name);
        let file = dir.join("verify.toml");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        let mut table: toml::Table = text
            .parse()
            .map_err(|e| format!("{}: not valid TOML: {e}", file.display()))?;
        let overrides: Vec<(Lang, toml::Table)> = Lang::ALL
            .iter()
            .filter_map(|l| match table.remove(l.key()) {
                Some(toml::Value::Table(t)) => Some((*l, t)),
                _ => None,
            })
            .collect();
        for lang in Lang::ALL {
            if !langs.is_empty() && !langs.contains(&lang) {
                continue;
            }
            let flagged_dir = dir.join(format!("{lang}-flagged"));
            let fixed_dir = dir.join(format!("{lang}-fixed"));
            let (has_flagged, has_fixed) = (
                flagged_dir.join(lang.server_file()).is_file(),
                fixed_dir.join(lang.server_file()).is_file(),
            );
            match (has_flagged, has_fixed) {
                (false, false) => continue,
                (true, true) => {}
                _ => {
                    return Err(format!(
                        "{}: a case needs both {}/{} and {}/{}",
                        dir.display(),
                        flagged_dir
                            .file_name()
                            .unwrap_or_default()
                            .to_string_lossy(),
                        lang.server_file(),
                        fixed_dir.file_name().unwrap_or_default().to_string_lossy(),
                        lang.server_file()
                    ))
                }
            }
            let mut merged = table.clone();
            if let Some((_, t)) = overrides.iter().find(|(l, _)| *l == lang) {
                for (k, v) in t {
                    merged.insert(k.clone(), v.clone());
                }
            }
            let params: Params = merged
                .try_into()
                .map_err(|e| format!("{}: {e}", file.display()))?;
            out.push(Case {
                rule,
                lang,
                params,
                flagged_dir,
                fixed_dir,
            });
        }
    }
    Ok(out)
}
