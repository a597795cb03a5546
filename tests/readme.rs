//! The README's rule table comes from the rules' own documentation: a rule
//! added or reworded without updating the README fails here.

use mcp_audit::rules::REGISTRY;

#[test]
fn readme_rule_table_matches_the_registry() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for r in REGISTRY {
        let row = format!(
            "| {} | {} | {} | {} | {} |",
            r.id,
            r.name,
            r.axis,
            r.severity,
            r.summary()
        );
        assert!(readme.contains(&row), "README lacks the row:\n{row}");
    }
    // The rule table's rows start with a bare id (`| MCP101 |`); the verify
    // table's name the rule in one cell (`| MCP101 unbounded-await |`).
    let rows = readme
        .lines()
        .filter(|l| l.starts_with("| MCP"))
        .filter(|l| l.split('|').nth(1).is_some_and(|c| !c.trim().contains(' ')))
        .count();
    assert_eq!(
        rows,
        REGISTRY.len(),
        "README lists rules the registry does not have"
    );
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block: Vec<&str> = readme
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(block.len(), 2, "{block:?}");
    assert!(block[0].starts_with("cargo run --release -- examples/"));
    assert!(block[1].starts_with("cargo test --locked --workspace"));
}

/// The first command audits the bundled examples and finds their gaps.
#[test]
fn the_examples_have_findings_in_every_language() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let report = mcp_audit::scan(&mcp_audit::Config::default(), &["examples".into()]).unwrap();
    for dir in [
        "examples/python-weather",
        "examples/typescript-crm",
        "examples/rust-status",
    ] {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.location.path.starts_with(dir)),
            "no finding in {dir}"
        );
    }
    assert!(report.tools >= 9, "tool handlers found: {}", report.tools);
}

/// The README speaks to users: nothing outside the repository, nothing
/// about the machine it was written on.
#[test]
fn readme_points_at_nothing_a_user_lacks() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for bad in [
        "../",
        "/work/",
        "shared/RULES",
        "this machine",
        "this 2-core",
    ] {
        assert!(!readme.contains(bad), "README mentions {bad:?}");
    }
}
