//! The GitHub Action, run from `action.yml` itself the way a runner runs a
//! composite action: the file is parsed with a YAML parser, the `${{ }}`
//! expressions it uses are evaluated (inputs and their defaults, step
//! outputs, `github.*`, `runner.*`, `format`, status functions,
//! comparisons), each `run:` step runs under `bash --noprofile --norc -eo
//! pipefail` with its `env:` and fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY /
//! GITHUB_PATH / GITHUB_ENV files, `if:` is honoured (with the implicit
//! `success() &&`), and `uses:` steps are stubbed and recorded.
//!
//! mcp-audit is installed by the action's own install step, from a release
//! directory served on 127.0.0.1 and built with scripts/release.sh, the
//! script the release workflow packages with.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use yaml_rust2::{Yaml, YamlLoader};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

// ---------------------------------------------------------------------------
// action.yml, as a runner reads it

#[derive(Debug)]
struct Action {
    /// Declared inputs and their defaults, in file order.
    inputs: Vec<(String, Option<String>)>,
    outputs: Vec<(String, String)>,
    steps: Vec<Step>,
}

#[derive(Debug)]
struct Step {
    name: String,
    id: Option<String>,
    cond: Option<String>,
    uses: Option<String>,
    with: Vec<(String, String)>,
    env: Vec<(String, String)>,
    run: Option<String>,
    shell: Option<String>,
}

fn scalar(y: &Yaml, what: &str) -> Result<String, String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        Yaml::Null => Ok(String::new()),
        other => Err(format!("{what}: expected a scalar, found {other:?}")),
    }
}

fn mapping<'a>(y: &'a Yaml, what: &str) -> Result<Vec<(String, &'a Yaml)>, String> {
    match y {
        Yaml::Hash(h) => h.iter().map(|(k, v)| Ok((scalar(k, what)?, v))).collect(),
        Yaml::BadValue => Ok(Vec::new()),
        other => Err(format!("{what}: expected a mapping, found {other:?}")),
    }
}

fn string_map(y: &Yaml, what: &str) -> Result<Vec<(String, String)>, String> {
    mapping(y, what)?
        .into_iter()
        .map(|(k, v)| Ok((k.clone(), scalar(v, &format!("{what}.{k}"))?)))
        .collect()
}

fn parse_action(text: &str) -> Result<Action, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let [doc] = docs.as_slice() else {
        return Err(format!("expected one YAML document, found {}", docs.len()));
    };
    for key in ["name", "description"] {
        match &doc[key] {
            Yaml::String(_) => {}
            other => return Err(format!("`{key}` must be a string, found {other:?}")),
        }
    }
    let mut inputs = Vec::new();
    for (name, spec) in mapping(&doc["inputs"], "inputs")? {
        let Yaml::String(_) = &spec["description"] else {
            return Err(format!("input `{name}` needs a string description"));
        };
        let default = match &spec["default"] {
            Yaml::BadValue => None,
            d => Some(scalar(d, &format!("inputs.{name}.default"))?),
        };
        inputs.push((name, default));
    }
    let mut outputs = Vec::new();
    for (name, spec) in mapping(&doc["outputs"], "outputs")? {
        outputs.push((
            name.clone(),
            scalar(&spec["value"], &format!("outputs.{name}"))?,
        ));
    }
    if scalar(&doc["runs"]["using"], "runs.using")? != "composite" {
        return Err("runs.using must be `composite`".into());
    }
    let Yaml::Array(raw_steps) = &doc["runs"]["steps"] else {
        return Err("runs.steps must be a list".into());
    };
    let mut steps = Vec::new();
    for (i, s) in raw_steps.iter().enumerate() {
        let what = format!("step {}", i + 1);
        let mut step = Step {
            name: format!("step {}", i + 1),
            id: None,
            cond: None,
            uses: None,
            with: Vec::new(),
            env: Vec::new(),
            run: None,
            shell: None,
        };
        for (key, v) in mapping(s, &what)? {
            let field = format!("{what}.{key}");
            match key.as_str() {
                "name" => step.name = scalar(v, &field)?,
                "id" => step.id = Some(scalar(v, &field)?),
                "if" => step.cond = Some(scalar(v, &field)?),
                "uses" => step.uses = Some(scalar(v, &field)?),
                "run" => step.run = Some(scalar(v, &field)?),
                "shell" => step.shell = Some(scalar(v, &field)?),
                "with" => step.with = string_map(v, &field)?,
                "env" => step.env = string_map(v, &field)?,
                _ => return Err(format!("{what}: key `{key}` is not supported here")),
            }
        }
        match (&step.uses, &step.run) {
            (Some(_), None) => {}
            (None, Some(_)) if step.shell.is_some() => {}
            (None, Some(_)) => {
                return Err(format!("{}: a composite run step needs `shell`", step.name))
            }
            _ => {
                return Err(format!(
                    "{}: needs exactly one of `uses` and `run`",
                    step.name
                ))
            }
        }
        steps.push(step);
    }
    Ok(Action {
        inputs,
        outputs,
        steps,
    })
}

