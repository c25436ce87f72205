#!/usr/bin/env bash
# Demo: start a local platform with a seeded agent whose dashboard persona differs from
# examples/support-bot, and run `lua sync --check` there so the drift shows.
#   ./scripts/demo.sh          run the check, stop the server
#   ./scripts/demo.sh --keep   leave the devserver running (prints its URL and key)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=${1:-}

cargo build --quiet --locked -p lua-cli -p lua-devserver
bin=$(pwd)/target/debug

work=$(mktemp -d)
cp -R examples/support-bot/. "$work/"
key="demo-key"
log="$work/devserver.out"

"$bin/lua-devserver" --memory --port 0 --api-key "$key" --seed examples/seed.json >"$log" 2>"$work/devserver.err" &
pid=$!
cleanup() { if [ "$keep" != "--keep" ]; then kill "$pid" 2>/dev/null || true; rm -rf "$work"; fi; }
trap cleanup EXIT

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^lua-devserver listening on //p' "$log" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the devserver did not start:" >&2
  cat "$work/devserver.err" >&2
  exit 2
fi

echo "# devserver at $url (dashboard: open it in a browser, key: $key)"
echo "# project copy: $work"
echo "# running: lua sync --check"
echo
status=0
(cd "$work" && LUA_API_URL="$url" LUA_API_KEY="$key" "$bin/lua" sync --check) || status=$?
echo
echo "# lua sync --check exited with $status (0 = in sync, 1 = drift, 2 = error)"
if [ "$keep" = "--keep" ]; then
  echo "# devserver still running (pid $pid). Try:"
  echo "#   cd $work && LUA_API_URL=$url LUA_API_KEY=$key $bin/lua sync"
fi
# Drift (1) is what the demo shows; only an error (2) fails the demo.
[ "$status" -le 1 ]
