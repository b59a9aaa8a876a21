#!/bin/bash
# make demo:
#  1. tessd cross-connects two taps between two namespaces: a ping crosses it,
#     tessctl shows ports and counters, then a clean stop;
#  2. tessd as the host vswitch of two tenants whose desktops use the same
#     addresses: pings inside each tenant, nothing crosses between them, each
#     tenant has its own VLAN on the trunk, per-group counters, a desktop
#     added at runtime, a desktop policed at 20 Mbit/s (measured with iperf3)
#     and the tenants' traffic counters;
#  3. tessd as the provider-edge router in front of a host tessd: two
#     enterprises both on 192.168.0.0/16, a VRF each, each reaching only its
#     own desktop (same addresses too) through VLANs 100 and 200 on the trunk;
#     each enterprise's DHCP client gets a lease from its VRF's server, and
#     its host name resolves in its own zone only (DNS on the gateway); both
#     enterprises' desktops (the same private address) reach a web server in
#     an internet namespace through NAT44 on a shared pool, with two sessions
#     from one private address on different public ports or addresses, and a
#     static port forward publishes acme's desktop to the internet; a
#     firewall: the provider's baseline drops SMTP out, acme's rule set lets
#     only ssh and http in from the enterprise (one connection allowed, one
#     refused, rule counters), and the check reports compliance;
#  4. tessmgrd provisions desktops of two tenants on a shared (libvirt test
#     driver) host: linked clones, CPU partitions pinned apart, usage against
#     quota, and each desktop's vhost-user port in its tenant's group of the
#     host's tessd;
#  5. the roaming desktop: a user travels from Paris to London and her
#     desktop follows (overlay copied, verified and rebased, domain and port
#     moved), then a new base image version is propagated;
#  6. (with FRR installed) an enterprise announces a route with BGP to FRR in
#     the kernel side of its VRF, through tessd's port; tessd mirrors the
#     kernel route and a desktop network reaches the enterprise;
#  7. the service end to end (tests/e2e/service.py, the story that
#     tests/e2e/test_service.py asserts): tessmgrd onboards two tenants with
#     the same addresses on a PE tessd and two host tessds (each with its own
#     QEMU libvirtd), four real desktops boot, take leases and reach their
#     enterprise and the internet (NAT), captures on every desktop and
#     enterprise show nothing crossed between the tenants, and a desktop roams
#     to the other site while its enterprise pings it;
#  then it prints the chargeback of parts 4 and 5's tenants (the usage
#  history sampled every 2 s, priced at the provider's rates) and ends with
#  the web portal on part 4's tessmgrd.
set -euo pipefail

BUILD=${1:-build}
TESSD=$BUILD/dataplane/tessd
TESSCTL=$BUILD/mgmt/tessctl
TESSMGRD=$BUILD/mgmt/tessmgrd
PORTAL_DIR=$(cd "$(dirname "$0")/../../mgmt/portal" && pwd) # the web portal's files
DIR=$(mktemp -d /tmp/tess-demo.XXXXXX)
SOCK=$DIR/tessd.sock
NS_A=tess-demo-a-$$
NS_B=tess-demo-b-$$
TESSD_PID=
HOST_PID=
MGR_PID=
BG_PIDS= # servers in the namespaces (part 3)
NAMESPACES="$NS_A $NS_B"

wait_ready() { # [socket pid]
	local sock=${1:-$SOCK} pid=${2:-$TESSD_PID}
	for _ in $(seq 100); do
		"$TESSCTL" -s "$sock" status >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$DIR"/*.log; echo "demo: tessd failed" >&2; exit 1; }
		sleep 0.1
	done
	echo "demo: tessd not ready" >&2
	exit 1
}
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { echo "\$ tessctl $*"; "$TESSCTL" -s "$SOCK" "$@"; }

