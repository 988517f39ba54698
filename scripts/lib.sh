# Sourced by the other scripts: puts a pinned bun on PATH, installing it from
# the npm registry (package `bun`) into .tools/ when the machine has none.
BUN_VERSION=1.4.4
TASKQ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

use_bun() {
  export PATH="$TASKQ_ROOT/.tools/node_modules/.bin:$PATH"
  if command -v bun >/dev/null 2>&1 && [ "$(bun --version 2>/dev/null)" = "$BUN_VERSION" ]; then return 0; fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "taskq setup: bun $BUN_VERSION is needed; install Node.js/npm (then this script fetches bun) or bun itself" >&2
    return 1
  fi
  echo "taskq setup: installing bun $BUN_VERSION from npm into .tools/" >&2
  npm install --prefix "$TASKQ_ROOT/.tools" --no-save --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >&2
  [ "$(bun --version)" = "$BUN_VERSION" ]
}

# Other runtimes for the packed package's test (test/e2e/package.test.ts) and scripts/perf's Node
# rows, from the npm registry into .tools/ once, then reused: the official Node binary inside
# `node-linux-<arch>`, Deno inside `deno` (its optional `@deno/linux-<arch>-glibc`).
NODE22_VERSION=22.23.5
NODE24_VERSION=24.22.3
DENO_VERSION=2.9.6

tools_arch() { case "$(uname -m)" in x86_64) echo x64 ;; aarch64|arm64) echo arm64 ;; *) uname -m ;; esac; }

# Installs `name@version` into .tools/<dir> unless `check` already prints `want`.
tools_install() {
  local dir=$1 spec=$2 check=$3 want=$4
  if [ -x "${check%% *}" ] && [ "$($check 2>/dev/null)" = "$want" ]; then return 0; fi
  command -v npm >/dev/null 2>&1 || { echo "taskq setup: npm is needed to install $spec" >&2; return 1; }
  echo "taskq setup: installing $spec from npm into .tools/$dir" >&2
  npm install --prefix "$TASKQ_ROOT/.tools/$dir" --no-save --no-audit --no-fund --loglevel=error "$spec" >&2
  [ "$($check 2>/dev/null)" = "$want" ]
}

# use_node 22|24: sets NODE to that Node's binary (installing it once).
use_node() {
  local major=$1 version
  case "$major" in 22) version=$NODE22_VERSION ;; 24) version=$NODE24_VERSION ;; *) echo "use_node: 22 or 24, not $major" >&2; return 1 ;; esac
  NODE="$TASKQ_ROOT/.tools/node$major/node_modules/node-linux-$(tools_arch)/bin/node"
  tools_install "node$major" "node-linux-$(tools_arch)@$version" "$NODE --version" "v$version"
  export NODE
}

# use_deno: sets DENO to Deno's binary (installing it once).
use_deno() {
  DENO="$TASKQ_ROOT/.tools/deno/node_modules/@deno/linux-$(tools_arch)-glibc/deno"
  tools_install deno "deno@$DENO_VERSION" "$DENO eval --quiet console.log(Deno.version.deno)" "$DENO_VERSION"
  export DENO
}
