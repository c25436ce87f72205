#!/usr/bin/env bash
# Times `lua sync --check` end to end (process start, compile, HTTP to a local
# devserver, compare, render) with hyperfine, on the example project with deployed
# primitives (scripts/lib/bench-setup.sh), in sync and with drift.
#
# Needs hyperfine (Debian: `apt-get install hyperfine`; or `cargo install hyperfine`).
#   ./scripts/bench-e2e.sh            # default: 10 warmups, 50 runs each
#   RUNS=200 ./scripts/bench-e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-50}

if ! command -v hyperfine >/dev/null; then
  echo "hyperfine not found: apt-get install hyperfine (or cargo install hyperfine)" >&2
  exit 2
fi

. scripts/lib/bins.sh
build_bins "lua and lua-devserver, release" --release -p lua-cli -p lua-devserver
release=$(target_dir)/release
lua=$(require_bin LUA_BIN lua "$release/lua" "cargo build --release -p lua-cli")
devserver=$(require_bin LUA_DEVSERVER_BIN lua-devserver "$release/lua-devserver" "cargo build --release -p lua-devserver")
. scripts/lib/bench-setup.sh
work=$(mktemp -d)
bench_setup "$devserver" "$lua" "$work"

export LUA_API_URL="$url" LUA_API_KEY="$key" NO_COLOR=1
# Time the paths we mean to time: in sync exits 0, drift exits 1 (hyperfine's -i would
# otherwise hide an error exit 2 as well).
expect_exit() {
  local want=$1 dir=$2 got=0
  "$lua" -C "$dir" sync --check >/dev/null 2>&1 || got=$?
  if [ "$got" != "$want" ]; then
    echo "expected exit $want from lua sync --check in $dir, got $got:" >&2
    "$lua" -C "$dir" sync --check >&2 || true
    exit 2
  fi
}
expect_exit 0 "$work/insync"
expect_exit 1 "$work/drift"
hyperfine --warmup 10 --runs "$runs" -N --export-markdown "$work/results.md" \
  -i -n "in sync" "$lua -C $work/insync sync --check" \
  -n "drift"   "$lua -C $work/drift sync --check"
cat "$work/results.md"
