#!/usr/bin/env bash
# Builds what is needed and starts a local SocketStarter cluster: frontends (browser chat and /ws on
# http://127.0.0.1:8080, 8081, ...; MQTT on 1883, 1884, ...; Akka on 127.0.0.1:4053, 4054, ..., which are the
# seeds) and backends.
# Ctrl-C stops all of it.
#   ./run.sh                              one frontend + one backend
#   ./run.sh --frontends 2 --backends 3   a bigger local cluster; `./ssctl cluster show` lists it
#   ./run.sh --watch                      the backend runs under `dotnet watch`: a code change restarts it while
#                                         the frontend and every browser stay connected
#   ./run.sh --postgres                   the journal on a private PostgreSQL server (data/postgres, port 55432),
#                                         started and stopped with the cluster (needs Debian's postgresql)
set -euo pipefail
cd "$(dirname "$0")"

watch=0
postgres=0
frontends=1
backends=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --watch) watch=1 ;;
    --postgres) postgres=1 ;;
    --frontends) frontends=${2:?--frontends needs a number}; shift ;;
    --backends) backends=${2:?--backends needs a number}; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $frontends =~ ^[1-9][0-9]*$ && $backends =~ ^[0-9]+$ ]] || { echo "--frontends must be 1 or more, --backends 0 or more" >&2; exit 2; }
[[ $watch == 0 || $backends == 1 ]] || { echo "--watch runs exactly one backend" >&2; exit 2; }

dotnet build SocketStarter.sln -c Release --nologo -v quiet

# The browser client, when it was never built or its sources changed since.
if [[ ! -f client/dist/index.html ]] || [[ -n $(find client/src client/index.html client/package-lock.json -newer client/dist/index.html 2>/dev/null | head -1) ]]; then
  (cd client && { [[ -d node_modules ]] || npm ci --no-audit --no-fund; } && npm run build)
fi
mkdir -p data

pids=()
# A started command and every process below it (dotnet watch runs dotnet run, which runs the node).
tree() { local pid; for pid in "$@"; do echo "$pid"; tree $(pgrep -P "$pid"); done; }
stop() {
  trap - INT TERM EXIT
  # SIGTERM to every process of every node, the node itself included, not only to what we started: dotnet watch
  # does not pass it on. Each node shuts down gracefully (a backend hands its shards off and leaves the cluster);
  # whatever still runs after 20 s is killed.
  local all; all=$(tree "${pids[@]}")
  kill -TERM $all 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 $all 2>/dev/null || break; sleep 0.5; done
  kill -KILL $all 2>/dev/null || true
  wait 2>/dev/null || true
  # The journal last, once no backend writes to it.
  [[ $postgres == 0 ]] || hosts/postgres.sh stop "$PWD/data/postgres" || true
}
trap stop INT TERM EXIT

# Prefix every line with the node's name so the logs stay readable side by side.
start() {
  local name=$1; shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}

if [[ $postgres == 1 ]]; then
  postgres_port=55432
  hosts/postgres.sh start "$PWD/data/postgres" $postgres_port >/dev/null
  echo "PostgreSQL journal: Host=127.0.0.1;Port=$postgres_port;Username=postgres;Database=postgres (data/postgres)"
  export JOURNAL_PROVIDER=PostgreSQL15
  export JOURNAL_CONNECTION_STRING="Host=127.0.0.1;Port=$postgres_port;Username=postgres;Database=postgres"
fi

seeds=$(for ((i = 0; i < frontends; i++)); do printf '127.0.0.1:%d,' $((4053 + i)); done)
export AKKA_SEEDS=${AKKA_SEEDS:-${seeds%,}}

for ((i = 0; i < frontends; i++)); do
  # The first frontend's management endpoint is on the default 9110; the others on any free port (printed).
  AKKA_PORT=$((4053 + i)) ASPNETCORE_URLS=http://127.0.0.1:$((8080 + i)) MQTT_PORT=$((1883 + i)) \
    MANAGEMENT_PORT=$([[ $i == 0 ]] && echo 9110 || echo 0) \
    start "frontend-$((i + 1))" dotnet Frontend.Node/bin/Release/net10.0/publish/SocketStarter.Frontend.dll
done
for ((i = 0; i < backends; i++)); do
  if [[ $watch == 1 ]]; then
    start backend dotnet watch --non-interactive run --project Backend.Node -c Release
  else
    start "backend-$((i + 1))" dotnet Backend.Node/bin/Release/net10.0/publish/SocketStarter.Backend.dll
  fi
done
echo "SocketStarter: open http://127.0.0.1:8080 (WebSocket at ws://127.0.0.1:8080/ws); ./ssctl cluster show; Ctrl-C stops the cluster."
wait
