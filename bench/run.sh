#!/usr/bin/env bash
# Measures SocketStarter beside a raw single-process WebSocket chat and an ASP.NET Core SignalR hub, on this
# machine, in one run: idle connections, chat throughput and latency, and the stall of backend restarts.
# Writes bench/results/<date>.json and docs/benchmarks.md (with SVG charts). Every scenario stops by itself.
#   bench/run.sh            the full run (about 17 minutes): refreshes docs/benchmarks.md
#   bench/run.sh --quick    under 4 minutes: raw and SocketStarter at 200 x 5 (after warm-up), 1000 x 8, 10k idle and
#                           one graceful restart; prints each target with its ratio, one per line (docs are not touched)
#   bench/run.sh --rolling [oldest-first]  the rolling deploy only (3 backends restarted one after another, the one
#                           holding the shard coordinators last as docs/deploy.md says, or in the order they were
#                           started); prints its rows
#   bench/run.sh --restart [N] [kill]  the graceful restart (or SIGKILL and restart) of one of N backends (default
#                           2) only, 30 s of load so that the restarted backend's whole share comes back within it
#                           (about a minute and a half); prints its row
#   bench/run.sh --steady [N [clients rate]]  SocketStarter alone at 200 x 5 (or clients x rate) after the warm-up,
#                           N runs (default 3) on one cluster (about a minute): for A/B runs of a change to the steady
#                           state; prints its rows. STEADY_BACKENDS=n runs it on n backends (one SQLite file)
#   bench/run.sh --churn [N] [expire]  raw and SocketStarter at 200 x 5 for 20 s while N more clients (default 1000)
#                           join the rooms at 5 s and all leave 4 s later (expire: disconnect, so that their sessions
#                           end when the resume window runs out; RESUME_WINDOW_SECONDS=3 makes that 3 s later);
#                           prints the rows (latency per half second in "stall")
#   bench/run.sh --cold [N]  SocketStarter alone at 200 x 5 for the first 20 s of N fresh clusters (default 3)
#   add --postgres (last) for a journal on a private PostgreSQL server instead of one SQLite file shared by the
#   backends, as a deployment on several hosts has it (needs Debian's postgresql)
set -euo pipefail
cd "$(dirname "$0")/.."
export root=$PWD
quick=0; [[ ${1:-} == --quick ]] && quick=1
rolling_only=0; [[ ${1:-} == --rolling ]] && rolling_only=1
oldest_last=1; [[ $rolling_only == 1 && ${2:-} == oldest-first ]] && oldest_last=0
restart_only=0; [[ ${1:-} == --restart ]] && { restart_only=1; quick=1; }
restart_backends=2; [[ $restart_only == 1 && ${2:-} =~ ^[0-9]+$ ]] && restart_backends=$2
restart_fault=graceful; [[ $restart_only == 1 && ${3:-} == kill ]] && restart_fault=kill
steady_only=0; [[ ${1:-} == --steady ]] && { steady_only=1; quick=1; }
steady_runs=3; [[ $steady_only == 1 && ${2:-} =~ ^[0-9]+$ ]] && steady_runs=$2
steady_load="200 5"; [[ $steady_only == 1 && ${3:-} =~ ^[0-9]+$ && ${4:-} =~ ^[0-9]+$ ]] && steady_load="$3 $4"
steady_backends=1; [[ $steady_only == 1 ]] && steady_backends=${STEADY_BACKENDS:-1}
churn_only=0; [[ ${1:-} == --churn ]] && { churn_only=1; quick=1; }
churn_clients=1000; [[ $churn_only == 1 && ${2:-} =~ ^[0-9]+$ ]] && churn_clients=$2
churn_args=(); [[ $churn_only == 1 && ${3:-} == expire ]] && churn_args=(--churn-expire)
cold_only=0; [[ ${1:-} == --cold ]] && { cold_only=1; quick=1; }
cold_runs=3; [[ $cold_only == 1 && ${2:-} =~ ^[0-9]+$ ]] && cold_runs=$2
postgres=0; [[ ${*: -1} == --postgres ]] && postgres=1

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
dotnet build SocketStarter.sln -c Release --nologo -v quiet
for project in RawChat SignalRChat LoadGen; do dotnet build "bench/$project" -c Release --nologo -v quiet; done

