#!/usr/bin/env bash
# Installs what the tests need, runs every test suite, and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

results=$(mkdir -p .tmp && mktemp -d .tmp/test-results.XXXX)
results=$(cd "$results" && pwd)

if ! dotnet build SocketStarter.sln -c Release --nologo -v quiet; then
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
for project in tests/SocketStarter.Tests tests/SocketStarter.EndToEnd; do
  name=$(basename "$project")
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$results/$name.trx" --logger "console;verbosity=normal"
  trx="$results/$name.trx"
  counters=$(grep -o '<Counters [^>]*>' "$trx" 2>/dev/null || true)
  if [[ -z $counters ]]; then
    echo "$name: no results (the test run crashed)"
    failed=$((failed + 1))
    continue
  fi
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  passed=$((passed + p))
  failed=$((failed + f))
done

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
