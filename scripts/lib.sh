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
