#!/usr/bin/env bash
# Installs what the tests need (NuGet and npm packages; Debian's chromium, mosquitto-clients, postgresql, iptables,
# haproxy and libnetfilter-queue-dev), builds everything, runs every
# test suite (.NET unit and end-to-end, Vitest, browser end-to-end), and ends with one line: "N passed, N failed".
#   ./test.sh          everything
#   ./test.sh --fast   the unit specs and Vitest only: no cluster is started, no Debian package is needed
# CHROMIUM_PATH: the browser the browser tests drive (default /usr/bin/chromium, installed when missing).
set -uo pipefail
cd "$(dirname "$0")"
fast=0
case "${1:-}" in
  --fast) fast=1 ;;
  "") ;;
  *) echo "unknown option: $1 (./test.sh or ./test.sh --fast)" >&2; exit 2 ;;
esac

mkdir -p .tmp
results=$(cd "$(mktemp -d .tmp/test-results.XXXX)" && pwd)
passed=0
failed=0

count() { passed=$((passed + $1)); failed=$((failed + $2)); }
finish() {
  # The failed .NET tests again, with their message (an assertion's expected and actual values) and the test's own
  # line that failed: the end of a long log is what gets read, and often all there is of a CI run.
  [[ $failed == 0 ]] || node -e '
    const fs = require("fs");
    const text = s => s.replace(/&quot;/g, "\"").replace(/&apos;/g, "'"'"'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    for (const trx of process.argv.slice(1)) {
      const xml = fs.readFileSync(trx, "utf8");
      for (const m of xml.matchAll(/<UnitTestResult [^>]*testName="([^"]*)"[^>]*outcome="Failed"[^>]*>[\s\S]*?<Message>([^<]*)<\/Message>(?:\s*<StackTrace>([^<]*))?/g)) {
        const message = text(m[2]).split("\n").map(l => l.trim()).filter(l => l).slice(0, 8).join(" | ").slice(0, 600);
        const at = text(m[3] ?? "").split("\n").find(l => /SocketStarter\..*:line \d+/.test(l) && !/TestCluster|ChatLoad|ChatClient/.test(l));
        console.log(`FAILED ${m[1]}: ${message}${at ? ` (${at.trim()})` : ""}`);
      }
    }' $(compgen -G "$results/*.trx") 2>/dev/null
  echo "$passed passed, $failed failed"
  [[ $failed == 0 ]]
  exit
}

# --- install and build
# Debian packages the tests drive: chromium (browser tests), mosquitto's clients (MQTT tests), PostgreSQL's server
# (the journal tests start private servers: hosts/postgres.sh), iptables and HAProxy (the network partition tests run
# nodes on hosts made of network namespaces behind a load balancer: hosts/netns.sh, hosts/haproxy.cfg).
missing=()
if [[ $fast == 0 ]]; then
  [[ -n ${CHROMIUM_PATH:-} ]] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  # The delayer of the delay-and-loss test is built from hosts/delay.c.
  command -v cc >/dev/null 2>&1 || missing+=(gcc)
  [[ -f /usr/include/libnetfilter_queue/libnetfilter_queue.h ]] || missing+=(libnetfilter-queue-dev)
fi
if ((${#missing[@]})); then
  echo "Installing ${missing[*]}"
  sudo=""; [[ $(id -u) != 0 ]] && sudo="sudo"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    echo "Could not install the Debian package(s) ${missing[*]}: install them, then run ./test.sh again."
    count 0 1; finish
  fi
fi
if ! dotnet build SocketStarter.sln -c Release --nologo -v quiet; then
  count 0 1; finish
fi
if ! (cd client && npm ci --no-audit --no-fund && { [[ $fast == 1 ]] || npm run build; }); then
  count 0 1; finish
fi

# --- .NET: TestKit specs and serializer round trips, then real processes over real sockets
projects=(tests/SocketStarter.Tests)
[[ $fast == 1 ]] || projects+=(tests/SocketStarter.EndToEnd)
for project in "${projects[@]}"; do
  name=$(basename "$project")
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$results/$name.trx" --logger "console;verbosity=normal"
  counters=$(grep -o '<Counters [^>]*>' "$results/$name.trx" 2>/dev/null || true)
  if [[ -z $counters ]]; then
    echo "$name: no results (the test run crashed)"
    count 0 1
    continue
  fi
  count "$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")" "$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")"
done

# --- the gateway as packages: each one packs (the samples reference the projects)
pack_gateway() {
  local project
  for project in Messages Shared.Hosting Gateway.Backend Gateway.Frontend; do
    dotnet pack "$project" -c Release --no-build --nologo -v quiet -o "$results/packages" || return 1
    compgen -G "$results/packages/SocketStarter.$project.*.nupkg" >/dev/null || { echo "dotnet pack made no SocketStarter.$project package"; return 1; }
  done
}
if pack_gateway; then count 1 0; else count 0 1; fi

# --- the browser client: protocol client against a fake socket, then two real browsers against a real cluster
(cd client && npx vitest run --reporter=default --reporter=json --outputFile="$results/vitest.json")
if [[ -f $results/vitest.json ]]; then
  count "$(node -p "require('$results/vitest.json').numPassedTests")" "$(node -p "require('$results/vitest.json').numFailedTests")"
else
  echo "vitest: no results"; count 0 1
fi

[[ $fast == 1 ]] && finish
(cd client && TMPDIR="$(cd .. && pwd)/.tmp" node --test --test-reporter=tap e2e/) | tee "$results/browser.tap"
p=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$results/browser.tap")
f=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$results/browser.tap")
if [[ -n $p && -n $f ]]; then count "$p" "$f"; else echo "browser tests: no results"; count 0 1; fi

finish
