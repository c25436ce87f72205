#!/usr/bin/env bash
# Build the npm packages for the host platform into target/npm/ as tarballs:
#   lua-sync-cli-<version>.tgz             the main package (launcher, optionalDependencies)
#   lua-sync-cli-<os>-<cpu>-<version>.tgz  the platform package (the binary alone)
#
# Uses a release build (`cargo build --release`) unless LUA_NPM_BINARY names a binary to
# package (the tests package the one they were built with). Honours CARGO_TARGET_DIR;
# LUA_NPM_OUT overrides the output folder. Needs node and npm; downloads nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=${LUA_NPM_OUT:-$target_dir/npm}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
[ -n "$version" ] || { echo "error: no version in $root/Cargo.toml" >&2; exit 2; }

os=$(node -p process.platform)
cpu=$(node -p process.arch)
case "$os-$cpu" in
  linux-x64 | linux-arm64 | darwin-x64 | darwin-arm64 | win32-x64) ;;
  *) echo "error: no npm package for $os-$cpu" >&2; exit 2 ;;
esac
exe=""
[ "$os" = win32 ] && exe=".exe"

binary=${LUA_NPM_BINARY:-}
if [ -z "$binary" ]; then
  echo "building lua, release (the first build takes a few minutes)" >&2
  (cd "$root" && cargo build --release --locked --bin lua >&2)
  binary="$target_dir/release/lua$exe"
fi
[ -x "$binary" ] || { echo "error: $binary is not an executable" >&2; exit 2; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

# The platform package: the binary and a package.json that npm matches on os/cpu.
platform="$stage/platform"
mkdir -p "$platform/bin"
cp "$binary" "$platform/bin/lua$exe"
chmod 755 "$platform/bin/lua$exe"
PKG_VERSION="$version" PKG_OS="$os" PKG_CPU="$cpu" PKG_EXE="$exe" node -e '
  const e = process.env;
  const pkg = {
    name: `@lua-sync/cli-${e.PKG_OS}-${e.PKG_CPU}`,
    version: e.PKG_VERSION,
    description: `The lua binary for ${e.PKG_OS} ${e.PKG_CPU} (installed by @lua-sync/cli)`,
    license: "MIT",
    os: [e.PKG_OS],
    cpu: [e.PKG_CPU],
    files: [`bin/lua${e.PKG_EXE}`],
    preferUnplugged: true,
  };
  require("fs").writeFileSync(process.argv[1], JSON.stringify(pkg, null, 2) + "\n");
' "$platform/package.json"

# The main package: the launcher; every platform package pinned to this version.
main="$stage/main"
cp -R "$root/npm/cli" "$main"
PKG_VERSION="$version" node -e '
  const fs = require("fs");
  const file = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.version = process.env.PKG_VERSION;
  for (const name of Object.keys(pkg.optionalDependencies)) {
    pkg.optionalDependencies[name] = process.env.PKG_VERSION;
  }
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$main/package.json"

for dir in "$platform" "$main"; do
  (cd "$dir" && npm pack --silent --pack-destination "$out" >/dev/null)
done
echo "$out/lua-sync-cli-$version.tgz"
echo "$out/lua-sync-cli-$os-$cpu-$version.tgz"
