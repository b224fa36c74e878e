#!/usr/bin/env bash
# A private PostgreSQL server for tests and local clusters: its own data folder, address and port, never the
# system's server. As root it runs as the `postgres` user (PostgreSQL refuses to run as root).
#   postgres.sh start DIR PORT [ADDRESS [NAMESPACE]]   creates DIR on first use, starts the server on ADDRESS:PORT
#                                                      (default 127.0.0.1; inside network namespace NAMESPACE when
#                                                      given) and prints its PID once it accepts connections
#   postgres.sh stop DIR                               fast shutdown of the server of DIR
# Clients connect with: Host=ADDRESS;Port=PORT;Username=postgres;Database=postgres (no password: trust, a private server).
set -euo pipefail
action=${1:?usage: postgres.sh start DIR PORT [ADDRESS [NAMESPACE]] | stop DIR}
dir=${2:?DIR missing}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n $bin && -x $bin/initdb ]] || { echo "postgres.sh needs PostgreSQL's server (Debian package postgresql)" >&2; exit 2; }
as_owner() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $action in
  start)
    port=${3:?PORT missing}
    address=${4:-127.0.0.1}
    namespace=${5:-}
    mkdir -p "$dir"
    if [[ $(id -u) == 0 ]]; then
      chown postgres: "$dir"
      runuser -u postgres -- test -x "$dir" \
        || { echo "the postgres user cannot reach $dir: make the folders above it searchable (chmod o+x) or choose another" >&2; exit 2; }
    fi
    chmod 700 "$dir"
    if [[ ! -f $dir/PG_VERSION ]]; then
      as_owner "$bin/initdb" -D "$dir" -U postgres -A trust --no-sync >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 1; }
      # Other hosts (network namespaces) connect over TCP too.
      echo "host all all 0.0.0.0/0 trust" >> "$dir/pg_hba.conf"
    fi
    run=()
    [[ -n $namespace ]] && run+=(ip netns exec "$namespace")
    [[ $(id -u) == 0 ]] && run+=(runuser -u postgres --)
    # Lock waits over a second are logged: a stalled write is then explained by who held the lock.
    "${run[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=$address -k $dir -c log_lock_waits=on -c deadlock_timeout=1s" start >/dev/null \
      || { tail -20 "$dir/server.log" >&2; exit 1; }
    head -1 "$dir/postmaster.pid"
    ;;
  stop)
    [[ -f $dir/postmaster.pid ]] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
