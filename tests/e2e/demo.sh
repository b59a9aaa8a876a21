#!/bin/bash
# make demo: tessd cross-connects two taps between two network namespaces,
# a ping crosses it, tessctl shows ports and counters, then a clean stop.
set -euo pipefail

BUILD=${1:-build}
TESSD=$BUILD/dataplane/tessd
TESSCTL=$BUILD/mgmt/tessctl
DIR=$(mktemp -d /tmp/tess-demo.XXXXXX)
SOCK=$DIR/tessd.sock
NS_A=tess-demo-a-$$
NS_B=tess-demo-b-$$
TESSD_PID=

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { echo "\$ tessctl $*"; "$TESSCTL" -s "$SOCK" "$@"; }

cleanup() {
	[ -n "$TESSD_PID" ] && kill "$TESSD_PID" 2>/dev/null && wait "$TESSD_PID" 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	rm -rf "$DIR" "/var/run/dpdk/tess_demo_$$"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, taps, hugepages)" >&2; exit 1; }
[ -x "$TESSD" ] || { echo "demo: $TESSD is not built; run make build" >&2; exit 1; }

step "tessd config: two tap ports, cross-connected"
cat >"$DIR/tessd.json" <<JSON
{
  "eal": { "main_cpu": 0, "workers": [1], "memory_mb": 256, "file_prefix": "tess_demo_$$", "in_memory": true },
  "control": { "socket": "$SOCK" },
  "ports": [
    { "name": "left",  "devargs": "net_tap0,iface=demo-left" },
    { "name": "right", "devargs": "net_tap1,iface=demo-right" }
  ],
  "xconnects": [ { "a": "left", "b": "right" } ]
}
JSON
cat "$DIR/tessd.json"

step "start tessd (log: $DIR/tessd.log)"
"$TESSD" -c "$DIR/tessd.json" >"$DIR/tessd.log" 2>&1 &
TESSD_PID=$!
for _ in $(seq 100); do
	"$TESSCTL" -s "$SOCK" status >/dev/null 2>&1 && break
	kill -0 "$TESSD_PID" 2>/dev/null || { cat "$DIR/tessd.log"; echo "demo: tessd failed" >&2; exit 1; }
	sleep 0.1
done
ctl status

step "move each tap into its own namespace: $NS_A 10.99.0.1, $NS_B 10.99.0.2"
for side in a b; do
	ns=$NS_A iface=demo-left addr=10.99.0.1/24
	[ $side = b ] && ns=$NS_B iface=demo-right addr=10.99.0.2/24
	ip netns add "$ns"
	ip link set "$iface" netns "$ns"
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=1"
	ip -n "$ns" addr add "$addr" dev "$iface"
	ip -n "$ns" link set "$iface" up
done
ctl port list
ctl stats --reset

step "ping across tessd"
ip netns exec "$NS_A" ping -c 5 -i 0.2 10.99.0.2

step "counters: both ports, and the worker's cycles per packet"
ctl stats
ctl xconnect list

step "remove the cross-connect at runtime: the ping stops, drops are counted"
ctl xconnect del left
ip netns exec "$NS_A" ping -c 2 -i 0.2 -W 1 10.99.0.2 || true
ctl stats
ctl xconnect add left right

step "stop tessd with SIGTERM"
kill -TERM "$TESSD_PID"
wait "$TESSD_PID" && rc=0 || rc=$?
TESSD_PID=
tail -3 "$DIR/tessd.log"
echo "tessd exited with $rc; socket removed: $([ -e "$SOCK" ] && echo no || echo yes)"
[ "$rc" = 0 ]
step "demo done"
