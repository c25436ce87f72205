#!/usr/bin/env bash
# Demo: start a local platform with a seeded agent whose dashboard persona differs from
# examples/support-bot, and run `lua sync --check` there so the drift shows.
#   ./scripts/demo.sh          run the check, stop the server
#   ./scripts/demo.sh --keep   leave the devserver running (prints its URL and key)
# Binaries: built with cargo into its target directory (CARGO_TARGET_DIR or cargo
# metadata's). LUA_BIN and LUA_DEVSERVER_BIN use prebuilt ones instead (no build);
# LUA_DEMO_NO_BUILD=1 skips the build and uses what the target directory holds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bins.sh
keep=${1:-}

if [ -z "${LUA_BIN:-}${LUA_DEVSERVER_BIN:-}" ] && [ -z "${LUA_DEMO_NO_BUILD:-}" ]; then
  build_bins "lua and lua-devserver" -p lua-cli -p lua-devserver
fi
if [ -n "${LUA_BIN:-}" ] && [ -n "${LUA_DEVSERVER_BIN:-}" ]; then
  debug=""
else
  debug=$(target_dir)/debug
fi
lua=$(require_bin LUA_BIN lua "$debug/lua" "cargo build -p lua-cli")
devserver=$(require_bin LUA_DEVSERVER_BIN lua-devserver "$debug/lua-devserver" "cargo build -p lua-devserver")

work=$(mktemp -d)
cp -R examples/support-bot/. "$work/"
key="demo-key"
log="$work/devserver.out"

"$devserver" --memory --port 0 --api-key "$key" --seed examples/seed.json >"$log" 2>"$work/devserver.err" &
pid=$!
cleanup() { if [ "$keep" != "--keep" ]; then kill "$pid" 2>/dev/null || true; rm -rf "$work"; fi; }
trap cleanup EXIT

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^lua-devserver listening on //p' "$log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  if kill -0 "$pid" 2>/dev/null; then
    echo "the devserver ($devserver) did not say where it listens within 10 s:" >&2
  else
    echo "the devserver ($devserver) exited before listening:" >&2
  fi
  cat "$work/devserver.err" >&2
  exit 2
fi

echo "# devserver at $url (dashboard: open it in a browser, key: $key)"
echo "# project copy: $work"
echo "# running: lua sync --check"
echo
status=0
(cd "$work" && LUA_API_URL="$url" LUA_API_KEY="$key" "$lua" sync --check) || status=$?
echo
echo "# lua sync --check exited with $status (0 = in sync, 1 = drift, 2 = error)"
if [ "$keep" = "--keep" ]; then
  echo "# devserver still running (pid $pid). Try:"
  echo "#   cd $work && LUA_API_URL=$url LUA_API_KEY=$key $lua sync"
fi
# Drift (1) is what the demo shows; only an error (2) fails the demo.
[ "$status" -le 1 ]
