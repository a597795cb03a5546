#!/usr/bin/env bash
# Release assets, as .github/workflows/release.yml publishes them and as the
# Action's install step (action/install.sh) reads them. tests/action.rs
# builds its local release directory with this script too, so the format the
# installer is tested against is the one the workflow ships.
#
#   scripts/release.sh package VERSION TARGET BINARY OUT_DIR
#       OUT_DIR/mcp-audit-VERSION-TARGET.tar.gz (.zip for Windows targets),
#       holding one folder of that name with the binary, README.md and the
#       license files present.
#   scripts/release.sh checksums DIR
#       DIR/SHA256SUMS: one `sha256  name` line per archive in DIR, the
#       format `sha256sum --check` reads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum -- "$1" | cut -d' ' -f1
  else
    shasum -a 256 -- "$1" | cut -d' ' -f1
  fi
}

case "${1:-}" in
  package)
    [ $# -eq 5 ] || { echo "usage: $0 package VERSION TARGET BINARY OUT_DIR" >&2; exit 2; }
    version="$2" target="$3" binary="$4" out="$5"
    name="mcp-audit-$version-$target"
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
    stage="$(mktemp -d)"
    trap 'rm -rf "$stage"' EXIT
    mkdir "$stage/$name"
    case "$target" in
      *windows*) exe=mcp-audit.exe ;;
      *) exe=mcp-audit ;;
    esac
    cp "$binary" "$stage/$name/$exe"
    chmod 755 "$stage/$name/$exe"
    for f in README.md LICENSE LICENSE-MIT LICENSE-APACHE; do
      if [ -f "$root/$f" ]; then cp "$root/$f" "$stage/$name/"; fi
    done
    case "$target" in
      *windows*)
        rm -f "$out/$name.zip"
        if command -v 7z >/dev/null; then
          (cd "$stage" && 7z a -tzip -bd -bso0 "$out/$name.zip" "$name")
        else
          (cd "$stage" && zip -qr "$out/$name.zip" "$name")
        fi
        echo "$out/$name.zip"
        ;;
      *)
        tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
        echo "$out/$name.tar.gz"
        ;;
    esac
    ;;
  checksums)
    [ $# -eq 2 ] || { echo "usage: $0 checksums DIR" >&2; exit 2; }
    cd "$2"
    shopt -s nullglob
    archives=(*.tar.gz *.zip)
    if [ ${#archives[@]} -eq 0 ]; then
      echo "release.sh: no archives in $2" >&2
      exit 1
    fi
    for f in "${archives[@]}"; do
      printf '%s  %s\n' "$(sha256 "$f")" "$f"
    done > SHA256SUMS
    cat SHA256SUMS
    ;;
  *)
    echo "usage: $0 package VERSION TARGET BINARY OUT_DIR | checksums DIR" >&2
    exit 2
    ;;
esac
