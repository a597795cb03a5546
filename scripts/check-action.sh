#!/usr/bin/env bash
# The Action and the workflows as GitHub loads them, and as zizmor audits
# them:
#   1. check-jsonschema with GitHub's action schema over action.yml and the
#      workflow schema over .github/workflows/*.yml and the README's example
#      workflow (the first ```yaml block after "checked by actionlint");
#   2. zizmor, offline, over the same files: any finding of medium severity
#      or above fails.
# Both come from PyPI, pinned, into a virtualenv in a cache directory
# (ACTION_TOOLS, default ~/.cache/mcp-audit-action-tools).
# Known-bad inputs must fail too, or a checker is not checking.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK_JSONSCHEMA_VERSION=0.39.0
ZIZMOR_VERSION=1.32.0
tools="${ACTION_TOOLS:-$HOME/.cache/mcp-audit-action-tools}"
stamp="check-jsonschema==$CHECK_JSONSCHEMA_VERSION zizmor==$ZIZMOR_VERSION"
if [ "$(cat "$tools/installed" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  # shellcheck disable=SC2086 # the stamp is the list of requirements
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check $stamp
  echo "$stamp" > "$tools/installed"
fi
check_jsonschema="$tools/bin/check-jsonschema"
zizmor="$tools/bin/zizmor"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
awk '/checked by actionlint/ {m=1; next} m && /^```yaml/ {p=1; next} p && /^```/ {exit} p {print}' \
  README.md > "$tmp/readme-example.yml"
test -s "$tmp/readme-example.yml"
workflows=(.github/workflows/*.yml "$tmp/readme-example.yml")

status=0
"$check_jsonschema" --builtin-schema vendor.github-actions action.yml || status=1
"$check_jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}" || status=1
# --strict-collection: a file zizmor cannot parse is an error, not a skip.
"$zizmor" --offline --strict-collection --min-severity medium action.yml "${workflows[@]}" || status=1

# Known-bad inputs. An action whose description holds an unquoted ": " is
# not YAML (GitHub cannot load it):
sed 's/^\(    description: \)"\(.*\)"$/\1\2 (default: none)/' action.yml > "$tmp/action.yml"
if ! grep -q '(default: none)$' "$tmp/action.yml"; then
  echo "check-action: could not build the broken action.yml" >&2
  exit 1
fi
if "$check_jsonschema" --builtin-schema vendor.github-actions "$tmp/action.yml" >/dev/null 2>&1; then
  echo "check-action: check-jsonschema accepted an action.yml that is not YAML" >&2
  exit 1
fi
# A checkout that leaves its token in .git (zizmor's artipacked):
printf 'on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n' \
  > "$tmp/bad.yml"
if "$zizmor" --offline --strict-collection --min-severity medium "$tmp/bad.yml" >/dev/null 2>&1; then
  echo "check-action: zizmor accepted a checkout that persists its credentials" >&2
  exit 1
fi

if [ "$status" = 0 ]; then
  echo "check-action: action.yml, the workflows and the README example load under GitHub's schemas; zizmor $ZIZMOR_VERSION finds nothing at medium or above"
fi
exit "$status"
