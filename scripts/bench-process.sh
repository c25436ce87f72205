#!/usr/bin/env bash
# Whole-process cost of `lua sync --check` against a local devserver, in sync and with
# drift, next to `lua --version` (the floor: process start and exit), in one run.
#
# For each case it runs the release binary RUNS times (after WARMUP runs) and prints the
# median wall time, the median CPU time (user + system, from the kernel's rusage of the
# child via wait4, microsecond resolution) and the largest peak resident memory.
# `/usr/bin/time` only has 10 ms resolution for CPU, too coarse for a 2 ms target, hence
# the small python3 wrapper; but a child forked from python inherits python's RSS
# high-water mark through exec, so peak memory is read with `/usr/bin/time -f %M`
# (a small parent) when it is installed.
#
#   ./scripts/bench-process.sh             # 5 warmups, 40 runs per case
#   RUNS=200 ./scripts/bench-process.sh
#   BIN=/path/to/release ./scripts/bench-process.sh   # measure prebuilt binaries
#   BEFORE=/path/to/older/release ./scripts/bench-process.sh
#                                          # also an older build's lua, in the same run
#
# The project is the example with deployed primitives (scripts/lib/bench-setup.sh): an
# in-sync check makes the agent, persona and six primitive listing requests.
#
# Targets (issue 17): in-sync CPU within 2 ms of the --version floor; peak memory
# under 16 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-40}
warmup=${WARMUP:-5}

command -v python3 >/dev/null || { echo "python3 is needed (it reads the child's rusage)" >&2; exit 2; }

if [ -z "${BIN:-}" ]; then
  . scripts/lib/bins.sh
  build_bins "lua and lua-devserver, release" --release -p lua-cli -p lua-devserver
  BIN=$(target_dir)/release
fi
. scripts/lib/bench-setup.sh
work=$(mktemp -d)
bench_setup "$BIN/lua-devserver" "$BIN/lua" "$work"
if [ -n "${BEFORE:-}" ]; then
  # The older binary gets its own in-sync copy, pulled by itself.
  mkdir -p "$work/insync-before"
  cp -R "$work/insync/." "$work/insync-before/"
  rm -f "$work/insync-before/lua.sync.json"
  (cd "$work/insync-before" && LUA_API_URL="$url" LUA_API_KEY="$key" "$BEFORE/lua" sync --accept >/dev/null)
fi

export LUA_API_URL="$url" LUA_API_KEY="$key" NO_COLOR=1
python3 - "$runs" "$warmup" "$BIN/lua" "$work" "${BEFORE:-}" <<'EOF'
import os, shutil, statistics, subprocess, sys, tempfile, time

runs, warmup, lua, work, before = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

def cases_for(lua, label, insync):
    return [
        (f"{label}lua --version (floor)", [lua, "--version"], 0),
        (f"{label}sync --check, in sync", [lua, "-C", f"{work}/{insync}", "sync", "--check"], 0),
        (f"{label}sync --check, drift", [lua, "-C", f"{work}/drift", "sync", "--check"], 1),
    ]

cases = cases_for(lua, "", "insync")
if before:
    cases = cases_for(f"{before}/lua", "before: ", "insync-before") + cases

def once(argv, want):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != want:
        sys.exit(f"{' '.join(argv)}: exit {code}, expected {want}")
    # ru_maxrss is in KiB on Linux.
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss

gnu_time = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)

def peak_kib(argv):
    """Peak RSS in KiB through GNU time (its parent is tiny), else None."""
    if not gnu_time:
        return None
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run([gnu_time, "-f", "%M", "-o", out.name, *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(out.read().strip().splitlines()[-1])

rows = []
for name, argv, want in cases:
    for _ in range(warmup):
        once(argv, want)
    samples = [once(argv, want) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples) * 1000
    cpu = statistics.median(s[1] for s in samples) * 1000
    peaks = [peak_kib(argv) for _ in range(5)]
    rss = (max(peaks) if peaks[0] is not None else max(s[2] for s in samples)) / 1024
    rows.append((name, wall, cpu, rss))

print(f"{runs} runs per case (median wall, median CPU = user+sys, max peak RSS);")
print("CPU over floor: against the same binary's --version")
print(f"| {'case':<32} | {'wall ms':>8} | {'CPU ms':>7} | {'CPU over floor':>14} | {'peak MiB':>8} |")
print(f"|{'-'*34}|{'-'*10}|{'-'*9}|{'-'*16}|{'-'*10}|")
for i, (name, wall, cpu, rss) in enumerate(rows):
    floor_cpu = rows[i - i % 3][2]
    print(f"| {name:<32} | {wall:8.2f} | {cpu:7.2f} | {cpu - floor_cpu:+14.2f} | {rss:8.1f} |")
EOF
