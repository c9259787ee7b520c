#!/usr/bin/env bash
# Builds the real Pulumi CLI and a Node.js language host from the Go module proxy, once per
# version, into a cache outside the repo, and prints the directory holding the binaries.
#
#   scripts/pulumi-cli.sh                          -> prints <cache>/pulumi/3.248.0/bin
#   PULUMI_VERSION=3.276.0 scripts/pulumi-cli.sh   -> the CLI of that release (the test legs, see scripts/legs.js)
#
# Why a build: the `pulumi` npm package only downloads an installer, and this machine kind reaches
# package registries only. A `pulumi` already on PATH is used instead when it is recent enough.
set -euo pipefail

# Without PULUMI_VERSION: the oldest release this package supports (the last one running on Node.js 20).
EXACT_VERSION="${PULUMI_VERSION:-}"
PULUMI_VERSION="${PULUMI_VERSION:-3.248.0}"
# The Node.js language host left sdk/v3 for its own Go module in mid-2023; that module has no tags
# and the module proxy reachable here serves no version of it. sdk/v3 v3.68.0 is the newest
# release that still contains the host as a package, so we build the host from there. (Asked again
# on 2026-11-30: `go list -m -versions github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3`
# -> "403 Forbidden: This module version is not available".) The host only
# spawns `node @pulumi/pulumi/cmd/run` from the program's node_modules; the engine and the
# Node SDK (both current) do the real work. tests/e2e proves the pair with `up/preview/destroy`.
LANGHOST_SDK_VERSION="${LANGHOST_SDK_VERSION:-3.68.0}"
MIN_PATH_VERSION="${PULUMI_MIN_VERSION:-3.150.0}"

# Same cache root as rig/paths.ts: root caches under /var/cache (its home is not readable by the
# unprivileged Elasticsearch user), others under ~/.cache.
if [ -n "${PULUMI_ES_REMOTE_CACHE:-}" ]; then CACHE="$PULUMI_ES_REMOTE_CACHE"
elif [ "$(id -u)" = 0 ]; then CACHE=/var/cache/pulumi-es-remote
else CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-es-remote"; fi
OUT="$CACHE/pulumi/$PULUMI_VERSION"
BIN="$OUT/bin"

log() { echo "[pulumi-cli] $*" >&2; }

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

if [ -z "${PULUMI_FORCE_BUILD:-}" ] && command -v pulumi >/dev/null 2>&1 \
   && command -v pulumi-language-nodejs >/dev/null 2>&1; then
  have="$(pulumi version 2>/dev/null | sed 's/^v//')"
  # An explicitly asked release must be exactly that release (a test leg claims it).
  if [ -n "$have" ] && { [ "$have" = "$EXACT_VERSION" ] || { [ -z "$EXACT_VERSION" ] && version_ge "$have" "$MIN_PATH_VERSION"; }; }; then
    log "using pulumi $have from PATH"
    dirname "$(command -v pulumi)"
    exit 0
  fi
fi

if [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-language-nodejs" ] && [ -x "$BIN/pulumi-resource-pulumi-nodejs" ]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE/pulumi"
# One build per version at a time (two test legs, or two checkouts, may ask at once): wait, then reuse.
exec 9>"$CACHE/pulumi/$PULUMI_VERSION.lock"
flock 9
if [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-language-nodejs" ] && [ -x "$BIN/pulumi-resource-pulumi-nodejs" ]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build the Pulumi CLI (apt-get install golang, or see go.dev)"; exit 1; }
mkdir -p "$BIN"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

build_module() { # <dir> <module requirements...>
  local dir="$1"; shift
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init pulumi-es-remote-build >/dev/null 2>&1 && for req in "$@"; do go mod edit -require="$req"; done)
}

start=$(date +%s)
if [ ! -x "$BIN/pulumi" ]; then
  log "building pulumi v$PULUMI_VERSION from the Go module proxy (first time only; several minutes)"
  build_module "$OUT/src-cli" "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
  cat > "$OUT/src-cli/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
  (cd "$OUT/src-cli" && go mod tidy >/dev/null 2>&1 || go mod download all >/dev/null
   go build -trimpath -o "$BIN/pulumi.tmp" \
     -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
     github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$BIN/pulumi.tmp" "$BIN/pulumi"
fi

if [ ! -x "$BIN/pulumi-language-nodejs" ]; then
  log "building pulumi-language-nodejs (sdk v$LANGHOST_SDK_VERSION)"
  build_module "$OUT/src-langhost" "github.com/pulumi/pulumi/sdk/v3@v$LANGHOST_SDK_VERSION"
  cat > "$OUT/src-langhost/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
GO
  (cd "$OUT/src-langhost" && go mod tidy >/dev/null 2>&1 || true
   go build -trimpath -o "$BIN/pulumi-language-nodejs.tmp" -ldflags "-s -w" \
     github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs)
  mv "$BIN/pulumi-language-nodejs.tmp" "$BIN/pulumi-language-nodejs"
fi

# The dynamic-provider plugin is a shell script in Pulumi's releases: node on the Node SDK's
# dynamic-provider entry point, resolved from the program's own node_modules.
cat > "$BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
exec node "$(node -p "require.resolve('@pulumi/pulumi/cmd/dynamic-provider', { paths: [process.cwd()] })")" "$@"
SH
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"
log "built in $(( $(date +%s) - start ))s -> $BIN"
echo "$BIN"