// ---------------------------------------------------------------------------
// Expressions: the part of GitHub's expression language the action uses.
// Anything else is an error, so a new construct in action.yml fails here
// until the harness learns it rather than evaluating to "".

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => n.to_string(),
            Value::Str(s) => s.clone(),
        }
    }

    fn number(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Num(n) => *n,
            Value::Str(s) if s.trim().is_empty() => 0.0,
            Value::Str(s) => s.trim().parse().unwrap_or(f64::NAN),
        }
    }

    /// `==`: strings compare case-insensitively; mixed types compare as
    /// numbers.
    fn loose_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a.eq_ignore_ascii_case(b),
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (a, b) => a.number() == b.number(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Punct(&'static str),
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated string in `{src}`")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Tok::Num(
                text.parse().map_err(|_| format!("bad number `{text}`"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '-')
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["==", "!=", "&&", "||", "<=", ">="]
                .into_iter()
                .find(|op| *op == two);
            if let Some(op) = op {
                out.push(Tok::Punct(op));
                i += 2;
            } else {
                let op = ["(", ")", "[", "]", ".", ",", "!", "<", ">"]
                    .into_iter()
                    .find(|op| op.starts_with(c))
                    .ok_or_else(|| format!("unexpected `{c}` in `{src}`"))?;
                out.push(Tok::Punct(op));
                i += 1;
            }
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Ast {
    Lit(Value),
    Ctx(Vec<String>),
    Call(String, Vec<Ast>),
    Not(Box<Ast>),
    Bin(&'static str, Box<Ast>, Box<Ast>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), String> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(format!("expected `{p}`, found {:?}", self.peek()))
        }
    }

    fn binary(
        &mut self,
        ops: &[&'static str],
        next: fn(&mut Self) -> Result<Ast, String>,
    ) -> Result<Ast, String> {
        let mut left = next(self)?;
        'outer: loop {
            for op in ops {
                if self.eat(op) {
                    left = Ast::Bin(op, Box::new(left), Box::new(next(self)?));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn or(&mut self) -> Result<Ast, String> {
        self.binary(&["||"], Self::and)
    }

    fn and(&mut self) -> Result<Ast, String> {
        self.binary(&["&&"], Self::eq)
    }

    fn eq(&mut self) -> Result<Ast, String> {
        self.binary(&["==", "!="], Self::cmp)
    }

    fn cmp(&mut self) -> Result<Ast, String> {
        self.binary(&["<=", ">=", "<", ">"], Self::unary)
    }

    fn unary(&mut self) -> Result<Ast, String> {
        if self.eat("!") {
            Ok(Ast::Not(Box::new(self.unary()?)))
        } else {
            self.primary()
        }
    }

    fn primary(&mut self) -> Result<Ast, String> {
        let tok = self.peek().cloned().ok_or("unexpected end of expression")?;
        self.pos += 1;
        match tok {
            Tok::Str(s) => Ok(Ast::Lit(Value::Str(s))),
            Tok::Num(n) => Ok(Ast::Lit(Value::Num(n))),
            Tok::Punct("(") => {
                let e = self.or()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(id) if id == "true" => Ok(Ast::Lit(Value::Bool(true))),
            Tok::Ident(id) if id == "false" => Ok(Ast::Lit(Value::Bool(false))),
            Tok::Ident(id) if id == "null" => Ok(Ast::Lit(Value::Null)),
            Tok::Ident(id) if self.eat("(") => {
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.or()?);
                        if self.eat(")") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(Ast::Call(id, args))
            }
            Tok::Ident(id) => {
                let mut path = vec![id];
                loop {
                    if self.eat(".") {
                        match self.peek().cloned() {
                            Some(Tok::Ident(p)) => {
                                self.pos += 1;
                                path.push(p);
                            }
                            other => return Err(format!("expected a property, found {other:?}")),
                        }
                    } else if self.eat("[") {
                        match self.peek().cloned() {
                            Some(Tok::Str(p)) => {
                                self.pos += 1;
                                path.push(p);
                            }
                            other => return Err(format!("only literal indexes, found {other:?}")),
                        }
                        self.expect("]")?;
                    } else {
                        return Ok(Ast::Ctx(path));
                    }
                }
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

fn parse_expr(src: &str) -> Result<Ast, String> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
    };
    let ast = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("trailing tokens in `{src}`"));
    }
    Ok(ast)
}

fn has_status_check(ast: &Ast) -> bool {
    match ast {
        Ast::Call(name, args) => {
            ["success", "failure", "always", "cancelled"].contains(&name.as_str())
                || args.iter().any(has_status_check)
        }
        Ast::Not(a) => has_status_check(a),
        Ast::Bin(_, a, b) => has_status_check(a) || has_status_check(b),
        Ast::Lit(_) | Ast::Ctx(_) => false,
    }
}

/// What the expressions of a composite action can see.
#[derive(Default)]
struct Contexts {
    inputs: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
    github: BTreeMap<String, String>,
    runner: BTreeMap<String, String>,
    failed: bool,
}

impl Contexts {
    fn lookup(&self, path: &[String]) -> Result<Value, String> {
        let get = |m: &BTreeMap<String, String>, k: &str| {
            m.get(k).cloned().map(Value::Str).unwrap_or(Value::Null)
        };
        match path {
            [root, name] if root == "inputs" => self
                .inputs
                .get(name)
                .cloned()
                .map(Value::Str)
                .ok_or_else(|| format!("inputs.{name} is not a declared input")),
            [root, id, outputs, name] if root == "steps" && outputs == "outputs" => {
                Ok(self.steps.get(id).map_or(Value::Null, |o| get(o, name)))
            }
            [root, name] if root == "github" && self.github.contains_key(name) => {
                Ok(get(&self.github, name))
            }
            [root, name] if root == "runner" && self.runner.contains_key(name) => {
                Ok(get(&self.runner, name))
            }
            _ => Err(format!("the harness does not know `{}`", path.join("."))),
        }
    }

    fn eval(&self, ast: &Ast) -> Result<Value, String> {
        Ok(match ast {
            Ast::Lit(v) => v.clone(),
            Ast::Ctx(path) => self.lookup(path)?,
            Ast::Not(a) => Value::Bool(!self.eval(a)?.truthy()),
            Ast::Bin(op, a, b) => {
                let l = self.eval(a)?;
                // Both sides are evaluated, so an unknown name on either
                // side fails even where GitHub would short-circuit.
                let r = self.eval(b)?;
                match *op {
                    "&&" => {
                        if l.truthy() {
                            r
                        } else {
                            l
                        }
                    }
                    "||" => {
                        if l.truthy() {
                            l
                        } else {
                            r
                        }
                    }
                    "==" => Value::Bool(l.loose_eq(&r)),
                    "!=" => Value::Bool(!l.loose_eq(&r)),
                    op => {
                        let (x, y) = (l.number(), r.number());
                        Value::Bool(match op {
                            "<" => x < y,
                            "<=" => x <= y,
                            ">" => x > y,
                            _ => x >= y,
                        })
                    }
                }
            }
            Ast::Call(name, args) => {
                let args = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                match (name.as_str(), args.as_slice()) {
                    ("always", []) => Value::Bool(true),
                    ("success", []) => Value::Bool(!self.failed),
                    ("failure", []) => Value::Bool(self.failed),
                    ("cancelled", []) => Value::Bool(false),
                    ("format", [fmt, rest @ ..]) => Value::Str(format_fn(&fmt.text(), rest)?),
                    ("contains", [hay, needle]) => Value::Bool(
                        hay.text()
                            .to_lowercase()
                            .contains(&needle.text().to_lowercase()),
                    ),
                    _ => return Err(format!("the harness does not know {name}/{}", args.len())),
                }
            }
        })
    }

    /// A whole `if:` condition: `${{ }}` optional, and `success() && ( )`
    /// implied when the condition calls no status function.
    fn condition(&self, cond: &str) -> Result<bool, String> {
        let t = cond.trim();
        let inner = t
            .strip_prefix("${{")
            .and_then(|r| r.strip_suffix("}}"))
            .unwrap_or(t);
        let ast = parse_expr(inner)?;
        if has_status_check(&ast) {
            Ok(self.eval(&ast)?.truthy())
        } else {
            Ok(!self.failed && self.eval(&ast)?.truthy())
        }
    }

    /// A string with `${{ }}` templates in it.
    fn template(&self, s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let body = &rest[start + 3..];
            let mut in_str = false;
            let mut end = None;
            let bytes = body.as_bytes();
            for i in 0..bytes.len() {
                match bytes[i] {
                    b'\'' => in_str = !in_str,
                    b'}' if !in_str && bytes.get(i + 1) == Some(&b'}') => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or_else(|| format!("unclosed `${{{{` in `{s}`"))?;
            out.push_str(&self.eval(&parse_expr(&body[..end])?)?.text());
            rest = &body[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn format_fn(fmt: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let n: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let i: usize = n.parse().map_err(|_| format!("bad format index `{n}`"))?;
                out.push_str(&args.get(i).ok_or("format index out of range")?.text());
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// A runner for the composite action

#[derive(Debug, PartialEq)]
enum Outcome {
    Success,
    Failure(i32),
    Skipped,
}

/// A stubbed `uses:` step: what it was called with, and which of its
/// `with:` values named a file that existed when it ran.
#[derive(Debug)]
struct UsesCall {
    uses: String,
    with: BTreeMap<String, String>,
    existing_files: Vec<String>,
}

#[derive(Debug)]
struct Run {
    outputs: BTreeMap<String, String>,
    summary: String,
    log: String,
    steps: Vec<(String, Outcome)>,
    calls: Vec<UsesCall>,
    failed: bool,
}

impl Run {
    fn last_exit_code(&self) -> i32 {
        match self.steps.last() {
            Some((_, Outcome::Success)) => 0,
            Some((_, Outcome::Failure(c))) => *c,
            other => panic!("the last step did not run: {other:?}\n{}", self.log),
        }
    }

    fn outcome(&self, name_prefix: &str) -> &Outcome {
        &self
            .steps
            .iter()
            .find(|(n, _)| n.starts_with(name_prefix))
            .unwrap_or_else(|| panic!("no step `{name_prefix}`"))
            .1
    }

    fn called(&self, uses_prefix: &str) -> Option<&UsesCall> {
        self.calls.iter().find(|c| c.uses.starts_with(uses_prefix))
    }
}

struct Runner {
    action_path: PathBuf,
    workspace: PathBuf,
    temp: PathBuf,
    /// The environment of the `uses:` step that calls the action.
    env: Vec<(String, String)>,
    /// Directories put before the system PATH (stub tools).
    extra_path: Vec<PathBuf>,
}

/// The system PATH without any directory that holds an mcp-audit, so only
/// the install step can put one there.
fn base_path() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| !d.join("mcp-audit").exists())
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

fn runner_os_arch() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "macOS",
        "windows" => "Windows",
        _ => "Linux",
    };
    let arch = match std::env::consts::ARCH {
        "aarch64" => "ARM64",
        "x86_64" => "X64",
        other => other,
    };
    (os, arch)
}

fn parse_output_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((k, delim)) = line.split_once("<<") {
            let mut v = Vec::new();
            loop {
                match lines.next() {
                    Some(l) if l == delim => break,
                    Some(l) => v.push(l),
                    None => return Err(format!("no closing {delim} for {k}")),
                }
            }
            out.push((k.to_string(), v.join("\n")));
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        } else {
            return Err(format!("bad output line `{line}`"));
        }
    }
    Ok(out)
}

impl Runner {
    fn run(&self, action: &Action, given: &[(&str, &str)]) -> Result<Run, String> {
        let (os, arch) = runner_os_arch();
        let mut cx = Contexts::default();
        cx.github
            .insert("action_path".into(), self.action_path.display().to_string());
        cx.github
            .insert("action_repository".into(), "OWNER/mcp-audit".into());
        cx.github
            .insert("workspace".into(), self.workspace.display().to_string());
        cx.runner
            .insert("temp".into(), self.temp.display().to_string());
        cx.runner.insert("os".into(), os.into());
        cx.runner.insert("arch".into(), arch.into());
        for (k, _) in given {
            if !action.inputs.iter().any(|(n, _)| n == k) {
                return Err(format!("`{k}` is not an input of the action"));
            }
        }
        for (name, default) in &action.inputs {
            let value = match given.iter().find(|(k, _)| k == name) {
                Some((_, v)) => v.to_string(),
                None => cx.template(default.as_deref().unwrap_or(""))?,
            };
            cx.inputs.insert(name.clone(), value);
        }

        let mut run = Run {
            outputs: BTreeMap::new(),
            summary: String::new(),
            log: String::new(),
            steps: Vec::new(),
            calls: Vec::new(),
            failed: false,
        };
        let mut added_path: Vec<String> = self
            .extra_path
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut added_env: Vec<(String, String)> = Vec::new();
        for (i, step) in action.steps.iter().enumerate() {
            let go = match &step.cond {
                Some(c) => cx.condition(c)?,
                None => !cx.failed,
            };
            if !go {
                run.steps.push((step.name.clone(), Outcome::Skipped));
                continue;
            }
            if let Some(uses) = &step.uses {
                let mut with = BTreeMap::new();
                let mut existing_files = Vec::new();
                for (k, v) in &step.with {
                    let v = cx.template(v)?;
                    if !v.is_empty() && !v.contains('\n') && self.workspace.join(&v).is_file() {
                        existing_files.push(k.clone());
                    }
                    with.insert(k.clone(), v);
                }
                run.calls.push(UsesCall {
                    uses: uses.clone(),
                    with,
                    existing_files,
                });
                run.steps.push((step.name.clone(), Outcome::Success));
                continue;
            }
            if step.shell.as_deref() != Some("bash") {
                return Err(format!("{}: only `shell: bash` is emulated", step.name));
            }
            let dir = self.temp.join(format!("_step{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let files = ["output", "summary", "path", "env"].map(|f| {
                let p = dir.join(f);
                std::fs::write(&p, "").unwrap();
                p
            });
            let script = dir.join("script.sh");
            std::fs::write(&script, cx.template(step.run.as_deref().unwrap())?).unwrap();
            let mut path = added_path.iter().rev().cloned().collect::<Vec<_>>();
            path.push(base_path());
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script)
                .current_dir(&self.workspace)
                .env_clear()
                .env("PATH", path.join(":"))
                .env("HOME", std::env::var("HOME").unwrap_or_else(|_| "/".into()))
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_ACTION_PATH", &self.action_path)
                .env("GITHUB_REPOSITORY", "user/project")
                .env("RUNNER_TEMP", &self.temp)
                .env("RUNNER_OS", os)
                .env("RUNNER_ARCH", arch)
                .env("GITHUB_OUTPUT", &files[0])
                .env("GITHUB_STEP_SUMMARY", &files[1])
                .env("GITHUB_PATH", &files[2])
                .env("GITHUB_ENV", &files[3]);
            for (k, v) in self.env.iter().chain(&added_env) {
                cmd.env(k, v);
            }
            for (k, v) in &step.env {
                cmd.env(k, cx.template(v)?);
            }
            let log = dir.join("log");
            let log_file = std::fs::File::create(&log).unwrap();
            cmd.stdin(Stdio::null())
                .stdout(log_file.try_clone().unwrap())
                .stderr(log_file);
            let mut child = cmd.spawn().map_err(|e| format!("bash: {e}"))?;
            let deadline = Instant::now() + Duration::from_secs(300);
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{}: still running after 300 s", step.name));
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            run.log.push_str(&format!("## {}\n", step.name));
            run.log.push_str(&std::fs::read_to_string(&log).unwrap());
            let outputs = parse_output_file(&std::fs::read_to_string(&files[0]).unwrap())?;
            if let Some(id) = &step.id {
                cx.steps.insert(id.clone(), outputs.into_iter().collect());
            }
            run.summary
                .push_str(&std::fs::read_to_string(&files[1]).unwrap());
            added_path.extend(
                std::fs::read_to_string(&files[2])
                    .unwrap()
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
            added_env.extend(parse_output_file(
                &std::fs::read_to_string(&files[3]).unwrap(),
            )?);
            let code = status.code().unwrap_or(-1);
            if code == 0 {
                run.steps.push((step.name.clone(), Outcome::Success));
            } else {
                cx.failed = true;
                run.steps.push((step.name.clone(), Outcome::Failure(code)));
            }
        }
        for (name, value) in &action.outputs {
            run.outputs.insert(name.clone(), cx.template(value)?);
        }
        run.failed = cx.failed;
        Ok(run)
    }
}

fn action() -> Action {
    let text = std::fs::read_to_string(Path::new(REPO).join("action.yml")).unwrap();
    parse_action(&text).unwrap_or_else(|e| panic!("action.yml: {e}"))
}

// ---------------------------------------------------------------------------
// A release directory on 127.0.0.1

/// Serves files below `root` over HTTP/1.1 on 127.0.0.1 until dropped; at
/// most 64 connections, each with a read timeout.
struct Server {
    base: String,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop2, requests2) = (stop.clone(), requests.clone());
        let handle = std::thread::spawn(move || {
            for conn in listener.incoming().take(64) {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
                requests2.lock().unwrap().push(target.clone());
                let file = target
                    .strip_prefix('/')
                    .filter(|t| !t.split('/').any(|s| s == ".." || s.is_empty()))
                    .map(|t| root.join(t))
                    .filter(|p| p.is_file());
                let _ = match file {
                    Some(p) => {
                        let body = std::fs::read(p).unwrap();
                        conn.write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                                body.len()
                            )
                            .as_bytes(),
                        )
                        .and_then(|_| conn.write_all(&body))
                    }
                    None => conn.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
                    ),
                };
            }
        });
        Server {
            base: format!("http://{addr}"),
            stop,
            handle: Some(handle),
            requests,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept() so the thread sees the flag.
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The release target of this machine, named as the release workflow
/// names it; None where there is no release binary.
fn host_target() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("x86_64-unknown-linux-gnu"),
        ("linux", "aarch64") => Some("aarch64-unknown-linux-gnu"),
        ("macos", "aarch64") => Some("aarch64-apple-darwin"),
        ("macos", "x86_64") => Some("x86_64-apple-darwin"),
        _ => None,
    }
}

/// A release directory (`vVERSION/ARCHIVE`, `vVERSION/SHA256SUMS`) made by
/// scripts/release.sh, built once per test run. The packaged "binary" is a
/// two-line script that runs the test build of mcp-audit: the installer
/// handles the archive's bytes alike whatever they are, and the debug build
/// is over 100 MB to gzip.
fn release_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = host_target().expect("a release target for this machine");
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("action-release-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join(format!("v{VERSION}"));
        std::fs::create_dir_all(&dir).unwrap();
        let wrapper = root.join("mcp-audit");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec '{}' \"$@\"\n",
                env!("CARGO_BIN_EXE_mcp-audit")
            ),
        )
        .unwrap();
        let script = Path::new(REPO).join("scripts/release.sh");
        for args in [
            vec![
                "package".to_string(),
                VERSION.to_string(),
                target.to_string(),
                wrapper.display().to_string(),
                dir.display().to_string(),
            ],
            vec!["checksums".to_string(), dir.display().to_string()],
        ] {
            let out = Command::new("bash")
                .arg(&script)
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "release.sh {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        root
    })
}

