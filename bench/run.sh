#!/usr/bin/env bash
# Measures SocketStarter beside a raw single-process WebSocket chat and an ASP.NET Core SignalR hub, on this
# machine, in one run: idle connections, chat throughput and latency, and the stall of backend restarts.
# Writes bench/results/<date>.json and docs/benchmarks.md (with SVG charts). Every scenario stops by itself.
#   bench/run.sh            the full run (about 12 minutes)
#   bench/run.sh --quick    fewer, shorter scenarios, to try the harness
set -euo pipefail
cd "$(dirname "$0")/.."
export root=$PWD
quick=0; [[ ${1:-} == --quick ]] && quick=1

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
dotnet build SocketStarter.sln -c Release --nologo -v quiet
for project in RawChat SignalRChat LoadGen; do dotnet build "bench/$project" -c Release --nologo -v quiet; done

work=$(mktemp -d "${TMPDIR:-/tmp}/socketstarter-bench.XXXX")
results=$work/results.jsonl
pids=()
cleanup() { for pid in "${pids[@]}" $(cat "$work"/*.pid 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
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
# start_backend <name> [akka port]: a backend of the current SocketStarter cluster; its pid goes to $work/<name>.pid
start_backend() {
  ( export AKKA_PORT=${2:-$(free_port)} MANAGEMENT_PORT=0 JOURNAL_CONNECTION_STRING="Data Source=$db" AKKA_SEEDS="127.0.0.1:$seed"
    cd "$work" && exec setsid dotnet "$root/Backend.Node/bin/Release/net10.0/SocketStarter.Backend.dll" ) > "$work/$1.log" 2>&1 &
  echo $! > "$work/$1.pid"
}
start_socketstarter() {
  local backends=$1 http; http=$(free_port); seed=$(free_port); db="$work/journal-$RANDOM.db"
  AKKA_PORT=$seed AKKA_SEEDS="127.0.0.1:$seed" ASPNETCORE_URLS="http://127.0.0.1:$http" MQTT_PORT=0 MANAGEMENT_PORT=0 \
    dotnet Frontend.Node/bin/Release/net10.0/SocketStarter.Frontend.dll > "$work/frontend.log" 2>&1 &
  pids+=($!); frontend_pid=$!
  for ((b = 1; b <= backends; b++)); do start_backend "backend$b"; done
  wait_http "http://127.0.0.1:$http/healthz/ready" -f
  url="ws://127.0.0.1:$http/ws"
  loadgen chat --system socketstarter --url "$url" --clients 2 --rooms 1 --rate 1 --seconds 2 > /dev/null # warm: shards allocated
  server_pids="$frontend_pid,$(cat "$work/backend1.pid")"
}
stop_all() { cleanup; pids=(); rm -f "$work"/*.pid; sleep 1; }

record() { tee -a "$results"; }

idle_clients=10000; seconds=10; loads=("200 5" "1000 1" "1000 2" "1000 4")
[[ $quick == 1 ]] && { idle_clients=1000; seconds=5; loads=("200 5" "1000 1"); }

for system in raw signalr socketstarter; do
  echo "== $system"
  start() { if [[ $system == socketstarter ]]; then start_socketstarter 1; idle_pids=$frontend_pid; else "start_$system"; idle_pids=$server_pids; fi; }
  start
  loadgen idle --system "$system" --url "$url" --clients "$idle_clients" --pids "$idle_pids" | record
  # A fresh system for the chat scenarios: SocketStarter would otherwise still be ending the 10k idle sessions.
  # A short unrecorded load first, so that no measured scenario pays for JIT compilation and first allocations.
  stop_all; start
  loadgen chat --system "$system" --url "$url" --clients 200 --rooms 10 --rate 2 --seconds 5 --pids "$server_pids" > /dev/null
  for load in "${loads[@]}"; do
    set -- $load
    loadgen chat --system "$system" --url "$url" --clients "$1" --rooms 10 --rate "$2" --seconds "$seconds" --pids "$server_pids" | record
  done
  stop_all
done

# --- restart stall: 200 clients x 2 msg/s; a graceful restart and a SIGKILL plus restart (on the same port, as a
# supervisor with a fixed port does), with 1 and 2 backends
for backends in 1 2; do
  for fault in graceful kill; do
    echo "== stall: $fault, $backends backend(s)"
    start_socketstarter "$backends"
    victim=$(cat "$work/backend1.pid")
    victim_port=$(tr '\0' '\n' < "/proc/$victim/environ" | sed -n 's/^AKKA_PORT=//p')
    if [[ $fault == graceful ]]; then stop="kill -TERM $victim; while kill -0 $victim 2>/dev/null; do sleep 0.05; done"
    else stop="kill -KILL $victim"; fi
    export work db seed
    loadgen chat --system socketstarter --url "$url" --clients 200 --rooms 10 --rate 2 --seconds $((quick == 1 ? 15 : 30)) \
      --fault-at 5 --fault-cmd "$stop; $(declare -f free_port start_backend); start_backend restarted $victim_port" \
      | sed "s/\"scenario\":\"chat\"/\"scenario\":\"stall\",\"fault\":\"$fault\",\"backends\":$backends/" | record
    stop_all
  done
done

mkdir -p bench/results docs
out="bench/results/$(date -u +%Y-%m-%d).json"
loadgen report "$results" "$out" docs/benchmarks.md
echo "Results: $out and docs/benchmarks.md"
