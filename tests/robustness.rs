//! Bad input never panics and never stops the scan of the other files.

use std::path::Path;
use std::process::Command;

const GOOD: &str =
    "import requests\nfrom fastmcp import FastMCP\n\nmcp = FastMCP('x')\n\n\n@mcp.tool\ndef tool():\n    return requests.get('https://x.example')\n";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

// Each starts with a word the prefilter looks for, so that it is parsed.
fn deep_python() -> String {
    format!(
        "import requests\nx = {}1{}\n",
        "(".repeat(20_000),
        ")".repeat(20_000)
    )
}

fn deep_ts() -> String {
    format!(
        "fetch(u);\nconst x = {}1{};\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    )
}

fn deep_rust() -> String {
    format!(
        "use reqwest;\nfn main() {{ let x = {}1{}; }}\n",
        "(".repeat(20_000),
        ")".repeat(20_000)
    )
}

fn deep_blocks_python() -> String {
    // Deep statement nesting, not only expressions.
    let mut s = String::from("import requests\n");
    for i in 0..1_500 {
        s.push_str(&" ".repeat(i));
        s.push_str("if x:\n");
    }
    s.push_str(&" ".repeat(1_500));
    s.push_str("pass\n");
    s
}

#[test]
fn hostile_files_beside_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "good.py", GOOD);
    write(
        d,
        "random.py",
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    );
    write(d, "latin1.ts", b"const s = \"caf\xe9\";\nfetch(url);\n");
    write(d, "empty.rs", b"");
    write(d, "deep.py", deep_python());
    write(d, "deep.ts", deep_ts());
    write(d, "deep.js", deep_ts());
    write(d, "deep.rs", deep_rust());
    write(d, "deep_blocks.py", deep_blocks_python());
    write(
        d,
        "huge.py",
        format!("import requests\n{}", "# padding\n".repeat(400_000)),
    );
    write(
        d,
        "syntax_error.py",
        "import requests\ndef f(:\n    requests.get(u\n",
    );
    #[cfg(unix)]
    {
        std::fs::create_dir(d.join("loop")).unwrap();
        std::os::unix::fs::symlink(d.join("loop"), d.join("loop").join("again")).unwrap();
        std::os::unix::fs::symlink(d.join("missing.py"), d.join("dangling.py")).unwrap();
    }
    let out = bin()
        .args(["--format", "json", "--jobs", "2"])
        .arg(d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["path"].as_str().unwrap().ends_with("good.py") && f["rule"] == "MCP101"),
        "{v:#}"
    );
    let skipped: Vec<(String, String)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|(p, _)| p.ends_with(name))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{name} not reported as skipped: {skipped:?}"))
    };
    assert!(reason("random.py").contains("binary") || reason("random.py").contains("UTF-8"));
    assert!(reason("latin1.ts").contains("UTF-8"));
    assert!(reason("empty.rs").contains("empty"));
    for deep in ["deep.py", "deep.ts", "deep.js", "deep.rs", "deep_blocks.py"] {
        assert!(reason(deep).contains("nesting"), "{deep}: {}", reason(deep));
    }
    assert!(reason("huge.py").contains("limit"));
    #[cfg(unix)]
    {
        assert!(
            skipped.iter().any(|(_, r)| r.contains("loop")),
            "{skipped:?}"
        );
        assert!(
            skipped.iter().any(|(p, _)| p.ends_with("dangling.py")),
            "{skipped:?}"
        );
    }
    // A file with syntax errors is still scanned as far as it parses.
    assert!(!skipped.iter().any(|(p, _)| p.ends_with("syntax_error.py")));
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_skipped_with_its_reason() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.py", GOOD);
    write(dir.path(), "secret.py", GOOD);
    let secret = dir.path().join("secret.py");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&secret).is_ok() {
        // Running as root: permissions do not stop reads; nothing to test.
        return;
    }
    let out = bin()
        .args(["--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("cannot read"));
}

#[test]
fn missing_path_is_a_one_line_error_and_exit_2() {
    let out = bin().arg("/definitely/not/here").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/definitely/not/here"), "{err}");
}

#[test]
fn deep_nesting_in_the_library_is_an_error_value_not_a_crash() {
    use mcp_audit::facts::Lang;
    use mcp_audit::lang::{lower, LowerError};
    // On this (test) thread's default stack, not the scanner's big one.
    for (lang, path, src) in [
        (Lang::Python, "d.py", deep_python()),
        (Lang::TypeScript, "d.ts", deep_ts()),
        (Lang::JavaScript, "d.js", deep_ts()),
        (Lang::Rust, "d.rs", deep_rust()),
    ] {
        let r = std::thread::Builder::new()
            .stack_size(8 * 1024 * 1024)
            .spawn(move || lower(lang, path, &src).map(|_| ()))
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(r, Err(LowerError::TooDeep), "{path}");
    }
}
