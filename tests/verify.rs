//! `mcp-audit verify` over every runnable case, as CI runs it: the SDKs are
//! installed from the pins in `verify/`, every flagged server must fail
//! under its fault and every fixed one hold, and the README's table must be
//! what this run produces.

use std::process::Command;

#[test]
fn every_case_holds_and_the_readme_table_matches() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .args(["verify", "--check-readme", "--jobs", "3", "--root", root])
        .current_dir(root)
        .output()
        .expect("mcp-audit runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "mcp-audit verify exited {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    // Every rule with a runtime failure has a case in each language.
    let summary = stdout
        .lines()
        .find(|l| l.contains("cases hold"))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let words: Vec<&str> = summary.split_whitespace().collect();
    assert_eq!(words[0], words[2], "{summary}");
    assert!(stdout.contains("✓ flagged   fails as flagged"), "{stdout}");
}