fn archive_name() -> String {
    format!("mcp-audit-{VERSION}-{}.tar.gz", host_target().unwrap())
}

/// A workspace with `src` (a copy of a fixture server with MCP101
/// findings), `docs` (no source) and `skipped` (only a file every scan
/// skips).
fn workspace(root: &Path) -> PathBuf {
    let ws = root.join("workspace");
    let from = Path::new(REPO).join("fixtures/unbounded-await/python/weather");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), ws.join("src").join(entry.file_name())).unwrap();
        }
    }
    std::fs::create_dir_all(ws.join("docs")).unwrap();
    std::fs::write(ws.join("docs/README.md"), "# docs\n").unwrap();
    std::fs::create_dir_all(ws.join("skipped")).unwrap();
    std::fs::write(ws.join("skipped/__init__.py"), "").unwrap();
    ws
}

struct Harness {
    _tmp: tempfile::TempDir,
    runner: Runner,
}

impl Harness {
    fn new(release_base: &str) -> Harness {
        let tmp = tempfile::tempdir().unwrap();
        let temp = tmp.path().join("runner-temp");
        std::fs::create_dir_all(&temp).unwrap();
        let runner = Runner {
            action_path: PathBuf::from(REPO),
            workspace: workspace(tmp.path()),
            temp,
            env: vec![(
                "MCP_AUDIT_RELEASE_BASE_URL".to_string(),
                release_base.to_string(),
            )],
            extra_path: Vec::new(),
        };
        Harness { _tmp: tmp, runner }
    }

