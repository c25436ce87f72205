# Sourced by scripts: find the binaries cargo built, wherever its target directory is.
#   target_dir            CARGO_TARGET_DIR, else cargo metadata's target_directory
#                         (which also knows .cargo/config.toml's build.target-dir)
#   build_bins WHAT ARGS...
#                         say what is built, and that the first build takes minutes, then
#                         `cargo build --locked ARGS...` with cargo's progress shown (stderr)
#   require_bin VAR NAME PATH HINT
#                         use $VAR if set (a prebuilt binary), else PATH; exit 2 saying
#                         which binary is missing where, and how to build it

target_dir() {
  if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    echo "$CARGO_TARGET_DIR"
    return
  fi
  local meta
  if ! meta=$(cargo metadata --format-version 1 --no-deps 2>&1); then
    echo "cannot find cargo's target directory: cargo metadata failed:" >&2
    echo "$meta" >&2
    exit 2
  fi
  echo "$meta" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'
}

build_bins() {
  local what=$1
  shift
  echo "building $what (the first build takes a few minutes)" >&2
  cargo build --locked "$@" >&2
}

require_bin() {
  local var=$1 name=$2 path=$3 hint=$4
  local given=${!var:-}
  if [ -n "$given" ]; then
    path=$given
  fi
  if [ ! -x "$path" ]; then
    if [ -n "$given" ]; then
      echo "$name not found at $path (from $var); unset $var, or point it at a built $name" >&2
    else
      echo "$name not found at $path; build it with: $hint (or set $var to a built $name)" >&2
    fi
    exit 2
  fi
  echo "$path"
}
