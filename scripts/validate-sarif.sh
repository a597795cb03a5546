#!/usr/bin/env bash
# Validates mcp-audit's SARIF the way GitHub code scanning will read it:
# Microsoft's SARIF Multitool, with the SARIF 2.1.0 JSON schema, the SARIF
# rules and the GitHub ingestion rules ("Gh;Sarif"), over
#   1. a scan of fixtures/ (real findings, related locations, many files), and
#   2. a hand-made report with what no rule emits yet: a fix, a path outside
#      the working directory (a file:// URI), a message with brackets
#      (tests/sarif.rs, `write_sarif_sample`).
# Fails on any error, on any warning not accepted below, and when the
# Multitool could not read a log at all.
#
# Needs node/npm (the Multitool is installed from npm into a cache) and cargo.
#   SARIF_TOOLS   where to install the Multitool (default ~/.cache/mcp-audit-sarif)
#   MCP_AUDIT     an mcp-audit binary to use instead of `cargo build`
set -euo pipefail
cd "$(dirname "$0")/.."

MULTITOOL_VERSION=5.7.0
tools="${SARIF_TOOLS:-$HOME/.cache/mcp-audit-sarif}"

case "$(uname -s)" in
  Linux) platform=linux ;;
  Darwin) platform=darwin ;;
  *) echo "validate-sarif: unsupported platform $(uname -s)" >&2; exit 2 ;;
esac
pkg_dir="$tools/node_modules/@microsoft/sarif-multitool-$platform"

installed="$(node -p "require('$pkg_dir/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$MULTITOOL_VERSION" ]; then
  # The wrapper package pulls its platform package with a `^` range: name the
  # platform package too, so the version is pinned.
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
    "@microsoft/sarif-multitool@$MULTITOOL_VERSION" \
    "@microsoft/sarif-multitool-$platform@$MULTITOOL_VERSION"
fi
multitool="$pkg_dir/Sarif.Multitool"
# The package makes it executable in a postinstall script, which npm may
# have been told not to run.
chmod u+x "$multitool"
schema_args=()
if [ -f "$pkg_dir/sarif-2.1.0.json" ]; then
  schema_args=(--json-schema "$pkg_dir/sarif-2.1.0.json")
fi
# .NET wants ICU for culture data unless told otherwise; validation needs
# none, and CI images often lack libicu.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="${DOTNET_SYSTEM_GLOBALIZATION_INVARIANT:-1}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1

if [ -z "${MCP_AUDIT:-}" ]; then
  cargo build --locked --quiet
  MCP_AUDIT="${CARGO_TARGET_DIR:-target}/debug/mcp-audit"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

set +e
"$MCP_AUDIT" --format sarif --output "$work/fixtures.sarif" fixtures/
code=$?
set -e
if [ "$code" -gt 1 ]; then
  echo "validate-sarif: mcp-audit failed (exit $code)" >&2
  exit 1
fi
MCP_AUDIT_SARIF_SAMPLE="$work/sample.sarif" \
  cargo test --locked --quiet --test sarif -- --ignored --exact write_sarif_sample >/dev/null

failed=0
for name in fixtures sample; do
  log="$work/$name.sarif"
  out="$work/$name.validation.sarif"
  echo "== $name.sarif"
  # `--log` takes a list: it goes first, or it swallows the file argument.
  # Called directly, not through the npx wrapper, which splits "Gh;Sarif".
  if ! "$multitool" validate --log ForceOverwrite --level "Error;Warning;Note" \
      --rule-kind "Gh;Sarif" "${schema_args[@]}" --output "$out" "$log" \
      > "$work/console.txt" 2>&1; then
    cat "$work/console.txt" >&2
    echo "validate-sarif: the Multitool failed on $name.sarif" >&2
    failed=1
    continue
  fi
  # Errors and warnings in full; notes are counted below.
  grep -E ': (error|warning) ' "$work/console.txt" || true

  # Accepted warnings, by message id:
  # - SARIF2005 Warning_ProvideToolnformationUri: `tool.driver.informationUri`
  #   comes from Cargo.toml's `homepage` or `repository`, which the package
  #   does not declare yet. GitHub does not read it. Set one and it goes away.
  # Notes never fail; the ones we expect, and why we leave them:
  # - SARIF2002 message.text instead of id/arguments: GitHub requires text.
  # - SARIF2003 no versionControlProvenance: upload-sarif records the commit.
  # - SARIF2006 a URI not reachable: the validator fetches the $schema URL,
  #   which fails without network access.
  # - SARIF2010/SARIF2011 no snippet/context region: GitHub shows the code
  #   from the repository; copying it into the log would only grow it.
  # - SARIF2016 a file:// URI: the sample's path outside the working
  #   directory, on purpose (there is no repository root to be relative to).
  # - SARIF2012 no helpUri (the docs are in help.markdown, which GitHub
  #   shows; it ignores helpUri) and kebab-case rule names (they are the
  #   names users write in suppressions).
  if ! node - "$log" "$out" <<'EOF'
const fs = require("fs");
const [input, output] = process.argv.slice(2).map(p => JSON.parse(fs.readFileSync(p, "utf8")));
const accepted = new Set(["SARIF2005/Warning_ProvideToolnformationUri"]);
const results = (output.runs || []).flatMap(r => r.results || []);
const count = {};
let bad = 0, acceptedN = 0;
for (const r of results) {
  const level = r.level || "warning";
  const key = `${level} ${r.ruleId}`;
  count[key] = (count[key] || 0) + 1;
  if (level === "error") bad++;
  if (level === "warning") {
    if (accepted.has(`${r.ruleId}/${r.message && r.message.id}`)) acceptedN++;
    else bad++;
  }
}
for (const k of Object.keys(count).sort()) console.log(`  ${String(count[k]).padStart(4)} ${k}`);
const errors = results.filter(r => r.level === "error").length;
const warnings = results.filter(r => (r.level || "warning") === "warning").length;
const notes = results.filter(r => r.level === "note").length;
console.log(`  ${errors} errors, ${warnings} warnings (${acceptedN} accepted), ${notes} notes`);
// The Multitool says nothing about a log it cannot deserialize (an unknown
// enum value such as a bad `level` does that): no results, success. It
// notes SARIF2002 on every result it reads (we write message.text), so
// that count must match the log's results.
const inputResults = (input.runs || []).flatMap(r => r.results || []).length;
const read = results.filter(r => r.ruleId === "SARIF2002").length;
if (read !== inputResults) {
  console.log(`  the Multitool read ${read} of ${inputResults} results: it could not read this log`);
  bad++;
}
if (inputResults === 0) {
  console.log("  no results to validate");
  bad++;
}
process.exit(bad ? 1 : 0);
EOF
  then
    failed=1
  fi
done

if [ "$failed" -ne 0 ]; then
  echo "validate-sarif: FAILED" >&2
  exit 1
fi
echo "validate-sarif: ok (SARIF Multitool $MULTITOOL_VERSION, rule kinds Gh;Sarif)"