    fn run(&self, inputs: &[(&str, &str)]) -> Run {
        self.runner
            .run(&action(), inputs)
            .unwrap_or_else(|e| panic!("the harness could not run the action: {e}"))
    }
}

/// Runs the action with `version:` set, installing from a local release.
fn run_released(inputs: &[(&str, &str)]) -> Option<(Run, Harness)> {
    if host_target().is_none() {
        eprintln!("no release target for this machine: skipped");
        return None;
    }
    let server = Server::start(release_dir().to_path_buf());
    let h = Harness::new(&server.base);
    let mut all = vec![("version", VERSION)];
    all.extend_from_slice(inputs);
    let run = h.run(&all);
    drop(server);
    Some((run, h))
}

fn error_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.starts_with("::error")).collect()
}

// ---------------------------------------------------------------------------
// The harness itself

const BROKEN_ACTION: &str = r#"name: mcp-audit
description: Audit MCP servers.
inputs:
  config:
    description: Config file (default: mcp-audit.toml).
    default: ""
runs:
  using: composite
  steps:
    - run: echo hi
      shell: bash
"#;

#[test]
fn an_unquoted_colon_in_a_description_is_not_yaml_and_fails_the_harness() {
    let err = parse_action(BROKEN_ACTION).unwrap_err();
    assert!(err.starts_with("not YAML"), "{err}");
    // Quoted, the same file loads.
    let fixed = BROKEN_ACTION.replace(
        "description: Config file (default: mcp-audit.toml).",
        "description: \"Config file (default: mcp-audit.toml).\"",
    );
    let action = parse_action(&fixed).unwrap();
    assert_eq!(action.inputs, vec![("config".into(), Some(String::new()))]);
}

