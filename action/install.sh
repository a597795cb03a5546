#!/usr/bin/env bash
# Installs mcp-audit for the GitHub Action and puts it on GITHUB_PATH.
#
# MCP_AUDIT_VERSION set: downloads that release's archive for this runner
# (assets made by scripts/release.sh), checks it against the release's
# SHA256SUMS and refuses it on any mismatch. Empty: `cargo install` of the
# action's own source.
#
#   MCP_AUDIT_RELEASE_BASE_URL  where releases live, default
#       https://github.com/OWNER/REPO/releases/download (the action's own
#       repository); the archive is read from BASE/vVERSION/NAME.
set -euo pipefail

fail() {
  echo "::error title=mcp-audit install::$*"
  exit 1
}

exe=mcp-audit
temp="${RUNNER_TEMP:-/tmp}"
# Git Bash on Windows: RUNNER_TEMP is a Windows path.
if command -v cygpath >/dev/null; then
  temp="$(cygpath -u "$temp")"
fi
dest="$temp/mcp-audit"
mkdir -p "$dest/bin"

if [ -n "${MCP_AUDIT_VERSION:-}" ]; then
  version="${MCP_AUDIT_VERSION#v}"
  if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
    fail "version '$MCP_AUDIT_VERSION' is not a release version such as 0.1.0; leave it empty to build from source"
  fi
  # RUNNER_OS / RUNNER_ARCH are set on every GitHub runner; uname covers
  # other runners.
  os="${RUNNER_OS:-$(uname -s)}"
  arch="${RUNNER_ARCH:-$(uname -m)}"
  ext=tar.gz
  case "$os-$arch" in
    Linux-X64 | Linux-x86_64) target=x86_64-unknown-linux-gnu ;;
    Linux-ARM64 | Linux-aarch64) target=aarch64-unknown-linux-gnu ;;
    macOS-ARM64 | Darwin-arm64) target=aarch64-apple-darwin ;;
    macOS-X64 | Darwin-x86_64) target=x86_64-apple-darwin ;;
    Windows-X64 | MINGW*-x86_64 | MSYS*-x86_64)
      target=x86_64-pc-windows-msvc exe=mcp-audit.exe ext=zip ;;
    *) fail "no mcp-audit release binary for $os $arch; leave 'version' empty to build from source" ;;
  esac

  repo="${ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-}}"
  base="${MCP_AUDIT_RELEASE_BASE_URL:-https://github.com/$repo/releases/download}"
  base="${base%/}"
  name="mcp-audit-$version-$target"
  archive="$name.$ext"
  work="$(mktemp -d "$temp/mcp-audit-download.XXXXXX")"
  trap 'rm -rf "$work"' EXIT

  download() {
    echo "Downloading $1"
    curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 \
      --output "$2" "$1" || fail "could not download $1"
  }
  download "$base/v$version/$archive" "$work/$archive"
  download "$base/v$version/SHA256SUMS" "$work/SHA256SUMS"

  # `sha256sum` writes `HASH  NAME` (or `HASH *NAME` in binary mode).
  expected="$(awk -v n="$archive" '$2 == n || $2 == "*" n { print tolower($1); exit }' "$work/SHA256SUMS")"
  [ -n "$expected" ] || fail "SHA256SUMS of v$version lists no $archive"
  if command -v sha256sum >/dev/null; then
    actual="$(sha256sum -- "$work/$archive" | cut -d' ' -f1)"
  else
    actual="$(shasum -a 256 -- "$work/$archive" | cut -d' ' -f1)"
  fi
  actual="${actual#\\}"
  if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual; not installing it"
  fi
  echo "SHA-256 verified: $actual  $archive"

  case "$ext" in
    tar.gz) tar -xzf "$work/$archive" -C "$work" ;;
    zip)
      if command -v unzip >/dev/null; then
        unzip -q "$work/$archive" -d "$work"
      elif command -v 7z >/dev/null; then
        7z x -bd -bso0 "-o$work" "$work/$archive"
      else
        fail "neither unzip nor 7z is available to unpack $archive"
      fi
      ;;
  esac
  [ -f "$work/$name/$exe" ] || fail "$archive holds no $name/$exe"
  install -m 755 "$work/$name/$exe" "$dest/bin/$exe"

  installed="$("$dest/bin/$exe" --version)" || fail "the downloaded mcp-audit does not run on this runner"
  if [ "$installed" != "mcp-audit $version" ]; then
    fail "$archive holds '$installed', not mcp-audit $version"
  fi
else
  CARGO_TARGET_DIR="$temp/mcp-audit-target" \
    cargo install --locked --path "$ACTION_PATH" --root "$dest" --quiet
fi

bin="$dest/bin"
if command -v cygpath >/dev/null; then
  bin="$(cygpath -w "$bin")"
fi
echo "$bin" >> "$GITHUB_PATH"
"$dest/bin/$exe" --version
