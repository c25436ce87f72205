#!/usr/bin/env node
// The `lua` command of the npm package: finds the native binary in the platform package
// npm installed (an optional dependency chosen by its `os`/`cpu` fields, as esbuild,
// Biome and Turbo do) and runs it with the same arguments, stdio, exit code and signals.
// Nothing is downloaded, at install time or ever.
"use strict";

const { spawn } = require("child_process");
const path = require("path");

const PACKAGES = {
  "linux x64": "@lua-sync/cli-linux-x64",
  "linux arm64": "@lua-sync/cli-linux-arm64",
  "darwin x64": "@lua-sync/cli-darwin-x64",
  "darwin arm64": "@lua-sync/cli-darwin-arm64",
  "win32 x64": "@lua-sync/cli-win32-x64",
};

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

const platform = `${process.platform} ${process.arch}`;
const pkg = PACKAGES[platform];
if (!pkg) {
  fail(
    `@lua-sync/cli has no prebuilt binary for ${platform}; ` +
      "build it from source with `cargo install --path .` in a clone of the repository"
  );
}

let binary;
try {
  const dir = path.dirname(require.resolve(`${pkg}/package.json`));
  binary = path.join(dir, "bin", process.platform === "win32" ? "lua.exe" : "lua");
} catch (e) {
  fail(
    `the platform package ${pkg} is not installed. npm installs it as an optional ` +
      "dependency: reinstall @lua-sync/cli without --no-optional / --omit=optional"
  );
}

const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });

// A signal sent to this process (not to the whole terminal group) goes on to the binary;
// this process stays alive until the binary exits, then mirrors how it ended.
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
for (const signal of SIGNALS) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
  });
}

child.on("error", (e) => fail(`cannot run ${binary}: ${e.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    for (const s of SIGNALS) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code === null ? 2 : code);
});
