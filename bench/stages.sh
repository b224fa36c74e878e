#!/usr/bin/env bash
# Where a post's latency goes, stage by stage (docs/profile.md, "A post's latency, stage by stage"). Applies
# bench/stages/probes.patch (probes that read the send time the load generator puts in each post's id) to a copy of
# HEAD in a temporary git worktree, runs that copy's bench/run.sh, and prints the percentiles of each stage per
# interval from the nodes' logs. The probes never enter the product's code.
#   bench/stages.sh [N [clients rate]]  N --steady runs (default 1) at clients x rate (default 200 x 5), 5 s intervals
#                                       (STAGE_PROBE_SECONDS=n: n s)
#   bench/stages.sh --cold              one --cold run (the first 20 s after the cluster is ready), 1 s intervals
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d /tmp/socketstarter-stages.XXXX)
cleanup() { git -C "$root" worktree remove --force "$tree" > /dev/null 2>&1 || rm -rf "$tree"; }
trap cleanup EXIT
git -C "$root" worktree add --detach -q "$tree" HEAD
git -C "$tree" apply "$root/bench/stages/probes.patch" \
  || { echo "bench/stages/probes.patch no longer applies to HEAD: move its probes to where the stages are now" >&2; exit 1; }
if [[ ${1:-} == --cold ]]; then
  export STAGE_PROBE_SECONDS=1; args=(--cold 1)
else
  export STAGE_PROBE_SECONDS=${STAGE_PROBE_SECONDS:-5}; args=(--steady "${1:-1}" "${2:-200}" "${3:-5}")
fi
before=$(ls -d /tmp/socketstarter-bench.* 2> /dev/null | sort || true)
(cd "$tree" && bench/run.sh "${args[@]}") 2> /dev/null | grep '^{' || true
work=$(comm -13 <(echo "$before") <(ls -d /tmp/socketstarter-bench.* | sort) | tail -1)
echo "Stages (age of each post when it got there, ms): 1 fe.read, 2 fe.send (the envelope leaves the connection actor),"
echo "3 be.session, 4 be.topic, 5 be.write (PersistAllAsync), 6 be.persisted, 7 fe.fanout; j.wait: a write's wait in the"
echo "group-commit window, j.tx: a transaction, j.groupsize: its writes. Nodes' logs: $work"
grep -h '^PROBE' "$work"/*.log | sort -k2,2 -k3,3