#[test]
fn the_harness_rejects_what_a_runner_rejects() {
    let no_shell = BROKEN_ACTION
        .replace("(default: mcp-audit.toml)", "(default mcp-audit.toml)")
        .replace("      shell: bash\n", "");
    assert!(parse_action(&no_shell)
        .unwrap_err()
        .contains("needs `shell`"));
    let not_composite = BROKEN_ACTION
        .replace("(default: mcp-audit.toml)", "(default mcp-audit.toml)")
        .replace("using: composite", "using: node20");
    assert!(parse_action(&not_composite).is_err());
}

#[test]
fn expressions_follow_github_semantics() {
    let mut cx = Contexts::default();
    cx.inputs.insert("version".into(), String::new());
    cx.inputs.insert("upload-sarif".into(), "TRUE".into());
    cx.steps.insert(
        "scan".into(),
        [("sarif-file".to_string(), "out.sarif".to_string())].into(),
    );
    cx.runner.insert("os".into(), "Linux".into());
    let t = |s: &str| cx.template(s).unwrap();
    assert_eq!(t("${{ inputs.version == '' }}"), "true");
    // String comparison ignores case.
    assert_eq!(t("${{ inputs.upload-sarif == 'true' }}"), "true");
    assert_eq!(
        t("a-${{ runner.os }}-${{ steps.scan.outputs.sarif-file }}"),
        "a-Linux-out.sarif"
    );
    assert_eq!(t("${{ steps.scan.outputs.nothing }}"), "");
    assert_eq!(t("${{ steps.other.outputs.x || 'fallback' }}"), "fallback");
    assert_eq!(
        t("${{ format('{0}/Cargo.lock', 'a''b') }}"),
        "a'b/Cargo.lock"
    );
    assert_eq!(t("${{ inputs['version'] != '' && 'x' }}"), "false");
    assert!(cx.template("${{ inputs.nope }}").is_err());
    assert!(cx.template("${{ secrets.TOKEN }}").is_err());
    assert!(cx.template("${{ hashFiles('x') }}").is_err());
    // `if:` without a status function means success() && (...).
    assert!(cx.condition("inputs.version == ''").unwrap());
    cx.failed = true;
    assert!(!cx.condition("inputs.version == ''").unwrap());
    assert!(cx.condition("always() && inputs.version == ''").unwrap());
    assert!(cx.condition("${{ failure() }}").unwrap());
}

