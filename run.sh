#!/usr/bin/env bash
# Builds what is needed and starts a local SocketStarter cluster: one frontend (browser chat and /ws on
# http://127.0.0.1:8080, Akka seed on 127.0.0.1:4053) and one backend. Ctrl-C stops both.
#   ./run.sh            frontend + backend
#   ./run.sh --watch    the backend runs under `dotnet watch`: a code change restarts it while clients stay connected
set -euo pipefail
cd "$(dirname "$0")"

watch=0
for arg in "$@"; do
  case "$arg" in
    --watch) watch=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

dotnet build SocketStarter.sln -c Release --nologo -v quiet

# The browser client, when it was never built or its sources changed since.
if [[ ! -f client/dist/index.html ]] || [[ -n $(find client/src client/index.html client/package-lock.json -newer client/dist/index.html 2>/dev/null | head -1) ]]; then
  (cd client && { [[ -d node_modules ]] || npm ci --no-audit --no-fund; } && npm run build)
fi
mkdir -p data

pids=()
stop() {
  trap - INT TERM EXIT
  # SIGTERM: each node shuts down gracefully (a backend hands its shards off and leaves the cluster).
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# Prefix every line with the node's name so the logs stay readable side by side.
start() {
  local name=$1; shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}

start frontend dotnet Frontend.Node/bin/Release/net10.0/SocketStarter.Frontend.dll
if [[ $watch == 1 ]]; then
  start backend dotnet watch run --project Backend.Node -c Release --non-interactive
else
  start backend dotnet Backend.Node/bin/Release/net10.0/SocketStarter.Backend.dll
fi
echo "SocketStarter: open http://127.0.0.1:8080 (WebSocket at ws://127.0.0.1:8080/ws); Ctrl-C stops the cluster."
wait
