# Sourced by scripts/broker and scripts/cluster: isolated RabbitMQ nodes.
#
# A node NAME lives in ${TASKQ_NODES_DIR:-/tmp/taskq-nodes}/NAME and is named NAME@localhost;
# its AMQP port is PORT (kept in NAME/port) and its distribution port PORT+20000. It has its
# own config, NAME/rabbitmq.conf or .config (RABBITMQ_CONFIG_FILE=NAME/rabbitmq), because the
# machine's /etc/rabbitmq/rabbitmq.conf pins a listener to 5672; beside a rabbitmq.conf, the
# Erlang terms of NAME/advanced.config if there is one (write both before the first start:
# RABBITMQ_ADVANCED_CONFIG_FILE). Nodes run as user rabbitmq (the Debian wrapper su's to it), so
# the nodes of one version share that user's .erlang.cookie.
#
# A node runs one RabbitMQ version (kept in NAME/version; none: 3.10): 3.10 is the machine's own,
# 4.0 and 4.3 are Debian's packages in a root of their own (see node_root), where the node runs
# under chroot. The node's directory has the same path inside the root (bound there), and the
# host's epmd serves every node.
#
# The sourcing script sets DIE_PREFIX (e.g. "taskq broker").
NODES_DIR=${TASKQ_NODES_DIR:-/tmp/taskq-nodes}
case "$NODES_DIR" in /*) ;; *) NODES_DIR="$PWD/$NODES_DIR" ;; esac
ROOTS_DIR=${TASKQ_ROOTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools}

# The versions a node can run, and for each Debian's suite and the package version pinned (the
# machine's own for 3.10). Pinned so that a run today and one next month test the same broker: a
# version the mirror no longer serves fails in one line (root_build), to be pinned anew here.
NODE_VERSIONS="3.10 4.0 4.3"
version_pin() {
  case "$1" in
    3.10) echo "host -" ;;
    4.0) echo "trixie 4.0.5-6+deb13u2" ;;
    4.3) echo "sid 4.3.6-1" ;;
    *) return 1 ;;
  esac
}

die() { echo "${DIE_PREFIX:-taskq}: $*" >&2; exit 1; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

is_number() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; }

# The version node NAME runs (3.10 unless NAME/version says otherwise).
node_version() { cat "$NODES_DIR/$1/version" 2>/dev/null || echo 3.10; }

# The root a version runs in; nothing for 3.10 (the machine's own).
node_root() { [ "$1" = 3.10 ] || echo "$ROOTS_DIR/rabbitmq-$1"; }

# Builds VERSION's root unless it is there with the pinned package: Debian's own rabbitmq-server
# and what it depends on (Erlang), by mmdebstrap (minbase, ~250 MB; about 25 s here, a fresh one).
# Built aside and moved into place, one builder at a time (flock), so a node never sees half a root.
root_ensure() {
  local version=$1 pin suite pkg root stamp tmp log lock served
  pin=$(version_pin "$version") || die "no RabbitMQ $version here: versions are $NODE_VERSIONS"
  read -r suite pkg <<<"$pin"
  [ "$suite" != host ] || return 0
  root=$(node_root "$version") stamp="rabbitmq-server=$pkg ($suite)"
  [ "$(cat "$root/.taskq-root" 2>/dev/null)" != "$stamp" ] || return 0
  [ "$(id -u)" = 0 ] || die "RabbitMQ $version runs in a Debian root built by mmdebstrap, which needs root"
  if ! command -v mmdebstrap >/dev/null; then
    command -v apt-get >/dev/null || die "RabbitMQ $version needs mmdebstrap (Debian's package) to build its root"
    echo "${DIE_PREFIX:-taskq}: installing Debian's mmdebstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >&2 || die "could not install mmdebstrap (apt-get install mmdebstrap)"
  fi
  mkdir -p "$ROOTS_DIR"
  exec {lock}>"$ROOTS_DIR/rabbitmq-$version.lock"
  flock "$lock"
  if [ "$(cat "$root/.taskq-root" 2>/dev/null)" != "$stamp" ]; then
    echo "${DIE_PREFIX:-taskq}: building a Debian $suite root for RabbitMQ $version (rabbitmq-server $pkg) in $root" >&2
    tmp="$root.building" log="$root.log"
    rm -rf "$tmp"
    local opts=(--variant=minbase "--include=rabbitmq-server=$pkg")
    # The mirror's sid Release file is past its Valid-Until date.
    [ "$suite" != sid ] || opts+=('--aptopt=Acquire::Check-Valid-Until "false"')
    if ! mmdebstrap "${opts[@]}" "$suite" "$tmp" >"$log" 2>&1; then
      if grep -q "Version '$pkg' for 'rabbitmq-server' was not found" "$log"; then
        served=$(apt-cache -o "Dir=$tmp" -o "Dir::State::Status=$tmp/var/lib/dpkg/status" policy rabbitmq-server 2>/dev/null | sed -n 's/^ *Candidate: //p')
        rm -rf "$tmp"
        die "RabbitMQ $version is pinned to Debian $suite's rabbitmq-server $pkg, which the mirror no longer serves${served:+ (it serves $served)}: pin it anew in scripts/node.sh (version_pin)"
      fi
      rm -rf "$tmp"
      die "building the Debian $suite root for RabbitMQ $version failed: $(grep -m1 '^E:' "$log" | cut -c1-200) (see $log)"
    fi
    cp /etc/hosts "$tmp/etc/hosts"
    echo "$stamp" >"$tmp/.taskq-root"
    rm -rf "$root"
    mv "$tmp" "$root"
  fi
  exec {lock}>&-
}

# Runs a command for node NAME: as is for 3.10; else in its version's root, in a mount namespace
# of its own (gone with its last process, so nothing is left mounted on the host and deleting a
# root never reaches the host's /proc or /sys): /proc, /sys and the nodes' directory (at the
# same path) mounted in it, /etc/hosts the host's. The root's own /dev nodes are enough.
node_exec() {
  local root
  root=$(node_root "$(node_version "$1")"); shift
  [ -n "$root" ] || { "$@"; return; }
  [ -f "$root/.taskq-root" ] || die "no root at $root (start the node with scripts/broker start, which builds it)"
  cp /etc/hosts "$root/etc/hosts"
  mkdir -p "$root$NODES_DIR"
  unshare --mount --propagation private -- /bin/sh -c '
    root=$1 nodes=$2; shift 2
    mount -t proc proc "$root/proc" && mount -t sysfs -o ro sysfs "$root/sys" && mount --bind "$nodes" "$root$nodes" || exit 70
    exec chroot "$root" "$@"' node_exec "$root" "$NODES_DIR" "$@"
}

# The owner (uid:gid) of NAME's files: user rabbitmq of the machine, or of its version's root.
node_owner() {
  local root
  root=$(node_root "$(node_version "$1")")
  if [ -z "$root" ]; then id rabbitmq >/dev/null 2>&1 && echo "$(id -u rabbitmq):$(id -g rabbitmq)"
  else awk -F: '$1 == "rabbitmq" { print $3 ":" $4 }' "$root/etc/passwd"; fi
}

# Exports the RABBITMQ_* variables of node NAME (PORT defaults to the one it was started with).
node_env() {
  local name=$1 port=${2:-}
  local dir="$NODES_DIR/$name"
  [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null) || die "no node '$name' (start it first)"
  export RABBITMQ_NODENAME="$name@localhost" RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$((port + 20000)) \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_CONFIG_FILE="$dir/rabbitmq" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
}

node_ctl() { local name=$1; shift; node_env "$name"; node_exec "$name" rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"; }

# Creates NAME's directory, port file, plugins file and config, owned by rabbitmq. The config
# is an empty rabbitmq.conf, or with TERMS a rabbitmq.config of Erlang terms (written when the
# node has none): that skips cuttlefish, a quarter of a boot's CPU. VERSION (default: the one
# NAME ran before, else 3.10) is kept in NAME/version; its root is built if need be. A node
# that holds data of one version does not start as another (wipe it first).
node_prepare() {
  local name=$1 port=$2 terms=${3:-} version=${4:-} dir="$NODES_DIR/$1" owner
  is_number "$port" || die "PORT must be a number, not '$port'"
  [ -n "$version" ] || version=$(node_version "$name")
  version_pin "$version" >/dev/null || die "no RabbitMQ $version here: versions are $NODE_VERSIONS"
  if [ -d "$dir/mnesia" ] && [ "$(node_version "$name")" != "$version" ] && [ -n "$(ls -A "$dir/mnesia")" ]; then
    die "node $name holds data of RabbitMQ $(node_version "$name"), not $version: wipe it first (scripts/broker wipe $name)"
  fi
  if [ "$version" = 3.10 ]; then
    command -v rabbitmq-server >/dev/null || die "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
  else
    root_ensure "$version"
  fi
  mkdir -p "$dir/mnesia" "$dir/log"
  echo "$port" >"$dir/port"
  if [ "$version" = 3.10 ]; then rm -f "$dir/version"; else echo "$version" >"$dir/version"; fi
  [ -f "$dir/enabled_plugins" ] || echo "[]." >"$dir/enabled_plugins"
  if [ -n "$terms" ]; then
    [ -f "$dir/rabbitmq.config" ] || echo "$terms" >"$dir/rabbitmq.config"
  else
    [ -f "$dir/rabbitmq.conf" ] || : >"$dir/rabbitmq.conf"
  fi
  owner=$(node_owner "$name")
  if [ -n "$owner" ]; then chown -R "$owner" "$dir" && chmod 755 "$NODES_DIR"; fi
}

# The pid of NAME's Erlang VM, or nothing. The VM's command line does not name the node
# (rabbit sets it at boot), its environment does: RABBITMQ_NODENAME. Other Erlang VMs carry
# that variable too and come and go while a node starts: rabbitmq-server's epmd starter, and
# every rabbitmqctl run from here. Only the node's own VM boots rabbit ("-s rabbit boot"). Pids
# wrap (pid_max is 32768 here), so neither a pid file's pid nor the lowest pid is enough.
node_pid() {
  local name=$1 pid env
  for pid in $(cat "$NODES_DIR/$name/pid" 2>/dev/null) $(pgrep -x beam.smp); do
    env=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ") || continue
    grep -qx "RABBITMQ_NODENAME=$name@localhost" <<<"$env" || continue
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- ' -s rabbit boot '; then echo "$pid"; return 0; fi
  done
}

# Starts NAME's VM in the background (node_prepare first); refuses a port in use. A VM of NAME
# that is still shutting down (rabbitmqctl stop returns first) gets 30 s to exit.
node_launch() {
  local name=$1 old i
  node_env "$name"
  if port_open 127.0.0.1 "$RABBITMQ_NODE_PORT"; then die "port $RABBITMQ_NODE_PORT is already in use"; fi
  old=$(node_pid "$name")
  for ((i = 0; i < 300; i++)); do
    [ -n "$old" ] && kill -0 "$old" 2>/dev/null || break
    sleep 0.1
  done
  [ -z "$old" ] || ! kill -0 "$old" 2>/dev/null || die "node $name is already running (pid $old)"
  # A node in a root would start an epmd of its own there if none answered: the host's serves all.
  if [ "$(node_version "$name")" != 3.10 ] && ! port_open 127.0.0.1 4369 && command -v epmd >/dev/null; then epmd -daemon; fi
  node_exec "$name" rabbitmq-server -detached >/dev/null 2>&1 || true
}

# The last error the node logged (one line), for messages about a node that failed.
node_last_error() {
  local line
  line=$(grep -h -E '\[(error|critical)\]|BOOT FAILED|ERROR:' "$NODES_DIR/$1/log/"*.log 2>/dev/null | tail -1 | cut -c1-300)
  [ -z "$line" ] || echo " (last error logged: $line)"
}

# Waits until NAME's AMQP port answers, at most TIMEOUT seconds: it opens at the end of the boot.
node_await_port() {
  local name=$1 timeout=$2 since=$SECONDS pid= relaunched=
  node_env "$name"
  until port_open 127.0.0.1 "$RABBITMQ_NODE_PORT"; do
    [ $((SECONDS - since)) -lt "$timeout" ] \
      || die "node $name did not start within ${timeout}s; see $NODES_DIR/$name/log$(node_last_error "$name")"
    # The VM shows up seconds after the launch (many on a loaded machine); once it is gone, the
    # boot failed. A VM gone with no error logged (seen once in a suite run, a 4.0 node under a
    # load average of 8) is launched once more; one that logged why, or a second one, is the end.
    if [ -z "$pid" ]; then pid=$(node_pid "$name")
    elif ! kill -0 "$pid" 2>/dev/null; then
      if [ -z "$relaunched" ] && [ -z "$(node_last_error "$name")" ]; then
        echo "taskq broker: node $name exited while starting with no error logged: launching it once more" >&2
        relaunched=1 pid=
        node_exec "$name" rabbitmq-server -detached >/dev/null 2>&1 || true
        continue
      fi
      die "node $name exited while starting; see $NODES_DIR/$name/log$(node_last_error "$name")"
    fi
    sleep 0.2
  done
}

# Waits until NAME has booted, at most TIMEOUT seconds. A rabbitmqctl call costs about a second
# of CPU, so it first waits for the AMQP port, then confirms with await_startup (which fails at
# once while the VM is not reachable, hence the loop).
node_await() {
  local name=$1 timeout=$2 since=$SECONDS
  node_await_port "$name" "$timeout"
  until node_exec "$name" rabbitmqctl -n "$RABBITMQ_NODENAME" -q await_startup >/dev/null 2>&1; do
    [ $((SECONDS - since)) -lt "$timeout" ] || die "node $name did not start within ${timeout}s; see $NODES_DIR/$name/log"
    sleep 0.5
  done
}

# kill -9 NAME's Erlang VM and wait until it is gone.
node_kill() {
  local name=$1 pid
  pid=$(node_pid "$name")
  [ -n "$pid" ] || die "no running VM for $name@localhost"
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

node_stop() {
  node_env "$1"
  node_exec "$1" timeout 60 rabbitmqctl -n "$RABBITMQ_NODENAME" stop >/dev/null 2>&1 || true
}

# Before a node's logs go with its data: under the suite (TASKQ_SUITE_DEPRECATED names a file),
# every "Deprecated features" line the node logged goes there, and scripts/test fails on any
# (RabbitMQ 4.x logs one per deprecated feature in use, e.g. a global basic.qos).
node_note_deprecated() {
  local name=$1 file=${TASKQ_SUITE_DEPRECATED:-}
  [ -n "$file" ] || return 0
  grep -h "Deprecated features" "$NODES_DIR/$name/log/"*.log 2>/dev/null | cut -c1-300 | sed "s/^/$name: /" >>"$file" || true
}