// ---------------------------------------------------------------------------
// action.yml's shape

#[test]
fn action_yml_passes_inputs_through_env_and_pins_every_action() {
    let action = action();
    for step in &action.steps {
        if let Some(run) = &step.run {
            assert!(
                !run.contains("${{"),
                "{}: an expression in `run:` is a script injection; pass it through `env:`",
                step.name
            );
        }
        if let Some(uses) = &step.uses {
            let pin = uses.split('@').nth(1).unwrap_or("");
            assert!(
                pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit()),
                "{uses} is not pinned by a commit SHA"
            );
        }
    }
    let outputs: Vec<&str> = action.outputs.iter().map(|(n, _)| n.as_str()).collect();
    for out in [
        "sarif-file",
        "maintenance-grade",
        "security-grade",
        "overall-grade",
        "findings",
        "files-scanned",
    ] {
        assert!(outputs.contains(&out), "output {out}");
    }
    let allow_empty = action.inputs.iter().find(|(n, _)| n == "allow-empty");
    assert_eq!(
        allow_empty.and_then(|(_, d)| d.as_deref()),
        Some("false"),
        "allow-empty defaults to false"
    );
}

// ---------------------------------------------------------------------------
// The action, run

#[test]
fn findings_fail_the_job_last_after_the_outputs_summary_and_sarif_upload() {
    let Some((run, h)) = run_released(&[("path", "src"), ("fail-on", "medium")]) else {
        return;
    };
    assert!(run.failed, "{}", run.log);
    assert_eq!(run.last_exit_code(), 1, "{}", run.log);
    assert_eq!(run.outcome("Run mcp-audit"), &Outcome::Success);
    assert_eq!(run.outputs["sarif-file"], "mcp-audit.sarif");
    assert_eq!(run.outputs["maintenance-grade"], "D");
    assert_eq!(run.outputs["overall-grade"], "D");
    // The fastmcp server sends exception text to the client (MCP202).
    assert_eq!(run.outputs["security-grade"], "B");
    assert_eq!(run.outputs["files-scanned"], "5");
    let findings: usize = run.outputs["findings"].parse().unwrap();
    assert!(findings >= 4, "{:?}", run.outputs);

    // The SARIF was written and handed to upload-sarif before the job failed.
    let upload = run
        .called("github/codeql-action/upload-sarif@")
        .expect("upload-sarif was called");
    assert_eq!(upload.with["sarif_file"], "mcp-audit.sarif");
    assert_eq!(upload.with["category"], "mcp-audit");
    assert_eq!(upload.existing_files, vec!["sarif_file".to_string()]);
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(h.runner.workspace.join("mcp-audit.sarif")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        findings
    );

    assert!(run.summary.contains("## mcp-audit"), "{}", run.summary);
    assert!(
        run.summary.contains("| Maintenance | 69 | D |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("| medium | MCP101 unbounded-await |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("in 5 file(s) scanned (1 skipped)"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("`src/__init__.py` | empty file"),
        "{}",
        run.summary
    );
    let want = "finding(s) at or above fail-on medium";
    assert!(run.summary.contains(want), "{}", run.summary);
    // Low findings (SARIF level "note") are listed but do not fail the job.
    let failing = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] != "note")
        .count();
    assert!(failing < findings, "{:?}", run.outputs);
    assert!(
        error_lines(&run.log)
            .iter()
            .any(|l| l.contains(&format!("{failing} {want}"))),
        "{}",
        run.log
    );
}

#[test]
fn fail_on_never_passes_and_min_grade_fails_below_it() {
    let Some((run, _h)) = run_released(&[("path", "src"), ("fail-on", "never")]) else {
        return;
    };
    assert_eq!(run.last_exit_code(), 0, "{}", run.log);
    assert!(!run.failed);
    assert!(error_lines(&run.log).is_empty(), "{}", run.log);
    assert!(run.called("github/codeql-action/upload-sarif@").is_some());

    let (run, _h) =
        run_released(&[("path", "src"), ("fail-on", "never"), ("min-grade", "B")]).unwrap();
    assert_eq!(run.last_exit_code(), 1, "{}", run.log);
    assert!(
        error_lines(&run.log)
            .iter()
            .any(|l| l.contains("overall grade D is below min-grade B")),
        "{}",
        run.log
    );
    assert!(run.summary.contains("overall grade D is below min-grade B"));
    // A grade at the bar passes.
    let (run, _h) =
        run_released(&[("path", "src"), ("fail-on", "never"), ("min-grade", "D")]).unwrap();
    assert_eq!(run.last_exit_code(), 0, "{}", run.log);
}

