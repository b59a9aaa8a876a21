#!/bin/bash
# make demo:
#  1. tessd cross-connects two taps between two namespaces: a ping crosses it,
#     tessctl shows ports and counters, then a clean stop;
#  2. tessd as the host vswitch of two tenants whose desktops use the same
#     addresses: pings inside each tenant, nothing crosses between them, each
#     tenant has its own VLAN on the trunk, per-group counters, a desktop
#     added at runtime.
set -euo pipefail

BUILD=${1:-build}
TESSD=$BUILD/dataplane/tessd
TESSCTL=$BUILD/mgmt/tessctl
DIR=$(mktemp -d /tmp/tess-demo.XXXXXX)
SOCK=$DIR/tessd.sock
NS_A=tess-demo-a-$$
NS_B=tess-demo-b-$$
TESSD_PID=
NAMESPACES="$NS_A $NS_B"

wait_ready() {
	for _ in $(seq 100); do
		"$TESSCTL" -s "$SOCK" status >/dev/null 2>&1 && return 0
		kill -0 "$TESSD_PID" 2>/dev/null || { cat "$DIR"/*.log; echo "demo: tessd failed" >&2; exit 1; }
		sleep 0.1
	done
	echo "demo: tessd not ready" >&2
	exit 1
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { echo "\$ tessctl $*"; "$TESSCTL" -s "$SOCK" "$@"; }

cleanup() {
	[ -n "$TESSD_PID" ] && kill "$TESSD_PID" 2>/dev/null && wait "$TESSD_PID" 2>/dev/null
	for ns in $NAMESPACES; do ip netns del "$ns" 2>/dev/null || true; done
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
wait_ready
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

# ---------------------------------------------------------------------------
step "part 2: tessd as the host vswitch of two tenants"
cat >"$DIR/vswitch.json" <<JSON
{
  "eal": { "main_cpu": 0, "workers": [1], "memory_mb": 256, "file_prefix": "tess_demo_$$", "in_memory": true },
  "control": { "socket": "$SOCK" },
  "switch": {
    "aging_sec": 300,
    "groups": [
      { "name": "acme",  "tenant": "Acme Corp", "vlan": 100 },
      { "name": "bravo", "tenant": "Bravo Ltd", "vlan": 200, "mac_limit": 64 }
    ]
  },
  "ports": [
    { "name": "acme-d1",  "devargs": "net_tap0,iface=acme-d1",  "mode": "access", "group": "acme" },
    { "name": "acme-d2",  "devargs": "net_tap1,iface=acme-d2",  "mode": "access", "group": "acme" },
    { "name": "bravo-d1", "devargs": "net_tap2,iface=bravo-d1", "mode": "access", "group": "bravo" },
    { "name": "bravo-d2", "devargs": "net_tap3,iface=bravo-d2", "mode": "access", "group": "bravo",
      "allowed_macs": ["02:00:00:00:00:02"], "allowed_ips": ["192.168.1.2"] },
    { "name": "uplink",   "devargs": "net_tap4,iface=uplink",   "mode": "trunk", "groups": ["acme", "bravo"] }
  ]
}
JSON
cat "$DIR/vswitch.json"
"$TESSD" -c "$DIR/vswitch.json" >"$DIR/vswitch.log" 2>&1 &
TESSD_PID=$!
wait_ready

step "desktops: the same MACs and IPs in both tenants (192.168.1.1 and .2)"
desktop() { # name mac ip
	local ns=tess-demo-$1-$$
	NAMESPACES="$NAMESPACES $ns"
	ip netns add "$ns"
	ip link set "$1" netns "$ns"
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
	ip -n "$ns" link set "$1" address "$2"
	[ -n "$3" ] && ip -n "$ns" addr add "$3/24" dev "$1"
	ip -n "$ns" link set "$1" up
	echo "  $1: namespace $ns, $2 ${3:-(no IP)}"
}
desktop acme-d1 02:00:00:00:00:01 192.168.1.1
desktop acme-d2 02:00:00:00:00:02 192.168.1.2
desktop bravo-d1 02:00:00:00:00:01 192.168.1.1
desktop bravo-d2 02:00:00:00:00:02 192.168.1.2
desktop uplink 02:00:00:00:00:fe ""
# The taps spoke (IPv6) with their first MACs before they were moved: forget those.
ctl fdb flush
ctl group list
ctl port list

step "ping inside each tenant, while bravo-d2 listens: it hears only bravo"
ip netns exec "tess-demo-bravo-d2-$$" timeout 6 tcpdump -l -ni bravo-d2 icmp 2>/dev/null >"$DIR/bravo-d2.pcap.txt" &
LISTEN=$!
sleep 1
echo "\$ acme-d1: ping 192.168.1.2 (payload 0xaa)"
ip netns exec "tess-demo-acme-d1-$$" ping -c 3 -i 0.2 -p aa 192.168.1.2 | tail -2
echo "\$ bravo-d1: ping 192.168.1.2 (payload 0xbb)"
ip netns exec "tess-demo-bravo-d1-$$" ping -c 3 -i 0.2 -p bb 192.168.1.2 | tail -2
wait $LISTEN || true
echo "bravo-d2 heard $(grep -c 'echo request' "$DIR/bravo-d2.pcap.txt") echo requests: bravo's 3, none of acme's"

step "the trunk: each tenant on its own VLAN (an ARP for 192.168.1.250 from each)"
ip netns exec "tess-demo-uplink-$$" timeout 4 tcpdump -l -c 2 -eni uplink arp 2>/dev/null &
LISTEN=$!
sleep 1
ip netns exec "tess-demo-acme-d1-$$" ping -c 1 -W 1 192.168.1.250 >/dev/null || true
ip netns exec "tess-demo-bravo-d1-$$" ping -c 1 -W 1 192.168.1.250 >/dev/null || true
wait $LISTEN || true

step "the FDB: the same MACs learned once per tenant"
ctl fdb show

step "anti-spoofing: bravo-d2 may only send as 02:00:00:00:00:02 / 192.168.1.2"
ip -n "tess-demo-bravo-d2-$$" link set bravo-d2 address 02:00:00:00:00:66
ip netns exec "tess-demo-bravo-d2-$$" ping -c 2 -i 0.2 -W 1 192.168.1.1 | tail -2 || true
ip -n "tess-demo-bravo-d2-$$" link set bravo-d2 address 02:00:00:00:00:02

step "a desktop joins acme at runtime"
ctl port add acme-d3 net_tap5,iface=acme-d3 --mode access --group acme
desktop acme-d3 02:00:00:00:00:03 192.168.1.3
ip netns exec "tess-demo-acme-d3-$$" ping -c 2 -i 0.2 192.168.1.1 | tail -2

step "per-port and per-group counters"
ctl stats

step "stop"
kill -TERM "$TESSD_PID"
wait "$TESSD_PID" && rc=0 || rc=$?
TESSD_PID=
echo "tessd exited with $rc"
[ "$rc" = 0 ]
step "demo done"
