//! The GitHub Action, run locally: its scan step with GITHUB_* pointed at
//! temp files, and the shape of action.yml (composite, inputs only through
//! `env:`).

use std::path::Path;
use std::process::Command;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn run_scan(path: &str, fail_on: &str, min_grade: &str) -> (i32, String, String, bool) {
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mcp-audit"), bin_dir.join("mcp-audit")).unwrap();
    let output = tmp.path().join("output");
    let summary = tmp.path().join("summary");
    let sarif = tmp.path().join("out.sarif");
    let path_var = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("bash")
        .arg("action/scan.sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path_var)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", tmp.path())
        .env("INPUT_PATH", path)
        .env("INPUT_FAIL_ON", fail_on)
        .env("INPUT_MIN_GRADE", min_grade)
        .env("INPUT_CONFIG", "")
        .env("INPUT_ARGS", "--ignore MCP001")
        .env("INPUT_SARIF_FILE", &sarif)
        .status()
        .unwrap();
    (
        status.code().unwrap_or(-1),
        read(&output),
        read(&summary),
        sarif.is_file(),
    )
}

#[cfg(unix)]
#[test]
fn scan_step_writes_outputs_summary_and_sarif_and_records_the_exit_code() {
    let (code, out, summary, sarif) =
        run_scan("fixtures/unbounded-await/python/weather", "medium", "F");
    assert_eq!(code, 0, "the scan step itself never fails on findings");
    assert!(sarif);
    assert!(out.contains("exit-code=1\n"), "{out}");
    assert!(out.contains("maintenance-grade="), "{out}");
    // No rule covers security yet, so it is not graded (null in the JSON).
    assert!(!out.contains("security-grade=A\n"), "{out}");
    assert!(out.contains("overall-grade="), "{out}");
    let findings: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("findings="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(findings >= 4, "{out}");
    assert!(summary.contains("## mcp-audit"), "{summary}");
    assert!(summary.contains("| Maintenance |"), "{summary}");
    assert!(
        summary.contains("| medium | MCP101 unbounded-await |"),
        "{summary}"
    );

    let (_, out, _, _) = run_scan("fixtures/unbounded-await/python/weather", "never", "F");
    assert!(out.contains("exit-code=0\n"), "{out}");
    let (_, out, _, _) = run_scan("fixtures/unbounded-await/python/weather", "never", "A");
    assert!(
        out.contains("exit-code=1\n"),
        "min-grade A fails a server graded below A: {out}"
    );
}

#[cfg(unix)]
#[test]
fn scan_step_reports_a_broken_scan() {
    let (code, out, _, _) = run_scan("no/such/path", "low", "F");
    assert_eq!(code, 0);
    assert!(out.contains("exit-code=2\n"), "{out}");
    assert!(!out.contains("sarif-file="), "{out}");
}

#[test]
fn action_yml_is_composite_and_passes_inputs_through_env_only() {
    let yml = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"));
    assert!(yml.contains("using: composite"));
    // Inside `run:` blocks, never `${{ }}`: inputs come through `env:`.
    let mut in_run = false;
    let mut run_indent = 0;
    for line in yml.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if in_run && !t.is_empty() && indent <= run_indent {
            in_run = false;
        }
        if let Some(rest) = t.strip_prefix("run:") {
            assert!(!rest.contains("${{"), "expression in run: {line}");
            in_run = true;
            run_indent = indent;
            continue;
        }
        if in_run {
            assert!(!t.contains("${{"), "expression in a run block: {line}");
        }
    }
    let sha_pinned = yml
        .lines()
        .filter(|l| l.trim_start().starts_with("uses:"))
        .all(|l| {
            let r = l.split('@').nth(1).unwrap_or("");
            r.len() >= 40 && r[..40].chars().all(|c| c.is_ascii_hexdigit())
        });
    assert!(sha_pinned, "every `uses:` is pinned by SHA");
    for out in [
        "sarif-file",
        "maintenance-grade",
        "security-grade",
        "findings",
    ] {
        assert!(yml.contains(&format!("  {out}:")), "output {out}");
    }
}
