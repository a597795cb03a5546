#!/usr/bin/env bash
# Installs mcp-audit for the GitHub Action: a released binary when
# MCP_AUDIT_VERSION names one, otherwise `cargo install` of the action's own
# source. Puts it on GITHUB_PATH.
set -euo pipefail
dest="${RUNNER_TEMP:-/tmp}/mcp-audit"
mkdir -p "$dest/bin"
if [ -n "${MCP_AUDIT_VERSION:-}" ]; then
  version="${MCP_AUDIT_VERSION#v}"
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=x86_64-unknown-linux-gnu ;;
    Linux-aarch64) target=aarch64-unknown-linux-gnu ;;
    Darwin-arm64) target=aarch64-apple-darwin ;;
    Darwin-x86_64) target=x86_64-apple-darwin ;;
    *) echo "::error::no mcp-audit release for $(uname -s)-$(uname -m); leave 'version' empty to build from source"; exit 2 ;;
  esac
  url="https://github.com/${ACTION_REPOSITORY}/releases/download/v${version}/mcp-audit-${target}.tar.gz"
  echo "Downloading $url"
  curl --fail --silent --show-error --location "$url" | tar -xz -C "$dest/bin"
else
  CARGO_TARGET_DIR="${RUNNER_TEMP:-/tmp}/mcp-audit-target" \
    cargo install --locked --path "$ACTION_PATH" --root "$dest" --quiet
fi
echo "$dest/bin" >> "$GITHUB_PATH"
"$dest/bin/mcp-audit" --version