#[test]
fn an_empty_scan_fails_unless_allowed() {
    for path in ["docs", "skipped"] {
        let Some((run, h)) = run_released(&[("path", path)]) else {
            return;
        };
        assert_eq!(run.last_exit_code(), 2, "{path}: {}", run.log);
        assert_eq!(run.outputs["files-scanned"], "0");
        assert_eq!(run.outputs["findings"], "0");
        let errors = error_lines(&run.log);
        assert!(
            errors
                .iter()
                .any(|l| l.contains("no file was scanned") && l.contains("allow-empty: true")),
            "{path}: {}",
            run.log
        );
        assert!(
            run.summary.contains("No file was scanned"),
            "{}",
            run.summary
        );
        assert!(
            run.summary.contains("`allow-empty: true`"),
            "{}",
            run.summary
        );
        // The SARIF is still written and uploaded.
        assert!(h.runner.workspace.join("mcp-audit.sarif").is_file());
        assert!(run.called("github/codeql-action/upload-sarif@").is_some());
    }

    let (run, _h) = run_released(&[("path", "skipped"), ("allow-empty", "true")]).unwrap();
    assert_eq!(run.last_exit_code(), 0, "{}", run.log);
    assert!(error_lines(&run.log).is_empty(), "{}", run.log);
    assert!(
        run.log
            .lines()
            .any(|l| l.starts_with("::warning") && l.contains("no file was scanned (1 skipped)")),
        "{}",
        run.log
    );
    assert!(run
        .summary
        .contains("Passing because `allow-empty` is true"));

    let (run, _h) = run_released(&[("path", "docs"), ("allow-empty", "maybe")]).unwrap();
    assert_eq!(run.last_exit_code(), 2, "{}", run.log);
    assert!(run.log.contains("allow-empty must be true or false"));
}

#[test]
fn a_failed_scan_fails_with_2_and_uploads_nothing() {
    let Some((run, _h)) = run_released(&[("path", "no/such/path")]) else {
        return;
    };
    assert_eq!(run.last_exit_code(), 2, "{}", run.log);
    assert!(run.called("github/codeql-action/upload-sarif@").is_none());
    assert_eq!(run.outputs["sarif-file"], "");
    assert!(
        error_lines(&run.log)
            .iter()
            .any(|l| l.contains("the scan did not complete (exit code 2)")),
        "{}",
        run.log
    );
}

#[test]
fn upload_sarif_false_uploads_nothing() {
    let Some((run, h)) = run_released(&[
        ("path", "src"),
        ("fail-on", "never"),
        ("upload-sarif", "false"),
        ("sarif-file", "reports/audit.sarif"),
    ]) else {
        return;
    };
    assert_eq!(run.last_exit_code(), 0, "{}", run.log);
    assert_eq!(
        run.outcome("Upload SARIF"),
        &Outcome::Skipped,
        "upload-sarif: false"
    );
    assert!(run.calls.iter().all(|c| !c.uses.contains("upload-sarif")));
    assert!(h.runner.workspace.join("reports/audit.sarif").is_file());
    assert_eq!(run.outputs["sarif-file"], "reports/audit.sarif");
}

#[test]
fn version_downloads_the_release_and_checks_its_checksum() {
    let Some(target) = host_target() else {
        return;
    };
    let archive = archive_name();
    let server = Server::start(release_dir().to_path_buf());
    let h = Harness::new(&server.base);
    let run = h.run(&[
        ("version", &format!("v{VERSION}")),
        ("path", "src"),
        ("fail-on", "never"),
    ]);
    assert_eq!(run.last_exit_code(), 0, "{}", run.log);
    assert!(
        run.log
            .lines()
            .any(|l| l.starts_with("SHA-256 verified: ") && l.ends_with(&archive)),
        "{}",
        run.log
    );
    assert_eq!(
        server.requests(),
        vec![
            format!("/v{VERSION}/{archive}"),
            format!("/v{VERSION}/SHA256SUMS")
        ]
    );
    // No cargo cache without a source build.
    assert!(run.called("actions/cache@").is_none());
    assert!(h.runner.temp.join("mcp-audit/bin/mcp-audit").is_file());
    drop(server);

    // A download that does not match SHA256SUMS is not installed, mcp-audit
    // does not run, and the job fails.
    let tampered = tempfile::tempdir().unwrap();
    let dir = tampered.path().join(format!("v{VERSION}"));
    std::fs::create_dir_all(&dir).unwrap();
    let src = release_dir().join(format!("v{VERSION}"));
    std::fs::copy(src.join("SHA256SUMS"), dir.join("SHA256SUMS")).unwrap();
    let mut bytes = std::fs::read(src.join(&archive)).unwrap();
    bytes.push(0);
    std::fs::write(dir.join(&archive), bytes).unwrap();
    let server = Server::start(tampered.path().to_path_buf());
    let h = Harness::new(&server.base);
    let run = h.run(&[("version", VERSION), ("path", "src")]);
    assert_eq!(run.outcome("Install"), &Outcome::Failure(1), "{}", run.log);
    assert_eq!(run.outcome("Run mcp-audit"), &Outcome::Skipped);
    assert_eq!(run.last_exit_code(), 2, "{}", run.log);
    assert!(
        error_lines(&run.log)
            .iter()
            .any(|l| l.contains(&format!("checksum mismatch for {archive}"))),
        "{}",
        run.log
    );
    assert!(
        error_lines(&run.log)
            .iter()
            .any(|l| l.contains("mcp-audit did not run")),
        "{}",
        run.log
    );
    assert!(!h.runner.temp.join("mcp-audit/bin/mcp-audit").exists());

    // SHA256SUMS without the archive: refused too.
    std::fs::write(
        dir.join("SHA256SUMS"),
        format!("{}  other-{target}.tar.gz\n", "0".repeat(64)),
    )
    .unwrap();
    let h = Harness::new(&server.base);
    let run = h.run(&[("version", VERSION)]);
    assert_eq!(run.outcome("Install"), &Outcome::Failure(1), "{}", run.log);
    assert!(
        run.log.contains(&format!("lists no {archive}")),
        "{}",
        run.log
    );

    // A version with no release.
    let h = Harness::new(&server.base);
    let run = h.run(&[("version", "9.9.9")]);
    assert_eq!(run.outcome("Install"), &Outcome::Failure(1), "{}", run.log);
    assert!(run.log.contains("could not download"), "{}", run.log);
    assert_eq!(run.last_exit_code(), 2);

    // Not a version at all: refused before any download.
    let before = server.requests().len();
    let h = Harness::new(&server.base);
    let run = h.run(&[("version", "latest; rm -rf /")]);
    assert_eq!(run.outcome("Install"), &Outcome::Failure(1), "{}", run.log);
    assert!(run.log.contains("is not a release version"), "{}", run.log);
    assert_eq!(server.requests().len(), before);
}

