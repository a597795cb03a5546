//! The environments the case servers run in, installed from the pins in
//! `verify/`: a Python virtualenv with `mcp` from PyPI, `npm ci` of
//! `@modelcontextprotocol/sdk` and `tsx`, and the Rust servers built with
//! `rmcp` by cargo. Each is installed once and reinstalled only when its
//! pins change.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mcp_audit_runtime::harness::ServerCommand;

use super::case::{Case, Lang, Variant};

/// Where everything is: the repository and the work folder.
#[derive(Clone, Debug)]
pub struct Env {
    pub root: PathBuf,
    /// `target/verify` unless set.
    pub work: PathBuf,
    /// The interpreter the virtualenv is made from.
    pub python: String,
}

/// The cargo package of the Rust case servers.
pub const RUST_PACKAGE: &str = "mcp-audit-verify-servers";

impl Env {
    fn venv(&self) -> PathBuf {
        self.work.join("python").join("venv")
    }

    fn node_dir(&self) -> PathBuf {
        self.work.join("typescript")
    }

    /// Cargo's target folder for the Rust servers: not the repository's own,
    /// whose lock a running `cargo test` holds.
    pub fn cargo_target(&self) -> PathBuf {
        self.work.join("cargo")
    }

    /// Installs what `langs` need, printing each step to stderr.
    pub fn prepare(&self, langs: &[Lang], quiet: bool) -> Result<(), String> {
        std::fs::create_dir_all(&self.work)
            .map_err(|e| format!("cannot create {}: {e}", self.work.display()))?;
        for lang in langs {
            match lang {
                Lang::Python => self.prepare_python(quiet)?,
                Lang::TypeScript => self.prepare_node(quiet)?,
                Lang::Rust => self.prepare_rust(quiet)?,
            }
        }
        Ok(())
    }