work=$(mktemp -d "${TMPDIR:-/tmp}/socketstarter-bench.XXXX")
results=$work/results.jsonl
pids=()
cleanup() { for pid in "${pids[@]}" $(cat "$work"/*.pid 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done; }
stop_postgres() { [[ $postgres == 0 ]] || hosts/postgres.sh stop "$work/postgres" >/dev/null 2>&1 || true; }
trap 'cleanup; stop_postgres' EXIT
# A free port below the ephemeral range: one from that range (bind to port 0) can be taken by one of the load
# generator's 10,000 client sockets before the node binds it (a backend failed to start so, "Address already in use").
# Only the bind is retried: a print to a pipe already closed (the run stopped) once looped here for good on a core.
free_port() {
  python3 -c 'import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    s = socket.socket(); port = random.randrange(10000, low)
    try: s.bind(("127.0.0.1", port))
    except OSError: continue
    finally: s.close()
    print(port); break'
}
if [[ $postgres == 1 ]]; then
  chmod o+x "$work"
  postgres_port=$(free_port)
  hosts/postgres.sh start "$work/postgres" "$postgres_port" >/dev/null
  export JOURNAL_PROVIDER=PostgreSQL15
fi

loadgen() { dotnet bench/LoadGen/bin/Release/net10.0/LoadGen.dll "$@"; }
# wait_http URL [curl flags]: until the server answers (with -f: answers 2xx)
wait_http() { for _ in $(seq 1 120); do curl -s ${2:-} -o /dev/null "$1" && return 0; sleep 0.5; done; echo "not ready: $1" >&2; return 1; }

# --- systems under test; each sets $url and $server_pids
start_raw() {
  local port; port=$(free_port)
  dotnet bench/RawChat/bin/Release/net10.0/RawChat.dll --urls "http://127.0.0.1:$port" > "$work/raw.log" 2>&1 &
  pids+=($!); server_pids=$!; url="ws://127.0.0.1:$port/ws"; wait_http "http://127.0.0.1:$port/ws"
}
start_signalr() {
  local port; port=$(free_port)
  dotnet bench/SignalRChat/bin/Release/net10.0/SignalRChat.dll --urls "http://127.0.0.1:$port" > "$work/signalr.log" 2>&1 &
  pids+=($!); server_pids=$!; url="ws://127.0.0.1:$port/chat"; wait_http "http://127.0.0.1:$port/chat"
}
# start_backend <name> [akka port]: a backend of the current SocketStarter cluster; its pid goes to $work/<name>.pid,
# its metrics address to $work/<name>.metrics
start_backend() {
  local management; management=$(free_port)
  echo "http://127.0.0.1:$management/metrics" > "$work/$1.metrics"
  ( export AKKA_PORT=${2:-$(free_port)} MANAGEMENT_PORT=$management JOURNAL_CONNECTION_STRING="$journal" AKKA_SEEDS="127.0.0.1:$seed"
    mkdir -p "$work/$1" && cd "$work/$1" && exec setsid dotnet "$root/Backend.Node/bin/Release/net10.0/publish/SocketStarter.Backend.dll" ) > "$work/$1.log" 2>&1 &
  echo $! > "$work/$1.pid"
}
# start_socketstarter <backends> [cold]: with "cold", nothing at all is sent before the caller's first scenario
start_socketstarter() {
  local backends=$1 http; http=$(free_port); seed=$(free_port); journal="Data Source=$work/journal-$RANDOM.db"
  if [[ $postgres == 1 ]]; then # a fresh database per cluster
    local database="bench$RANDOM"
    psql -h 127.0.0.1 -p "$postgres_port" -U postgres -qc "create database $database"
    journal="Host=127.0.0.1;Port=$postgres_port;Username=postgres;Database=$database"
  fi
  # Every load generator client comes from 127.0.0.1: the per-address connection limit would refuse the 201st.
  AKKA_PORT=$seed AKKA_SEEDS="127.0.0.1:$seed" ASPNETCORE_URLS="http://127.0.0.1:$http" MQTT_PORT=0 MANAGEMENT_PORT=0 \
    MAX_CONNECTIONS_PER_ADDRESS=1000000 dotnet Frontend.Node/bin/Release/net10.0/publish/SocketStarter.Frontend.dll > "$work/frontend.log" 2>&1 &
  pids+=($!); frontend_pid=$!
  for ((b = 1; b <= backends; b++)); do start_backend "backend$b"; done
  wait_http "http://127.0.0.1:$http/healthz/ready" -f
  # Every backend an Up member (each warms its journal before it joins), so that no scenario measures the first
  # rebalance of shards onto a late backend.
  for ((b = 1; b <= backends; b++)); do wait_http "$(sed 's|/metrics$|/healthz/ready|' "$work/backend$b.metrics")" -f; done
  url="ws://127.0.0.1:$http/ws"
  server_pids="$frontend_pid,$(cat "$work/backend1.pid")"
  metrics_args=(--backend-metrics "$(cat "$work/backend1.metrics")")
  [[ ${2:-} == cold ]] && return
  loadgen chat --system socketstarter --url "$url" --clients 2 --rooms 1 --rate 1 --seconds 2 > /dev/null # shards allocated
}
stop_all() { cleanup; pids=(); rm -f "$work"/*.pid; sleep 1; }

record() { tee -a "$results"; }

# Cold start: the first 20 s after the cluster is ready, nothing sent before.
measure_cold_start() {
  start_socketstarter 1 cold
  loadgen chat --system socketstarter --scenario cold --url "$url" --clients 200 --rooms 10 --rate 5 --seconds 20 --pids "$server_pids" "${metrics_args[@]}" | record
  stop_all
}

idle_clients=10000; seconds=10; loads=("200 5" "1000 1" "1000 2" "1000 4" "1000 6" "1000 8"); systems=(raw signalr socketstarter)
# With the load generator warmed (--warmup), SocketStarter kept up with 1000 x 4 (2026-12-06): twice that is the overload.
[[ $quick == 1 ]] && { loads=("200 5" "1000 8"); systems=(raw socketstarter); }
[[ $steady_only == 1 ]] && { loads=(); for ((i = 0; i < steady_runs; i++)); do loads+=("$steady_load"); done; systems=(socketstarter); }
[[ $churn_only == 1 ]] && loads=()

[[ $rolling_only == 1 || $restart_only == 1 || $cold_only == 1 ]] && systems=()
for system in "${systems[@]}"; do
  echo "== $system"
  metrics_args=()
  start() { if [[ $system == socketstarter ]]; then start_socketstarter "$steady_backends" "$@"; idle_pids=$frontend_pid; else "start_$system"; idle_pids=$server_pids; fi; }
  if [[ $system == socketstarter && $quick == 0 ]]; then
    measure_cold_start
  fi
  start
  [[ $steady_only == 1 || $churn_only == 1 ]] || loadgen idle --system "$system" --url "$url" --clients "$idle_clients" --pids "$idle_pids" | record
  # A fresh system for the chat scenarios: SocketStarter would otherwise still be ending the 10k idle sessions.
  # A 10 s unrecorded load first, so that no measured scenario pays for the servers' JIT compilation and first
  # allocations; each measured run warms the load generator's own process too (--warmup: its JIT, not the servers').
  warm_up() { loadgen chat --system "$system" --url "$url" --clients 200 --rooms 10 --rate 5 --seconds 10 --pids "$server_pids" > /dev/null; }
  stop_all; start; warm_up
  for load in "${loads[@]}"; do
    set -- $load
    loadgen chat --system "$system" --url "$url" --clients "$1" --rooms 10 --rate "$2" --seconds "$seconds" --warmup 5 --pids "$server_pids" "${metrics_args[@]}" | record
  done
  # Membership storms (SignalR's hub has no leave). In the full run on a fresh system: the sessions of the loads
  # above would end during it (60 s resume window).
  if [[ $churn_only == 1 || ( $quick == 0 && $system != signalr ) ]]; then
    [[ $churn_only == 1 ]] || { stop_all; start; warm_up; }
    loadgen chat --system "$system" --scenario churn --url "$url" --clients 200 --rooms 10 --rate 5 --seconds 20 --warmup 5 \
      --churn "$churn_clients" "${churn_args[@]}" --pids "$server_pids" "${metrics_args[@]}" | record
  fi
  stop_all
done

# --- restart stall: 200 clients x 2 msg/s; a graceful restart and a SIGKILL plus restart (on the same port, as a
# supervisor with a fixed port does), with 1 and 2 backends
stall_backends=(1 2); faults=(graceful kill)
[[ $quick == 1 ]] && { stall_backends=($restart_backends); faults=($restart_fault); }
[[ $rolling_only == 1 || $steady_only == 1 || $cold_only == 1 || $churn_only == 1 ]] && stall_backends=()
for backends in "${stall_backends[@]}"; do
  for fault in "${faults[@]}"; do
    echo "== stall: $fault, $backends backend(s)"
    start_socketstarter "$backends"
    victim=$(cat "$work/backend1.pid")
    victim_port=$(tr '\0' '\n' < "/proc/$victim/environ" | sed -n 's/^AKKA_PORT=//p')
    if [[ $fault == graceful ]]; then stop="kill -TERM $victim; while kill -0 $victim 2>/dev/null; do sleep 0.05; done"
    else stop="kill -KILL $victim"; fi
    export work journal seed
    loadgen chat --system socketstarter --url "$url" --clients 200 --rooms 10 --rate 2 --seconds $((quick == 1 && restart_only == 0 ? 15 : 30)) \
      --fault-at 5 --fault-cmd "$stop; $(declare -f free_port start_backend); start_backend restarted $victim_port" \
      | sed "s/\"scenario\":\"chat\"/\"scenario\":\"stall\",\"fault\":\"$fault\",\"backends\":$backends/" | record
    stop_all
  done
done

# --- rolling deploy: 3 backends restarted gracefully one after another, as a deploy does, under 200 clients x 2
# msg/s; one measured run per restart, the cluster kept between them
if [[ $quick == 0 ]]; then
  echo "== rolling deploy: 3 backends"
  start_socketstarter 3
  export work journal seed
  # The oldest backend holds the shard coordinators (singletons): restarted last (docs/deploy.md), they move once,
  # not at every step.
  oldest=$(grep -l "sessionCoordinator\] Singleton manager started singleton actor" "$work"/backend[123].log | head -1 | sed 's/.*backend\([123]\)\.log/\1/')
  order=(1 2 3)
  [[ $oldest_last == 1 ]] && order=($(printf '%s\n' 1 2 3 | grep -v "^$oldest$") "$oldest")
  echo "restart order: ${order[*]} (backend$oldest holds the coordinators)"
  for step in 1 2 3; do
    victim=$(cat "$work/backend${order[step-1]}.pid")
    victim_port=$(tr '\0' '\n' < "/proc/$victim/environ" | sed -n 's/^AKKA_PORT=//p')
    stop="kill -TERM $victim; while kill -0 $victim 2>/dev/null; do sleep 0.05; done"
    loadgen chat --system socketstarter --url "$url" --clients 200 --rooms 10 --rate 2 --seconds 20 \
      --fault-at 5 --fault-cmd "$stop; $(declare -f free_port start_backend); start_backend backend${order[step-1]} $victim_port" \
      | sed "s/\"scenario\":\"chat\"/\"scenario\":\"stall\",\"fault\":\"rolling\",\"step\":$step,\"coordinators\":$([[ ${order[step-1]} == "$oldest" ]] && echo true || echo false),\"backends\":3/" | record
    # The restarted backend ready (and its shards back) before the next one goes.
    sleep 5
  done
  stop_all
fi
for ((i = 0; cold_only == 1 && i < cold_runs; i++)); do
  echo "== cold start $((i + 1)) of $cold_runs"
  measure_cold_start
done
if [[ $rolling_only == 1 || $restart_only == 1 || $steady_only == 1 || $cold_only == 1 || $churn_only == 1 ]]; then cat "$results"; exit 0; fi

echo "== targets"
loadgen targets "$results"
if [[ $quick == 1 ]]; then echo "Figures: $results"; exit 0; fi
mkdir -p bench/results docs
out="bench/results/$(date -u +%Y-%m-%d).json"
loadgen report "$results" "$out" docs/benchmarks.md
echo "Results: $out and docs/benchmarks.md"
