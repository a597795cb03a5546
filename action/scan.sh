#!/usr/bin/env bash
# The Action's scan: one run of mcp-audit writing the terminal report to the
# log, SARIF for code scanning and JSON for the summary; then the step
# summary and the outputs. Never fails the step itself: the SARIF upload
# runs first, and the last step fails the job with the recorded exit code
# (`exit-code`) and says why (`failure`).
# Inputs come from the environment (INPUT_*), never from ${{ }} in scripts.
#
# Exit codes recorded: mcp-audit's own (0 pass, 1 findings at or above
# fail-on or a grade below min-grade, 2 usage or I/O error), and 2 when no
# file was scanned unless allow-empty is true.
set -uo pipefail

sarif="${INPUT_SARIF_FILE:-mcp-audit.sarif}"
json="${RUNNER_TEMP:-/tmp}/mcp-audit-report.json"
fail_on="${INPUT_FAIL_ON:-low}"
min_grade="${INPUT_MIN_GRADE:-F}"
case "$(printf '%s' "${INPUT_ALLOW_EMPTY:-false}" | tr '[:upper:]' '[:lower:]')" in
  true) allow_empty=true ;;
  false | "") allow_empty=false ;;
  *)
    echo "::error title=mcp-audit::allow-empty must be true or false, not '${INPUT_ALLOW_EMPTY}'"
    echo "exit-code=2" >> "$GITHUB_OUTPUT"
    echo "failure=allow-empty must be true or false" >> "$GITHUB_OUTPUT"
    exit 0
    ;;
esac

args=(--format terminal --sarif-output "$sarif" --json-output "$json"
      --fail-on "$fail_on" --min-grade "$min_grade")
if [ -n "${INPUT_CONFIG:-}" ]; then
  args+=(--config "$INPUT_CONFIG")
fi
# Extra arguments and paths are split on whitespace, as documented.
read -r -a extra <<< "${INPUT_ARGS:-}"
read -r -a paths <<< "${INPUT_PATH:-.}"

rm -f "$json"
# mcp-audit does not create the report's folder.
mkdir -p "$(dirname -- "$sarif")"
mcp-audit "${args[@]}" "${extra[@]}" -- "${paths[@]}"
code=$?
if [ "$code" -gt 1 ] || [ ! -f "$json" ]; then
  [ "$code" -gt 1 ] || code=2
  echo "::error title=mcp-audit::the scan did not complete (exit code $code); see the messages above"
  echo "exit-code=$code" >> "$GITHUB_OUTPUT"
  echo "failure=the scan did not complete (exit code $code)" >> "$GITHUB_OUTPUT"
  exit 0
fi

# `files_scanned` is files discovered less those skipped; older releases
# have only the two counts.
files_scanned="$(jq '.summary.files_scanned // (.summary.files_discovered - .summary.files_skipped)' "$json")"
files_skipped="$(jq '.summary.files_skipped // 0' "$json")"

failure=""
if [ "$code" = 1 ]; then
  # Why mcp-audit failed the check, from the same report.
  failure="$(jq -r --arg fail_on "$fail_on" --arg min "$min_grade" '
      {"low": 1, "medium": 2, "high": 3} as $rank
      | ($rank[$fail_on | ascii_downcase] // 99) as $floor
      | ([.findings[] | select(($rank[.severity] // 0) >= $floor)] | length) as $n
      | (.summary.grades.overall.grade // "") as $g
      | [ (if $n > 0 then "\($n) finding(s) at or above fail-on \($fail_on | ascii_downcase)" else empty end),
          (if ($min | ascii_upcase) != "F" and ($g | test("^[A-F]$")) and $g > ($min | ascii_upcase)
           then "overall grade \($g) is below min-grade \($min | ascii_upcase)" else empty end) ]
      | join("; ")' "$json")"
  [ -n "$failure" ] || failure="findings at or above fail-on, or a grade below min-grade"
fi
if [ "$files_scanned" = 0 ]; then
  if [ "$allow_empty" = true ]; then
    echo "::warning title=mcp-audit::no file was scanned ($files_skipped skipped); passing because allow-empty is true"
  else
    echo "::error title=mcp-audit::no file was scanned ($files_skipped skipped): the grades say nothing about this code. Check 'path' (it was '${INPUT_PATH:-.}'), or set 'allow-empty: true' to pass anyway"
    code=2
    failure="no file was scanned; set allow-empty: true to pass anyway"
  fi
fi

{
  echo "exit-code=$code"
  echo "sarif-file=$sarif"
  echo "files-scanned=$files_scanned"
  jq -r '"maintenance-grade=\(.summary.grades.maintenance.grade // "n/a")",
         "security-grade=\(.summary.grades.security.grade // "n/a")",
         "overall-grade=\(.summary.grades.overall.grade // "n/a")",
         "findings=\(.summary.findings)"' "$json"
  if [ -n "$failure" ]; then echo "failure=$failure"; fi
} >> "$GITHUB_OUTPUT"

{
  echo "## mcp-audit"
  echo
  if [ "$files_scanned" = 0 ]; then
    if [ "$allow_empty" = true ]; then
      echo "> [!WARNING]"
      echo "> No file was scanned ($files_skipped skipped). Passing because \`allow-empty\` is true."
    else
      echo "> [!CAUTION]"
      echo "> No file was scanned ($files_skipped skipped), so the grades below say nothing about this code. The check fails; set \`allow-empty: true\` to pass anyway."
    fi
    echo
  fi
  jq -r '"| axis | score | grade |", "|---|---:|:---:|",
         (.summary.grades | "| Maintenance | \(.maintenance.score // "–") | \(.maintenance.grade // "–") |",
                            "| Security | \(.security.score // "–") | \(.security.grade // "–") |",
                            "| **Overall** | \(.overall.score // "–") | **\(.overall.grade // "–")** |")' "$json"
  echo
  jq -r --argjson scanned "$files_scanned" \
    '"\(.summary.findings) finding(s) in \($scanned) file(s) scanned (\(.summary.files_skipped // 0) skipped), \(.summary.tools) MCP tool handler(s) found."' "$json"
  if [ -n "$failure" ]; then
    echo
    echo "**Check failed:** $failure."
  fi
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
  if [ "$(jq '(.skipped // []) | length' "$json")" -gt 0 ]; then
    echo
    echo "<details><summary>Skipped files</summary>"
    echo
    echo "| file | reason |"
    echo "|---|---|"
    jq -r '(.skipped // [])[:20][] | "| `\(.path)` | \(.reason | gsub("\\|"; "\\|")) |"' "$json"
    more=$(( $(jq '(.skipped // []) | length' "$json") - 20 ))
    if [ "$more" -gt 0 ]; then
      echo
      echo "…and $more more (see the job log)."
    fi
    echo
    echo "</details>"
  fi
} >> "$GITHUB_STEP_SUMMARY"
exit 0