    fn prepare_python(&self, quiet: bool) -> Result<(), String> {
        let pins = self.root.join("verify/python/requirements.txt");
        let want = read(&pins)?;
        let stamp = self.work.join("python/installed.txt");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str())
            && self.venv().join("bin/python").is_file()
        {
            return Ok(());
        }
        note(
            quiet,
            "installing the Python servers' packages (verify/python/requirements.txt)",
        );
        let venv = self.venv();
        if !venv.join("bin/python").is_file() {
            run(Command::new(&self.python).arg("-m").arg("venv").arg(&venv))?;
        }
        run(Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-q",
                "-r",
            ])
            .arg(&pins))?;
        write(&stamp, &want)
    }

    fn prepare_node(&self, quiet: bool) -> Result<(), String> {
        let src = self.root.join("verify/typescript");
        let manifest = read(&src.join("package.json"))?;
        let lock = read(&src.join("package-lock.json"))?;
        let dir = self.node_dir();
        let stamp = dir.join("installed.txt");
        let want = format!("{manifest}\n{lock}");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str())
            && dir.join("node_modules/.bin/tsx").exists()
        {
            return Ok(());
        }
        note(
            quiet,
            "installing the TypeScript servers' packages (verify/typescript, npm ci)",
        );
        write(&dir.join("package.json"), &manifest)?;
        write(&dir.join("package-lock.json"), &lock)?;
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir))?;
        write(&stamp, &want)
    }

    fn prepare_rust(&self, quiet: bool) -> Result<(), String> {
        note(
            quiet,
            "building the Rust servers (verify/rust, cargo build)",
        );
        run(Command::new(cargo())
            .args(["build", "--locked", "--bins", "-p", RUST_PACKAGE])
            .env("CARGO_TARGET_DIR", self.cargo_target())
            .current_dir(&self.root))
    }

    /// How to start `case`'s server `variant`; `file` stands in for the
    /// case's own server file (the `--fix` copy).
    pub fn command(
        &self,
        case: &Case,
        variant: Variant,
        file: Option<&Path>,
    ) -> Result<ServerCommand, String> {
        let server = file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| case.server(variant));
        Ok(match case.lang {
            Lang::Python => ServerCommand::new(self.venv().join("bin/python"))
                .arg(absolute(&server))
                .env("PYTHONUNBUFFERED", "1")
                .current_dir(server.parent().unwrap_or(Path::new("."))),
            Lang::TypeScript => {
                // Node resolves packages from the file's own folders upward,
                // so the server runs from a copy beside `node_modules`.
                let stage = self
                    .node_dir()
                    .join("cases")
                    .join(case.rule.name)
                    .join(variant.key());
                std::fs::create_dir_all(&stage)
                    .map_err(|e| format!("cannot create {}: {e}", stage.display()))?;
                let copy = stage.join("server.ts");
                std::fs::copy(&server, &copy)
                    .map_err(|e| format!("cannot copy {}: {e}", server.display()))?;
                ServerCommand::new(absolute(&self.node_dir().join("node_modules/.bin/tsx")))
                    .arg(absolute(&copy))
                    .current_dir(stage)
            }
            Lang::Rust => {
                let bin = self
                    .cargo_target()
                    .join("debug")
                    .join(case.bin_name(variant));
                if !bin.is_file() {
                    return Err(format!(
                        "no binary {} (is `{}` a [[bin]] of verify/rust/Cargo.toml?)",
                        bin.display(),
                        case.bin_name(variant)
                    ));
                }
                // Two workers whatever the machine: a blocking call stalls
                // tokio only once every worker is blocked, so the blocking
                // case's call count is set against this number.
                ServerCommand::new(absolute(&bin))
                    .env("RUST_LOG", "warn")
                    .env("TOKIO_WORKER_THREADS", "2")
            }
        })
    }

    /// Builds the Rust servers `--fix` wrote: one crate beside the others,
    /// with the same dependencies and lock, so only the servers compile.
    /// `bins` are (binary name, server file).
    pub fn build_rust_fixed(&self, bins: &[(String, PathBuf)], quiet: bool) -> Result<(), String> {
        if bins.is_empty() {
            return Ok(());
        }
        note(quiet, "building the Rust servers as `--fix` left them");
        let manifest = read(&self.root.join("verify/rust/Cargo.toml"))?;
        let parsed: toml::Table = manifest
            .parse()
            .map_err(|e| format!("verify/rust/Cargo.toml: {e}"))?;
        let mut deps = parsed
            .get("dependencies")
            .and_then(|d| d.as_table())
            .cloned()
            .unwrap_or_default();
        // Path dependencies are relative to verify/rust.
        let base = absolute(&self.root.join("verify/rust"));
        for (_, dep) in deps.iter_mut() {
            if let Some(t) = dep.as_table_mut() {
                if let Some(p) = t.get("path").and_then(|p| p.as_str()) {
                    let abs = base.join(p);
                    t.insert(
                        "path".into(),
                        toml::Value::String(abs.to_string_lossy().into_owned()),
                    );
                }
            }
        }
        let mut out = toml::Table::new();
        let mut package = toml::Table::new();
        package.insert("name".into(), "mcp-audit-verify-fixed-by-tool".into());
        package.insert("version".into(), "0.0.0".into());
        package.insert("edition".into(), "2021".into());
        package.insert("publish".into(), false.into());
        package.insert("autobins".into(), false.into());
        out.insert("package".into(), package.into());
        // Its own workspace: it lives under the repository's target folder.
        out.insert("workspace".into(), toml::Table::new().into());
        out.insert("dependencies".into(), deps.into());
        let bin: Vec<toml::Value> = bins
            .iter()
            .map(|(name, path)| {
                let mut t = toml::Table::new();
                t.insert("name".into(), name.clone().into());
                t.insert(
                    "path".into(),
                    absolute(path).to_string_lossy().into_owned().into(),
                );
                t.into()
            })
            .collect();
        out.insert("bin".into(), bin.into());
        let dir = self.work.join("fixed-by-tool-crate");
        write(
            &dir.join("Cargo.toml"),
            &toml::to_string(&out).map_err(|e| e.to_string())?,
        )?;
        // The workspace's lock pins the same versions, so nothing new is
        // resolved or compiled but the servers themselves.
        if let Ok(lock) = std::fs::read_to_string(self.root.join("Cargo.lock")) {
            write(&dir.join("Cargo.lock"), &lock)?;
        }
        run(Command::new(cargo())
            .args(["build", "--bins"])
            .env("CARGO_TARGET_DIR", self.cargo_target())
            .current_dir(&dir))
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn note(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("verify: {msg}");
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
}

fn write(p: &Path, text: &str) -> Result<(), String> {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    std::fs::write(p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
}

/// Runs a set-up command to the end, with its output kept for the error.
fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let mut tail = String::from_utf8_lossy(&out.stderr).into_owned();
    if tail.trim().is_empty() {
        tail = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    let lines: Vec<&str> = tail.lines().collect();
    let start = lines.len().saturating_sub(30);
    Err(format!(
        "{shown} failed ({}):\n{}",
        out.status,
        lines[start..].join("\n")
    ))
}