#[test]
fn without_version_the_action_builds_its_own_source_with_the_cargo_cache() {
    // A stand-in cargo that records its arguments and "installs" the test
    // build where `cargo install --root` would.
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = tmp.path().join("cargo.log");
    std::fs::write(
        bin.join("cargo"),
        format!(
            r#"#!/bin/sh
printf '%s\n' "$@" "CARGO_TARGET_DIR=$CARGO_TARGET_DIR" > '{log}'
while [ $# -gt 0 ]; do
  if [ "$1" = --root ]; then root="$2"; fi
  shift
done
mkdir -p "$root/bin"
ln -s '{exe}' "$root/bin/mcp-audit"
"#,
            log = log.display(),
            exe = env!("CARGO_BIN_EXE_mcp-audit"),
        ),
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x"])
        .arg(bin.join("cargo"))
        .status()
        .unwrap();
    let mut h = Harness::new("http://127.0.0.1:9/unused");
    h.runner.extra_path.push(bin);
    let run = h.run(&[("path", "src"), ("fail-on", "never")]);
    assert_eq!(run.last_exit_code(), 0, "{}", run.log);

    let temp = h.runner.temp.display().to_string();
    let args = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        vec![
            "install",
            "--locked",
            "--path",
            REPO,
            "--root",
            &format!("{temp}/mcp-audit"),
            "--quiet",
            &format!("CARGO_TARGET_DIR={temp}/mcp-audit-target"),
        ]
    );
    let cache = run.called("actions/cache@").expect("the cargo cache");
    let (os, arch) = runner_os_arch();
    let lock = Command::new("sh")
        .arg("-c")
        .arg("sha256sum Cargo.lock 2>/dev/null || shasum -a 256 Cargo.lock")
        .current_dir(REPO)
        .output()
        .unwrap();
    let lock = String::from_utf8(lock.stdout).unwrap();
    let lock = lock.split_whitespace().next().unwrap();
    assert_eq!(cache.with["key"], format!("mcp-audit-{os}-{arch}-{lock}"));
    assert!(
        cache.with["path"]
            .lines()
            .any(|l| l == format!("{temp}/mcp-audit-target")),
        "{:?}",
        cache.with["path"]
    );
    assert!(run.outputs["overall-grade"] == "D", "{:?}", run.outputs);
}

#[test]
fn version_installs_the_archive_made_for_each_runner_platform() {
    let platforms = [
        (
            "Linux",
            "X64",
            "x86_64-unknown-linux-gnu",
            "tar.gz",
            "mcp-audit",
        ),
        (
            "Linux",
            "ARM64",
            "aarch64-unknown-linux-gnu",
            "tar.gz",
            "mcp-audit",
        ),
        (
            "macOS",
            "ARM64",
            "aarch64-apple-darwin",
            "tar.gz",
            "mcp-audit",
        ),
        ("macOS", "X64", "x86_64-apple-darwin", "tar.gz", "mcp-audit"),
        (
            "Windows",
            "X64",
            "x86_64-pc-windows-msvc",
            "zip",
            "mcp-audit.exe",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(format!("v{VERSION}"));
    std::fs::create_dir_all(&dir).unwrap();
    // Each archive holds a stand-in that answers --version like mcp-audit,
    // so the installer's own check of the binary runs on this machine.
    let wrapper = tmp.path().join("stand-in");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_mcp-audit")
        ),
    )
    .unwrap();
    let script = Path::new(REPO).join("scripts/release.sh");
    for (_, _, target, _, _) in platforms {
        let out = Command::new("bash")
            .arg(&script)
            .args(["package", VERSION, target])
            .arg(&wrapper)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("bash")
        .arg(&script)
        .arg("checksums")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), platforms.len(), "{sums}");

    let server = Server::start(tmp.path().to_path_buf());
    for (os, arch, target, ext, exe) in platforms {
        let mut h = Harness::new(&server.base);
        h.runner.env.push(("RUNNER_OS".into(), os.into()));
        h.runner.env.push(("RUNNER_ARCH".into(), arch.into()));
        let before = server.requests().len();
        let run = h.run(&[("version", VERSION), ("fail-on", "never"), ("path", "src")]);
        assert_eq!(
            run.outcome("Install"),
            &Outcome::Success,
            "{os} {arch}: {}",
            run.log
        );
        assert_eq!(
            server.requests()[before],
            format!("/v{VERSION}/mcp-audit-{VERSION}-{target}.{ext}"),
            "{os} {arch}"
        );
        assert!(h.runner.temp.join("mcp-audit/bin").join(exe).is_file());
    }
}