cleanup() {
	[ -n "$TESSD_PID" ] && kill "$TESSD_PID" 2>/dev/null && wait "$TESSD_PID" 2>/dev/null
	[ -n "$HOST_PID" ] && kill "$HOST_PID" 2>/dev/null && wait "$HOST_PID" 2>/dev/null
	[ -n "$MGR_PID" ] && kill "$MGR_PID" 2>/dev/null && wait "$MGR_PID" 2>/dev/null
	for pid in $BG_PIDS; do kill "$pid" 2>/dev/null || true; done
	for pid in "$DIR"/frr-*/*.pid; do [ -f "$pid" ] && kill -9 "$(cat "$pid")" 2>/dev/null; done
	ip link del demo-trunk 2>/dev/null || true
	for ns in $NAMESPACES; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$DIR" "/var/run/dpdk/tess_demo_$$" "/var/run/dpdk/tess_demo_host_$$"
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

step "police acme-d1 at 20 Mbit/s both ways; iperf3 UDP offers it 40"
ctl policer set desk-20m --cir-kbps 20000 --ports acme-d1 --direction both
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"
ip netns exec "tess-demo-acme-d2-$$" iperf3 -s -1 -B 192.168.1.2 >/dev/null 2>&1 &
IPERF_SRV=$!
sleep 0.5
ip netns exec "tess-demo-acme-d1-$$" iperf3 -c 192.168.1.2 -u -b 40M -l 1400 -t 3 -O 1 -J \
	>"$DIR/iperf.json" || fail "iperf3 through the policer"
wait "$IPERF_SRV" || true
# The policer meters Ethernet frames; iperf3 reports UDP payload (1400 of 1442 bytes): within
# 5% of 20 Mbit/s of frames, as tests/dataplane/test_policer.py asserts.
python3 -c '
import json, sys
end = json.load(open(sys.argv[1]))["end"]
got = (end["sum_received"] if "sum_received" in end else end["sum"])["bits_per_second"] / 1e6
want = 20 * 1400 / (1400 + 8 + 20 + 14)
print("received %.2f Mbit/s of UDP payload (the policed rate: %.2f)" % (got, want))
assert abs(got - want) <= 0.05 * want, "not within 5%% of %.2f: %.2f" % (want, got)
' "$DIR/iperf.json" || fail "the policed rate"
ctl policer list
"$TESSCTL" -s "$SOCK" --json policer list | python3 -c '
import json, sys
a = [a for p in json.load(sys.stdin) if p["name"] == "desk-20m" for a in p["attachments"]
     if a["direction"] == "in"]
assert a and a[0]["red_packets"] > 0 and a[0]["dropped"] == a[0]["red_packets"], a
print("policed: %d packets red, all dropped" % a[0]["red_packets"])
' || fail "policer counters"

step "per-port and per-group counters"
ctl stats

step "the tenants' traffic only, as tessmgrd reads it (groups carry a tenant label)"
ctl stats --tenants
"$TESSCTL" -s "$SOCK" --json stats --tenants | python3 -c '
import json, sys
ten = json.load(sys.stdin)["tenants"]
assert set(ten) == {"Acme Corp", "Bravo Ltd"}, "want both tenants: %s" % sorted(ten)
for name, group in (("Acme Corp", "acme"), ("Bravo Ltd", "bravo")):
    g = ten[name]["groups"][group]
    assert g["rx_packets"] > 0 and g["tx_packets"] > 0, "%s: no traffic: %s" % (name, g)
    print("%s: group %s rx %d tx %d packets" % (name, group, g["rx_packets"], g["tx_packets"]))
' || fail "stats --tenants"

step "stop"
kill -TERM "$TESSD_PID"
wait "$TESSD_PID" && rc=0 || rc=$?
TESSD_PID=
echo "tessd exited with $rc"
[ "$rc" = 0 ]

# ---------------------------------------------------------------------------
step "part 3: tessd as the provider-edge router, in front of a host tessd"
# The kernel here has neither 802.1Q nor bridges: the host network is a
# second tessd (the host vswitch), joined to the PE by a veth pair that both
# open with net_af_packet. It runs in a namespace of its own, so the two
# af_packet fanout groups never meet.
HOST_NS=tess-demo-host-$$
HOST_SOCK=$DIR/host.sock
NAMESPACES="$NAMESPACES $HOST_NS"
ip netns add "$HOST_NS"
ip link add demo-trunk type veth peer name demo-trunk-h
ip link set demo-trunk-h netns "$HOST_NS"
for cmd in "" "ip netns exec $HOST_NS"; do
	t=demo-trunk
	[ -n "$cmd" ] && t=demo-trunk-h
	$cmd sysctl -qw "net.ipv6.conf.$t.disable_ipv6=1"
	$cmd ip link set "$t" up
done
AFP="framesz=2048,blocksz=4096,framecnt=512"
cat >"$DIR/pe.json" <<JSON
{
  "eal": { "main_cpu": 0, "workers": [1], "memory_mb": 256, "file_prefix": "tess_demo_$$", "in_memory": true },
  "control": { "socket": "$SOCK" },
  "ports": [
    { "name": "acme",  "devargs": "net_tap0,iface=pe-acme" },
    { "name": "bravo", "devargs": "net_tap1,iface=pe-bravo" },
    { "name": "trunk", "devargs": "net_af_packet2,iface=demo-trunk,$AFP" },
    { "name": "inet",  "devargs": "net_tap3,iface=pe-inet" }
  ],
  "router": {
    "vrfs": [ { "name": "acme", "id": 100 }, { "name": "bravo", "id": 200 },
              { "name": "internet", "id": 4000 } ],
    "interfaces": [
      { "name": "acme-ent",  "vrf": "acme",  "port": "acme",  "addresses": ["192.168.10.1/24"] },
      { "name": "acme-dc",   "vrf": "acme",  "port": "trunk", "vlan": 100, "addresses": ["192.168.50.1/24"] },
      { "name": "bravo-ent", "vrf": "bravo", "port": "bravo", "addresses": ["192.168.10.1/24"] },
      { "name": "bravo-dc",  "vrf": "bravo", "port": "trunk", "vlan": 200, "addresses": ["192.168.50.1/24"] },
      { "name": "upstream",  "vrf": "internet", "port": "inet", "addresses": ["198.51.100.1/24"] }
    ],
    "routes": [
      { "vrf": "acme",  "prefix": "0.0.0.0/0", "type": "vrf", "target_vrf": "internet" },
      { "vrf": "bravo", "prefix": "0.0.0.0/0", "type": "vrf", "target_vrf": "internet" }
    ]
  },
  "nat": {
    "session_capacity": 65536,
    "pools": [ { "name": "shared", "prefix": "203.0.113.0/28", "block_size": 512 } ],
    "instances": [
      { "name": "acme", "inside_vrf": "acme", "outside_vrf": "internet", "pool": "shared",
        "max_blocks": 16, "max_sessions": 4096,
        "statics": [ { "outside": "203.0.113.100", "inside": "192.168.50.10", "proto": "tcp",
                       "outside_port": 8080, "inside_port": 80 } ] },
      { "name": "bravo", "inside_vrf": "bravo", "outside_vrf": "internet", "pool": "shared",
        "max_blocks": 16, "max_sessions": 4096 }
    ]
  },
  "firewall": { "baseline": { "in": [ { "action": "drop", "proto": "tcp", "dport": "25" } ] } },
  "dhcp": { "servers": [
    { "interface": "acme-ent",  "pools": [ { "start": "192.168.10.100", "end": "192.168.10.199" } ], "domain": "acme.example" },
    { "interface": "bravo-ent", "pools": [ { "start": "192.168.10.100", "end": "192.168.10.199" } ], "domain": "bravo.example" }
  ] },
  "dns": { "servers": [ { "interface": "acme-ent" }, { "interface": "bravo-ent" } ] }
}
JSON
cat >"$DIR/host.json" <<JSON
{
  "eal": { "main_cpu": 0, "workers": [1], "memory_mb": 256, "file_prefix": "tess_demo_host_$$", "in_memory": true },
  "control": { "socket": "$HOST_SOCK" },
  "switch": { "groups": [ { "name": "acme", "tenant": "Acme Corp", "vlan": 100 },
                          { "name": "bravo", "tenant": "Bravo Ltd", "vlan": 200 } ] },
  "ports": [
    { "name": "up", "devargs": "net_af_packet0,iface=demo-trunk-h,$AFP", "mode": "trunk", "groups": ["acme", "bravo"] },
    { "name": "acme-desk",  "devargs": "net_tap1,iface=acme-desk",  "mode": "access", "group": "acme" },
    { "name": "bravo-desk", "devargs": "net_tap2,iface=bravo-desk", "mode": "access", "group": "bravo" }
  ]
}
JSON
echo "PE router config:"
cat "$DIR/pe.json"
"$TESSD" -c "$DIR/pe.json" >"$DIR/pe.log" 2>&1 &
TESSD_PID=$!
ip netns exec "$HOST_NS" "$TESSD" -c "$DIR/host.json" >"$DIR/host.log" 2>&1 &
HOST_PID=$!
wait_ready
wait_ready "$HOST_SOCK" "$HOST_PID"

step "enterprises and desktops: acme and bravo both use 192.168.10.10 and 192.168.50.10"
endpoint() { # iface from-ns mac ip gw
	local ns=tess-demo-$1-$$
	NAMESPACES="$NAMESPACES $ns"
	ip netns add "$ns"
	if [ -n "$2" ]; then ip -n "$2" link set "$1" netns "$ns"; else ip link set "$1" netns "$ns"; fi
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
	ip -n "$ns" link set "$1" address "$3"
	ip -n "$ns" addr add "$4/24" dev "$1"
	ip -n "$ns" link set "$1" up
	ip -n "$ns" route add default via "$5"
	echo "  $1: namespace $ns, $4 via $5"
}
endpoint pe-acme "" 02:00:00:00:a1:10 192.168.10.10 192.168.10.1
endpoint pe-bravo "" 02:00:00:00:b1:10 192.168.10.10 192.168.10.1
endpoint acme-desk "$HOST_NS" 02:00:00:00:a0:10 192.168.50.10 192.168.50.1
endpoint bravo-desk "$HOST_NS" 02:00:00:00:b0:10 192.168.50.10 192.168.50.1
endpoint pe-inet "" 02:00:00:00:ee:02 198.51.100.2 198.51.100.1
ctl vrf list
ctl interface list
ctl route show

step "each enterprise pings 192.168.50.10: its own desktop answers (bravo-desk listens)"
ip netns exec "tess-demo-bravo-desk-$$" timeout 6 tcpdump -l -ni bravo-desk icmp 2>/dev/null >"$DIR/bravo-desk.txt" &
LISTEN=$!
ip netns exec "$HOST_NS" timeout 6 tcpdump -l -eni demo-trunk-h icmp 2>/dev/null >"$DIR/trunk.txt" &
LISTEN2=$!
sleep 1
echo "\$ acme enterprise: ping 192.168.50.10"
ip netns exec "tess-demo-pe-acme-$$" ping -c 3 -i 0.2 192.168.50.10 | tail -2
echo "\$ bravo enterprise: ping 192.168.50.10"
ip netns exec "tess-demo-pe-bravo-$$" ping -c 2 -i 0.2 192.168.50.10 | tail -2
wait $LISTEN $LISTEN2 || true
echo "bravo's desktop heard $(grep -c 'echo request' "$DIR/bravo-desk.txt") echo requests: bravo's 2, none of acme's"
echo "on the trunk (as the host receives it), each enterprise on its tenant's VLAN:"
grep 'echo request' "$DIR/trunk.txt" | grep -o 'vlan [0-9]*' | sort | uniq -c

step "traceroute from acme: the PE is the first hop"
ip netns exec "tess-demo-pe-acme-$$" traceroute -n -q 1 -w 2 -m 3 192.168.50.10

step "routes change at runtime: a blackhole in acme only"
ctl route add 192.168.50.10/32 --vrf acme --blackhole
ip netns exec "tess-demo-pe-acme-$$" ping -c 2 -i 0.2 -W 1 192.168.50.10 | tail -2 || true
ip netns exec "tess-demo-pe-bravo-$$" ping -c 2 -i 0.2 192.168.50.10 | tail -2
ctl route del 192.168.50.10/32 --vrf acme

command -v udhcpc >/dev/null || fail "udhcpc is not installed (make deps)"
command -v dig >/dev/null || fail "dig is not installed (make deps: bind9-dnsutils)"
step "DHCP: each enterprise's DHCP client gets a lease from its own VRF's server (same pool)"
for e in acme bravo; do
	# -s /bin/true: the lease is shown, the namespace keeps its static address. bravo asks
	# for .150 (option 50), so that each tenant's name has an address of its own below.
	req=
	[ $e = bravo ] && req="-r 192.168.10.150"
	# shellcheck disable=SC2086
	out=$(ip netns exec "tess-demo-pe-$e-$$" udhcpc -i "pe-$e" -f -q -n -t 3 -T 1 -s /bin/true \
		-x hostname:laptop $req 2>&1) || true
	echo "$out" | grep -i "lease of" || fail "$e's DHCP client got no lease: $out"
done
ctl dhcp leases
# Each VRF's lease, bound, by its enterprise's MAC, named laptop: "acme=ADDR bravo=ADDR".
LEASES=$("$TESSCTL" -s "$SOCK" --json dhcp leases | python3 -c '
import json, sys
mac = {"acme": "02:00:00:00:a1:10", "bravo": "02:00:00:00:b1:10"}
got = {}
for l in json.load(sys.stdin):
    assert l["vrf"] not in got, "two leases in %s" % l["vrf"]
    assert l["state"] == "bound" and l["mac"].lower() == mac[l["vrf"]], l
    assert l["hostname"] == "laptop", l
    got[l["vrf"]] = l["address"]
assert set(got) == {"acme", "bravo"}, "want a lease in each VRF: %s" % got
assert got["acme"] != got["bravo"], "bravo did not get the address it asked for: %s" % got
print(" ".join("%s=%s" % kv for kv in sorted(got.items())))
') || fail "dhcp leases"
echo "leases: $LEASES"
step "DNS: each enterprise's gateway answers for its own zone (the lease's host name)"
for e in acme bravo; do
	want=$(echo "$LEASES" | tr ' ' '\n' | sed -n "s/^$e=//p")
	echo "\$ $e: dig @192.168.10.1 laptop.$e.example"
	got=$(ip netns exec "tess-demo-pe-$e-$$" dig @192.168.10.1 +short +time=2 +tries=2 \
		"laptop.$e.example") || true
	echo "  $got"
	[ "$got" = "$want" ] || fail "laptop.$e.example from $e: '$got', its lease is $want"
done
for e in acme:bravo bravo:acme; do
	asker=${e%%:*} other=${e##*:}
	echo "\$ $asker: dig @192.168.10.1 laptop.$other.example (not $asker's zone, no forwarders)"
	status=$(ip netns exec "tess-demo-pe-$asker-$$" dig @192.168.10.1 +time=2 +tries=2 \
		"laptop.$other.example" | grep -o "status: [A-Z]*") || true
	echo "  $status"
	[ "$status" = "status: REFUSED" ] || fail "$other's zone from $asker: '$status'"
done
ctl dns records

# Servers: a web server in the internet namespace, one on each desktop (its
# tenant's name as the page), and listeners for SMTP and RDP.
INET=tess-demo-pe-inet-$$
serve() { # ns port text
	mkdir -p "$DIR/www-$1-$2" && echo "$3" >"$DIR/www-$1-$2/index.html"
	ip netns exec "$1" python3 -m http.server "$2" --bind 0.0.0.0 --directory "$DIR/www-$1-$2" \
		>"$DIR/www-$1-$2.log" 2>&1 &
	BG_PIDS="$BG_PIDS $!"
}
listen() { # ns port
	ip netns exec "$1" nc -lk "$2" >/dev/null 2>&1 &
	BG_PIDS="$BG_PIDS $!"
}
http_get() { # ns address port: the page's body
	printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$1" nc -w 3 "$2" "$3" | tail -1 || true
}
tcp_open() { ip netns exec "$1" nc -z -w 2 "$2" "$3" 2>/dev/null; } # ns address port
serve "$INET" 80 "hello from the internet"
serve "tess-demo-acme-desk-$$" 80 "acme's desktop"
serve "tess-demo-bravo-desk-$$" 80 "bravo's desktop"
listen "$INET" 25
listen "tess-demo-acme-desk-$$" 3389
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; } # ns port
for _ in $(seq 100); do
	listening "$INET" 80 && listening "$INET" 25 && listening "tess-demo-acme-desk-$$" 80 &&
		listening "tess-demo-acme-desk-$$" 3389 && listening "tess-demo-bravo-desk-$$" 80 && break
	sleep 0.1
done

step "NAT44: both desktops (192.168.50.10 in acme and in bravo) fetch a page from the internet (198.51.100.2)"
for e in acme bravo; do
	echo "\$ $e's desktop: GET http://198.51.100.2/"
	page=$(http_get "tess-demo-$e-desk-$$" 198.51.100.2 80)
	echo "  $page"
	[ "$page" = "hello from the internet" ] || fail "$e's desktop did not reach the internet"
done
echo "the web server saw them come from the pool's public addresses:"
grep '"GET / HTTP/1.0"' "$DIR/www-$INET-80.log" | sed 's/^/  /' || true
[ "$(grep -c '^203\.0\.113\.[0-9]* .*"GET / HTTP/1.0"' "$DIR/www-$INET-80.log")" = 2 ] ||
	fail "the server did not see two requests from the pool"
ctl nat sessions
"$TESSCTL" -s "$SOCK" --json nat sessions | python3 -c '
import json, sys
s = [x for x in json.load(sys.stdin) if x["inside"].startswith("192.168.50.10:")
     and x["remote"] == "198.51.100.2:80"]
out = {x["instance"]: x["outside"] for x in s}
assert set(out) == {"acme", "bravo"}, "want a session of each tenant: %s" % s
assert out["acme"] != out["bravo"], "both tenants on %s" % out["acme"]
print("one private address, two sessions: acme as %s, bravo as %s" % (out["acme"], out["bravo"]))
' || fail "nat sessions"

step "a static port forward publishes acme's desktop: 203.0.113.100:8080 -> 192.168.50.10:80"
echo "\$ internet: GET http://203.0.113.100:8080/"
page=$(http_get "$INET" 203.0.113.100 8080)
echo "  $page"
[ "$page" = "acme's desktop" ] || fail "the port forward did not reach acme's desktop"
ctl nat sessions --vrf acme
ctl nat stats

step "firewall: the provider's baseline drops SMTP (tcp 25) before any tenant's rules; rule sets"
cat >"$DIR/acme-ent-in.json" <<JSON
{ "name": "acme-ent-in", "default_in": "reject", "default_out": "accept",
  "rules": [
    { "action": "accept", "proto": "tcp", "dst": "192.168.50.0/24", "dport": "22" },
    { "action": "accept", "proto": "tcp", "dst": "192.168.50.0/24", "dport": "80" },
    { "action": "accept", "proto": "icmp", "icmp_type": 8 },
    { "action": "accept", "proto": "udp", "dst": "192.168.10.1/32", "dport": "53" },
    { "action": "accept", "proto": "udp", "dport": "67" }
  ] }
JSON
echo '{ "name": "provider", "default_in": "accept", "default_out": "accept", "rules": [] }' \
	>"$DIR/provider.json"
echo "acme's rule set for what comes in from its enterprise (only ssh and http to the desktops):"
cat "$DIR/acme-ent-in.json"
ctl firewall set "$DIR/acme-ent-in.json"
ctl firewall set "$DIR/provider.json"
compliant() { "$TESSCTL" -s "$SOCK" --json firewall check |
	python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)["compliant"])'; }
echo "nothing attached yet: the baseline is enforced nowhere"
ctl firewall check
compliant && fail "firewall check: compliant with nothing attached"
echo "before: acme's desktop answers on RDP (3389) and reaches SMTP (25) in the internet"
tcp_open "tess-demo-pe-acme-$$" 192.168.50.10 3389 || fail "RDP listener not reachable"
tcp_open "tess-demo-acme-desk-$$" 198.51.100.2 25 || fail "SMTP listener not reachable"
ctl firewall attach acme-ent --in acme-ent-in
for i in acme-dc bravo-ent bravo-dc upstream; do ctl firewall attach "$i" --in provider; done
ctl firewall list
ctl firewall check
compliant || fail "firewall check: not compliant with every interface attached"

step "acme's enterprise: http to its desktop allowed, RDP refused; SMTP out dropped"
echo "\$ acme enterprise: GET http://192.168.50.10/"
page=$(http_get "tess-demo-pe-acme-$$" 192.168.50.10 80)
echo "  $page"
[ "$page" = "acme's desktop" ] || fail "http from acme's enterprise refused"
echo "\$ acme enterprise: nc -z 192.168.50.10 3389"
ip netns exec "tess-demo-pe-acme-$$" nc -zv -w 2 192.168.50.10 3389 2>&1 | sed 's/^/  /' || true
tcp_open "tess-demo-pe-acme-$$" 192.168.50.10 3389 && fail "RDP from acme's enterprise allowed"
echo "\$ acme's desktop: nc -z 198.51.100.2 25"
tcp_open "tess-demo-acme-desk-$$" 198.51.100.2 25 && fail "SMTP out allowed"
echo "  timed out (dropped)"
echo "\$ bravo's desktop: GET http://198.51.100.2/ (other ports out are not touched)"
page=$(http_get "tess-demo-bravo-desk-$$" 198.51.100.2 80)
echo "  $page"
[ "$page" = "hello from the internet" ] || fail "bravo's http out refused"
ctl firewall stats --name acme-ent-in
ctl firewall stats --name provider
"$TESSCTL" -s "$SOCK" --json firewall stats | python3 -c '
import json, sys
sets = json.load(sys.stdin)
acme = next(s for s in sets if s["ruleset"] == "acme-ent-in" and s["direction"] == "in")
rule = {(c["baseline"], c["rule"]): c["packets"] for c in acme["counters"]}
assert rule[(False, 1)] > 0, "no packet on acme rule 1 (http): %s" % acme
assert acme["default"]["packets"] > 0, "none refused by default: %s" % acme
prov = [s for s in sets if s["ruleset"] == "provider" and s["direction"] == "in"]
smtp = sum(c["packets"] for s in prov for c in s["counters"] if c["baseline"] and c["rule"] == 0)
assert smtp > 0, "the baseline dropped no SMTP: %s" % prov
print("counted: acme http %d, acme refused %d, baseline SMTP drops %d" %
      (rule[(False, 1)], acme["default"]["packets"], smtp))
' || fail "firewall counters"

step "neighbours and per-VRF counters"
ctl neigh show
ctl stats --vrf acme

step "stop both"
kill -TERM "$TESSD_PID" "$HOST_PID"
wait "$TESSD_PID" && rc=0 || rc=$?
wait "$HOST_PID" && rc2=0 || rc2=$?
TESSD_PID=
HOST_PID=
echo "PE exited with $rc, host with $rc2"
[ "$rc" = 0 ] && [ "$rc2" = 0 ]

# ---------------------------------------------------------------------------
step "part 4: tessmgrd provisions desktops for two tenants on a shared host"
HV_SOCK=$DIR/hv.sock
cat >"$DIR/hv.json" <<JSON
{
  "eal": { "main_cpu": 0, "workers": [1], "memory_mb": 256, "file_prefix": "tess_demo_$$", "in_memory": true },
  "control": { "socket": "$HV_SOCK", "port_dirs": ["$DIR"] }
}
JSON
"$TESSD" -c "$DIR/hv.json" >"$DIR/hv.log" 2>&1 &
TESSD_PID=$!
wait_ready "$HV_SOCK" "$TESSD_PID"
mkdir -p "$DIR/mgr/storage" "$DIR/vhost"
qemu-img create -q -f qcow2 "$DIR/mgr/storage/win11.qcow2" 64M
# Each token made by tessctl: the token for its holder, its SHA-256 entry for the file.
new_token() { "$TESSCTL" token new "$@" 2>/dev/null; }
PROV=$(new_token --role provider --principal ops)
ACME=$(new_token --role tenant --tenant acme --principal alice)
BRAVO=$(new_token --role tenant --tenant bravo --principal bob)
PROV_TOKEN=$(echo "$PROV" | sed -n 1p)
ACME_TOKEN=$(echo "$ACME" | sed -n 1p)
BRAVO_TOKEN=$(echo "$BRAVO" | sed -n 1p)
(umask 077 && cat >"$DIR/mgr/tokens.json" <<JSON
{ "tokens": [
  $(echo "$PROV" | sed -n 2p),
  $(echo "$ACME" | sed -n 2p),
  $(echo "$BRAVO" | sed -n 2p)
] }
JSON
)
echo "\$ tessctl token new --role tenant --tenant acme --principal alice   (its entry, hashed):"
echo "$ACME" | sed -n 2p
cat >"$DIR/mgr/tessmgrd.json" <<JSON
{ "listen": "127.0.0.1", "port": 0, "store": "$DIR/mgr/store.db", "state_dir": "$DIR/mgr/state",
  "tokens": "$DIR/mgr/tokens.json", "import_dir": "$DIR",
  "http": { "portal_dir": "$PORTAL_DIR" },
  "usage": { "sample_sec": 2 } }
JSON
cat "$DIR/mgr/tessmgrd.json"
"$TESSMGRD" -c "$DIR/mgr/tessmgrd.json" >"$DIR/mgr.log" 2>&1 &
MGR_PID=$!
for _ in $(seq 100); do [ -s "$DIR/mgr/state/port" ] && break; sleep 0.1; done
export TESSMGR_URL=http://127.0.0.1:$(cat "$DIR/mgr/state/port")
head -1 "$DIR/mgr.log"
ops() { echo "\$ tessctl $*   (provider admin)"; "$TESSCTL" -T "$PROV_TOKEN" "$@"; }
acme() { echo "\$ tessctl $*   (acme admin)"; "$TESSCTL" -T "$ACME_TOKEN" "$@"; }
bravo() { echo "\$ tessctl $*   (bravo admin)"; "$TESSCTL" -T "$BRAVO_TOKEN" "$@"; }
# The provider's prices, in force from now on (the chargeback at the end of the demo).
ops rates set --currency EUR --vcpu-hour 0.02 --gib-hour 0.004
MGR_T0=$(date +%s)
ops site add paris --lat 48.85 --lon 2.35 --storage "$DIR/mgr/storage"
ops host add h1 --site paris --test-host 1x4x2 --memory-mb 65536 --vcpu-ratio 2 \
	--vlans 100,200 --tessd "$HV_SOCK" --vhost-dir "$DIR/vhost"
ops tenant add acme --org org-acme --datacenter paris --vlan 100 --vlan-name acme-net
ops tenant add bravo --org org-bravo --datacenter paris --vlan 200 --vlan-name bravo-net
ops model add std --vcpus 2 --memory-mb 4096 --image win11.qcow2
ops quota add acme std --cpus 8 --memory-mb 32768
ops quota add bravo std --cpus 4 --memory-mb 16384
ops quota hosts acme std

step "tenant admins provision desktops (each a job: linked clone, vswitch port, libvirt)"
acme desktop create a1 --model std --wait
acme desktop create a2 --model std --wait
bravo desktop create b1 --model std --wait
acme desktop list
bravo desktop list
echo "acme's desktops are pinned to its cores, bravo's to others (libvirt's own pinning):"
for d in 1 2 3; do
	tok=$ACME_TOKEN
	[ $d = 3 ] && tok=$BRAVO_TOKEN
	"$TESSCTL" -T "$tok" --json desktop show $d |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print("  desktop", d["name"], "vCPU pins", d["libvirt"]["vcpu_pins"])'
done
ops host show h1

step "usage against quota, and a request beyond the quota"
ops usage
bravo desktop create b2 --model std --wait
bravo desktop create b3 --model std || true

step "the desktops' vhost-user ports in the tenants' groups of the host's tessd"
ctl_hv() { echo "\$ tessctl $*   (host vswitch)"; "$TESSCTL" -s "$HV_SOCK" "$@"; }
ctl_hv group list
ctl_hv port list

step "a desktop is deleted: domain, overlay, port and quota use go"
acme desktop delete 1 --wait
ctl_hv group list
ops audit --limit 5

# ---------------------------------------------------------------------------
step "part 5: the roaming desktop - alice travels from Paris to London"
HV2_SOCK=$DIR/hv2.sock
cat >"$DIR/hv2.json" <<JSON
{
  "eal": { "main_cpu": 0, "workers": [1], "memory_mb": 256, "file_prefix": "tess_demo_host_$$", "in_memory": true },
  "control": { "socket": "$HV2_SOCK", "port_dirs": ["$DIR"] }
}
JSON
"$TESSD" -c "$DIR/hv2.json" >"$DIR/hv2.log" 2>&1 &
HOST_PID=$!
wait_ready "$HV2_SOCK" "$HOST_PID"
mkdir -p "$DIR/mgr/london" "$DIR/vhost2"
cp "$DIR/mgr/storage/win11.qcow2" "$DIR/mgr/london/win11.qcow2" # the same base, replicated
ops site add london --lat 51.51 --lon -0.13 --storage "$DIR/mgr/london" --prefixes 10.2.0.0/16
ops host add h2 --site london --test-host 1x4x2 --memory-mb 65536 --vcpu-ratio 2 \
	--vlans 100,200 --tessd "$HV2_SOCK" --vhost-dir "$DIR/vhost2"
echo "alice writes a file on her desktop (data in its overlay, the redo log):"
A2=$("$TESSCTL" -T "$ACME_TOKEN" --json desktop show 2 |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["overlay"])')
qemu-io -f qcow2 -c "write -P 0xab 1M 64k" "$A2" | head -1
ops site list --from 10.2.0.7
echo "alice's laptop, in the London office (10.2.0.7), asks for her desktop:"
acme desktop connect 2 --from 10.2.0.7
A2=$("$TESSCTL" -T "$ACME_TOKEN" --json desktop show 2 |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["overlay"]); [print("  link", l["site"], l["state"], l["path"], file=sys.stderr) for l in d["links"]]')
echo "its overlay now: $A2, on $(qemu-img info -U --output=json "$A2" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["backing-filename"])')"
qemu-io -f qcow2 -c "read -P 0xab 1M 64k" "$A2" | head -1
echo "her port left the Paris vswitch for London's:"
ctl_hv group list
ctl_hv2() { echo "\$ tessctl $*   (London host vswitch)"; "$TESSCTL" -s "$HV2_SOCK" "$@"; }
ctl_hv2 group list
echo "back in Paris a week later:"
acme desktop connect 2 --from 48.86,2.35
acme desktop connect 2 --from paris

step "a new base image version, pushed at Paris, reaches every site holding the image"
qemu-img create -q -f qcow2 "$DIR/win11-v2.qcow2" 64M
qemu-io -f qcow2 -c "write -P 0x77 0 64k" "$DIR/win11-v2.qcow2" >/dev/null # an update
ops image push win11.qcow2 --site paris --file "$DIR/win11-v2.qcow2"
ops image versions win11.qcow2
echo "a desktop made now uses the new version; alice's keeps the one it was cloned from:"
acme desktop create a3 --model std --wait
for d in 2 5; do
	"$TESSCTL" -T "$ACME_TOKEN" --json desktop show $d |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print("  desktop", d["name"], "base version", d["base_version"][:12], d["base"])'
done
ops audit --limit 4

# The chargeback of parts 4 and 5, printed at the end: after a usage pass (usage.sample_sec
# 2) has counted up to now.
sleep 3
"$TESSCTL" -T "$PROV_TOKEN" chargeback --from "$MGR_T0" --to "$(($(date +%s) + 1))" \
	>"$DIR/chargeback.txt"

step "stop tessmgrd and the host tessds"
kill -TERM "$MGR_PID" "$TESSD_PID" "$HOST_PID"
wait "$MGR_PID" && rc=0 || rc=$?
wait "$TESSD_PID" && rc2=0 || rc2=$?
wait "$HOST_PID" && rc3=0 || rc3=$?
MGR_PID=
TESSD_PID=
HOST_PID=
echo "tessmgrd exited with $rc, the tessds with $rc2 and $rc3"
[ "$rc" = 0 ] && [ "$rc2" = 0 ] && [ "$rc3" = 0 ]
# ---------------------------------------------------------------------------
if [ -x /usr/lib/frr/bgpd ]; then
step "part 6: the enterprise announces a route with BGP (FRR); the tenant's VRF gets it"
NS_K=tess-demo-k-$$ # VRF acme's kernel side: tessd makes it
NS_E=tess-demo-e-$$ # the enterprise's router
NS_D=tess-demo-d-$$ # a desktop network behind the PE
NAMESPACES="$NAMESPACES $NS_K $NS_E $NS_D"
cat >"$DIR/pe-bgp.json" <<JSON
{
  "eal": { "main_cpu": 0, "workers": [1], "memory_mb": 256, "file_prefix": "tess_demo_$$", "in_memory": true },
  "control": { "socket": "$SOCK" },
  "ports": [
    { "name": "ent", "devargs": "net_tap0,iface=demo-ent" },
    { "name": "dc",  "devargs": "net_tap1,iface=demo-dc" }
  ],
  "router": {
    "vrfs": [ { "name": "acme", "id": 100, "kernel": { "netns": "$NS_K" } } ],
    "interfaces": [
      { "name": "acme-ent", "vrf": "acme", "port": "ent", "addresses": ["192.0.2.1/30"] },
      { "name": "acme-dc",  "vrf": "acme", "port": "dc",  "addresses": ["192.168.50.1/24"] }
    ]
  }
}
JSON
sed -n '/"router"/,$p' "$DIR/pe-bgp.json"
"$TESSD" -c "$DIR/pe-bgp.json" >"$DIR/pe-bgp.log" 2>&1 &
TESSD_PID=$!
wait_ready
for ns in "$NS_E" "$NS_D"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
# Moved taps keep the MAC of tessd's side: each end gets its own.
ip link set demo-ent netns "$NS_E"
ip -n "$NS_E" link set demo-ent address 02:00:00:00:e0:02
ip -n "$NS_E" addr add 192.0.2.2/30 dev demo-ent && ip -n "$NS_E" link set demo-ent up
ip -n "$NS_E" addr add 172.20.0.1/24 dev lo # the enterprise's network to announce
ip link set demo-dc netns "$NS_D"
ip -n "$NS_D" link set demo-dc address 02:00:00:00:d0:10
ip -n "$NS_D" addr add 192.168.50.10/24 dev demo-dc && ip -n "$NS_D" link set demo-dc up
ip -n "$NS_D" route add default via 192.168.50.1
echo "the TAPs tessd made in $NS_K, the VRF's kernel side:"
ip -n "$NS_K" -br addr show
frr() { # NS DIR CONFIG: zebra and bgpd in a namespace
	mkdir -p "$2" && chmod 755 "$DIR" && chmod 777 "$2" && printf '%b' "$3" >"$2/frr.conf"
	for d in zebra bgpd; do
		ip netns exec "$1" /usr/lib/frr/$d -d -f "$2/frr.conf" -i "$2/$d.pid" \
			-z "$2/zserv.api" --vty_socket "$2" -P 0 >/dev/null
	done
}
BGP="frr defaults traditional\nno zebra nexthop kernel enable\n"
frr "$NS_K" "$DIR/frr-k" "${BGP}router bgp 65001\n no bgp ebgp-requires-policy\n neighbor 192.0.2.2 remote-as 65002\n neighbor 192.0.2.2 timers 1 3\n neighbor 192.0.2.2 timers connect 1\n address-family ipv4 unicast\n  network 192.168.50.0/24\n exit-address-family\n"
frr "$NS_E" "$DIR/frr-e" "${BGP}router bgp 65002\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n neighbor 192.0.2.1 timers 1 3\n neighbor 192.0.2.1 timers connect 1\n address-family ipv4 unicast\n  network 172.20.0.0/24\n exit-address-family\n"
echo "BGP between FRR in $NS_K (announcing the desktops' 192.168.50.0/24) and the"
echo "enterprise's FRR (announcing 172.20.0.0/24), through tessd's port:"
for _ in $(seq 100); do
	ip -n "$NS_K" route show 172.20.0.0/24 | grep -q via &&
		ip -n "$NS_E" route show 192.168.50.0/24 | grep -q via && break
	sleep 0.2
done
ip netns exec "$NS_K" vtysh --vty_socket "$DIR/frr-k" -c "show bgp summary" | grep -A1 Neighbor
echo "\$ ip -n $NS_K route show proto bgp"
ip -n "$NS_K" route show proto bgp
sleep 0.5
ctl route show --vrf acme
ctl vrf list
echo "a desktop (192.168.50.10) reaches the enterprise's 172.20.0.1 through the VRF:"
ip netns exec "$NS_D" ping -c 3 -i 0.2 -W 2 172.20.0.1 | tail -2
kill -TERM "$TESSD_PID"
wait "$TESSD_PID" && rc=0 || rc=$?
TESSD_PID=
echo "tessd exited with $rc"
[ "$rc" = 0 ]
fi

# ---------------------------------------------------------------------------
step "part 7: the service end to end - two enterprises, two hosts, real desktops, a roam"
/usr/bin/python3 "$(dirname "$0")/service.py" --demo --build "$BUILD"

# ---------------------------------------------------------------------------
step "the demo tenants' chargeback (parts 4 and 5, reservation mode)"
echo "\$ tessctl chargeback --from $MGR_T0 --to ...   (provider admin)"
cat "$DIR/chargeback.txt"

# ---------------------------------------------------------------------------
step "the web portal"
# tessmgrd again on part 4's store (its desktops and tokens), serving the portal.
rm -f "$DIR/mgr/state/port"
"$TESSMGRD" -c "$DIR/mgr/tessmgrd.json" >>"$DIR/mgr.log" 2>&1 &
MGR_PID=$!
for _ in $(seq 100); do [ -s "$DIR/mgr/state/port" ] && break; sleep 0.1; done
[ -s "$DIR/mgr/state/port" ] || fail "tessmgrd did not start again (see $DIR/mgr.log)"
export TESSMGR_URL=http://127.0.0.1:$(cat "$DIR/mgr/state/port")
echo "portal: $TESSMGR_URL/  (log in with a token below; README \"Portal\")"
echo "  provider admin: $PROV_TOKEN"
echo "  acme admin:     $ACME_TOKEN"
echo "  bravo admin:    $BRAVO_TOKEN"
if [ -t 0 ]; then
	read -r -p "the portal runs until Enter (ends the demo) " _ || true
fi

step "demo done"
