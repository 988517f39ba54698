# Sourced by scripts/broker and scripts/cluster: isolated RabbitMQ nodes.
#
# A node NAME lives in ${TASKQ_NODES_DIR:-/tmp/taskq-nodes}/NAME and is named NAME@localhost;
# its AMQP port is PORT (kept in NAME/port) and its distribution port PORT+20000. It has its
# own config, NAME/rabbitmq.conf or .config (RABBITMQ_CONFIG_FILE=NAME/rabbitmq), because the
# machine's /etc/rabbitmq/rabbitmq.conf pins a listener to 5672. Nodes run as user rabbitmq (the
# Debian wrapper su's to it), so they all share /var/lib/rabbitmq/.erlang.cookie.
#
# The sourcing script sets DIE_PREFIX (e.g. "taskq broker").
NODES_DIR=${TASKQ_NODES_DIR:-/tmp/taskq-nodes}

die() { echo "${DIE_PREFIX:-taskq}: $*" >&2; exit 1; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

is_number() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; }

# Exports the RABBITMQ_* variables of node NAME (PORT defaults to the one it was started with).
node_env() {
  local name=$1 port=${2:-}
  local dir="$NODES_DIR/$name"
  [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null) || die "no node '$name' (start it first)"
  export RABBITMQ_NODENAME="$name@localhost" RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$((port + 20000)) \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
}

node_ctl() { local name=$1; shift; node_env "$name"; rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"; }

# Creates NAME's directory, port file, plugins file and config, owned by rabbitmq. The config
# is an empty rabbitmq.conf, or with TERMS a rabbitmq.config of Erlang terms (written when the
# node has none): that skips cuttlefish, a quarter of a boot's CPU.
node_prepare() {
  local name=$1 port=$2 terms=${3:-} dir="$NODES_DIR/$1"
  command -v rabbitmq-server >/dev/null || die "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
  is_number "$port" || die "PORT must be a number, not '$port'"
  mkdir -p "$dir/mnesia" "$dir/log"
  echo "$port" >"$dir/port"
  [ -f "$dir/enabled_plugins" ] || echo "[]." >"$dir/enabled_plugins"
  if [ -n "$terms" ]; then
    [ -f "$dir/rabbitmq.config" ] || echo "$terms" >"$dir/rabbitmq.config"
  else
    [ -f "$dir/rabbitmq.conf" ] || : >"$dir/rabbitmq.conf"
  fi
  if id rabbitmq >/dev/null 2>&1; then chown -R rabbitmq:rabbitmq "$dir" && chmod 755 "$NODES_DIR"; fi
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
  rabbitmq-server -detached >/dev/null 2>&1 || true
}

# The last error the node logged (one line), for messages about a node that failed.
node_last_error() {
  local line
  line=$(grep -h -E '\[(error|critical)\]|BOOT FAILED|ERROR:' "$NODES_DIR/$1/log/"*.log 2>/dev/null | tail -1 | cut -c1-300)
  [ -z "$line" ] || echo " (last error logged: $line)"
}

# Waits until NAME's AMQP port answers, at most TIMEOUT seconds: it opens at the end of the boot.
node_await_port() {
  local name=$1 timeout=$2 since=$SECONDS pid=
  node_env "$name"
  until port_open 127.0.0.1 "$RABBITMQ_NODE_PORT"; do
    [ $((SECONDS - since)) -lt "$timeout" ] \
      || die "node $name did not start within ${timeout}s; see $NODES_DIR/$name/log$(node_last_error "$name")"
    # The VM shows up seconds after the launch (many on a loaded machine); once it is gone, the
    # boot failed.
    if [ -z "$pid" ]; then pid=$(node_pid "$name")
    elif ! kill -0 "$pid" 2>/dev/null; then
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
  until rabbitmqctl -n "$RABBITMQ_NODENAME" -q await_startup >/dev/null 2>&1; do
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
  timeout 60 rabbitmqctl -n "$RABBITMQ_NODENAME" stop >/dev/null 2>&1 || true
}
