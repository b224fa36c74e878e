#!/usr/bin/env bash
# Hosts on one machine: each a network namespace with its own address on one bridge, so that nodes bind and
# advertise real, distinct addresses and the links between them can be cut (iptables DROP in both namespaces).
# The root namespace keeps the bridge's address (.1): tests, load balancer and clients run there and reach every host.
#   netns.sh up NAME COUNT       hosts NAME1..NAMECOUNT at 10.NET.0.11.. (NET from NAME), prints one address per line
#   netns.sh down NAME           removes the hosts and their bridge
#   netns.sh cut NAME I J        host I and host J no longer reach each other
#   netns.sh heal NAME I J       ... they do again
#   netns.sh isolate NAME I      host I reaches no other host (the root namespace still reaches it)
#   netns.sh rejoin NAME I       undoes isolate
#   netns.sh slow NAME MS LOSS   every packet between hosts is delayed MS milliseconds and LOSS percent are dropped
#                                (a user-space delayer per host on an NFQUEUE: hosts/delay.c; this kernel has no netem)
#   netns.sh fast NAME           undoes slow
# Needs root, iproute2 and iptables (slow also a C compiler and libnetfilter-queue-dev). NAME: up to 8 letters and digits.
set -euo pipefail
command -v iptables >/dev/null || { echo "netns.sh needs iptables (Debian package iptables)" >&2; exit 2; }
action=${1:?usage: netns.sh up|down|cut|heal|isolate|rejoin NAME ...}
name=${2:?NAME missing}
[[ $name =~ ^[a-z0-9]{1,8}$ ]] || { echo "NAME must be 1-8 lower-case letters or digits" >&2; exit 2; }
# One /24 per NAME, from its checksum, so that concurrent runs with different names do not collide.
net=$(( $(printf '%s' "$name" | cksum | cut -d' ' -f1) % 200 + 20 ))
subnet="10.$net.0"
bridge="${name}br"
address() { echo "$subnet.$((10 + $1))"; }
in_host() { local host=$1; shift; ip netns exec "$name$host" "$@"; }
drop_between() { # $1: -A or -D, $2: host, $3: the peer's address
  in_host "$2" iptables "$1" INPUT -s "$3" -j DROP
  in_host "$2" iptables "$1" OUTPUT -d "$3" -j DROP
}

case $action in
  up)
    count=${3:?COUNT missing}
    ip link add "$bridge" type bridge
    ip addr add "$subnet.1/24" dev "$bridge"
    ip link set "$bridge" up
    for i in $(seq 1 "$count"); do
      ip netns add "$name$i"
      ip link add "${name}v$i" type veth peer name eth0 netns "$name$i"
      ip link set "${name}v$i" master "$bridge" up
      in_host "$i" ip addr add "$(address "$i")/24" dev eth0
      in_host "$i" ip link set eth0 up
      in_host "$i" ip link set lo up
      address "$i"
    done
    ;;
  down)
    "$0" fast "$name" 2>/dev/null || true
    # The host ends of the links first: a namespace outlives its name while a process still exits in it, and its
    # link would then stay behind ("File exists" on the next up). Deleting one end deletes the pair.
    for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^${name}v[0-9]+$" || true); do
      ip link del "$link" 2>/dev/null || true
    done
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^${name}[0-9]+$" || true); do ip netns del "$ns"; done
    ip link del "$bridge" 2>/dev/null || true
    ;;
  cut|heal)
    i=${3:?I missing}; j=${4:?J missing}
    # Inserted first in the chain: ahead of slow's queue, which would let a packet through past them.
    flag=-I; [[ $action == heal ]] && flag=-D
    drop_between "$flag" "$i" "$(address "$j")"
    drop_between "$flag" "$j" "$(address "$i")"
    ;;
  isolate|rejoin)
    i=${3:?I missing}
    flag=-I; [[ $action == rejoin ]] && flag=-D
    # Everything on the hosts' network but the root namespace (.1), which plays the clients and the operator.
    in_host "$i" iptables "$flag" INPUT -s "$subnet.0/24" -j DROP
    in_host "$i" iptables "$flag" OUTPUT -d "$subnet.0/24" -j DROP
    if [[ $flag == -I ]]; then
      in_host "$i" iptables -I INPUT -s "$subnet.1" -j ACCEPT
      in_host "$i" iptables -I OUTPUT -d "$subnet.1" -j ACCEPT
    else
      in_host "$i" iptables -D INPUT -s "$subnet.1" -j ACCEPT
      in_host "$i" iptables -D OUTPUT -d "$subnet.1" -j ACCEPT
    fi
    ;;
  slow)
    ms=${3:?MS missing}; loss=${4:?LOSS missing}
    delayer="${TMPDIR:-/tmp}/socketstarter-delay"
    source="$(dirname "$0")/delay.c"
    if [[ ! -x $delayer || $source -nt $delayer ]]; then
      cc -O2 -o "$delayer" "$source" -lnetfilter_queue \
        || { echo "netns.sh slow needs a C compiler and libnetfilter-queue-dev" >&2; exit 2; }
    fi
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^${name}[0-9]+$"); do
      ip netns exec "$ns" "$delayer" 0 "$ms" "$loss" >/dev/null 2>&1 &
      echo $! > "/run/$ns-delay.pid"
      # Not the root namespace (.1: clients, operator); --queue-bypass: packets pass if the delayer is gone.
      ip netns exec "$ns" iptables -A OUTPUT -d "$subnet.1" -j ACCEPT
      ip netns exec "$ns" iptables -A OUTPUT -d "$subnet.0/24" -j NFQUEUE --queue-num 0 --queue-bypass
    done
    ;;
  fast)
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^${name}[0-9]+$"); do
      ip netns exec "$ns" iptables -D OUTPUT -d "$subnet.0/24" -j NFQUEUE --queue-num 0 --queue-bypass 2>/dev/null || true
      ip netns exec "$ns" iptables -D OUTPUT -d "$subnet.1" -j ACCEPT 2>/dev/null || true
      [[ -f /run/$ns-delay.pid ]] && { kill "$(cat "/run/$ns-delay.pid")" 2>/dev/null || true; rm -f "/run/$ns-delay.pid"; }
    done
    ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
