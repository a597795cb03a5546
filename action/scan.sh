#!/usr/bin/env bash
# The Action's scan: one run of mcp-audit writing the terminal report to the
# log, SARIF for code scanning and JSON for the summary; then the step
# summary and the outputs. Never fails on findings itself: the SARIF upload
# runs first, and the last step fails the job with the recorded exit code.
# Inputs come from the environment (INPUT_*), never from ${{ }} in scripts.
set -uo pipefail

sarif="${INPUT_SARIF_FILE:-mcp-audit.sarif}"
json="${RUNNER_TEMP:-/tmp}/mcp-audit-report.json"
args=(--format terminal --sarif-output "$sarif" --json-output "$json"
      --fail-on "${INPUT_FAIL_ON:-low}" --min-grade "${INPUT_MIN_GRADE:-F}")
if [ -n "${INPUT_CONFIG:-}" ]; then
  args+=(--config "$INPUT_CONFIG")
fi
# Extra arguments and paths are split on whitespace, as documented.
read -r -a extra <<< "${INPUT_ARGS:-}"
read -r -a paths <<< "${INPUT_PATH:-.}"

mcp-audit "${args[@]}" "${extra[@]}" -- "${paths[@]}"
code=$?
echo "exit-code=$code" >> "$GITHUB_OUTPUT"
if [ "$code" -gt 1 ] || [ ! -f "$json" ]; then
  echo "::error title=mcp-audit::the scan did not complete (exit code $code)"
  exit 0
fi

echo "sarif-file=$sarif" >> "$GITHUB_OUTPUT"
jq -r '"maintenance-grade=\(.summary.grades.maintenance.grade)",
       "security-grade=\(.summary.grades.security.grade)",
       "overall-grade=\(.summary.grades.overall.grade)",
       "findings=\(.summary.findings)"' "$json" >> "$GITHUB_OUTPUT"

{
  echo "## mcp-audit"
  echo
  jq -r '"| axis | score | grade |", "|---|---:|:---:|",
         (.summary.grades | "| Maintenance | \(.maintenance.score) | \(.maintenance.grade) |",
                            "| Security | \(.security.score) | \(.security.grade) |",
                            "| **Overall** | \(.overall.score) | **\(.overall.grade)** |")' "$json"
  echo
  jq -r '"\(.summary.findings) finding(s) in \(.summary.files_discovered) file(s) scanned, \(.summary.tools) MCP tool handler(s) found."' "$json"
  if [ "$(jq '.findings | length' "$json")" -gt 0 ]; then
    echo
    echo "| severity | rule | where | message |"
    echo "|---|---|---|---|"
    jq -r '[.findings[] | select(.severity == "high")] + [.findings[] | select(.severity == "medium")]
           + [.findings[] | select(.severity == "low")] | .[:20][]
           | "| \(.severity) | \(.rule) \(.name) | `\(.path):\(.line)` | \(.message | gsub("\\|"; "\\|")) |"' "$json"
    more=$(( $(jq '.findings | length' "$json") - 20 ))
    if [ "$more" -gt 0 ]; then
      echo
      echo "…and $more more (see the code scanning alerts or the job log)."
    fi
  fi
} >> "$GITHUB_STEP_SUMMARY"
exit 0
