/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's input and slow path: Ethernet and VLAN demux to interfaces,
 * IPv4 header checks, TTL, options, local delivery (echo, closed ports),
 * ICMP errors, ARP (requests, replies, gratuitous, queued packets),
 * fragmentation to a smaller MTU, next-hop groups, blackhole and reject
 * routes, VRF leaking, and routing into and out of a vswitch group (IRB);
 * the DHCP server's parser and leases (servers on "acme-ent" and "irb");
 * the DNS responder (UDP and TCP, forwarding), NAT44 of acme into the
 * shared VRF (a port forward, ICMP errors, fragments) and the firewall
 * (rules, reject answers, connection tracking).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_tessd.h"

/*
 * Port 0 (wan): untagged interface, MTU 1500. Port 1 (hosts): VLAN
 * interfaces of two VRFs and a small MTU. Port 2: an access port of the
 * switch group behind the interface "irb".
 */
static const char config[] =
	"{"
	"\"switch\": {\"groups\": [{\"name\": \"lan\", \"vlan\": 300,"
	"  \"flood_unknown_unicast\": true}]},"
	"\"ports\": ["
	"  {\"name\": \"wan\", \"devargs\": \"net_null0\"},"
	"  {\"name\": \"hosts\", \"devargs\": \"net_null1\", \"mtu\": 9000},"
	"  {\"name\": \"lanp\", \"devargs\": \"net_null2\", \"mode\": \"access\", \"group\": "
	"\"lan\"}],"
	"\"router\": {\"neigh_capacity\": 1024, \"vrfs\": ["
	"  {\"name\": \"acme\", \"id\": 100, \"icmp_rate\": 1000, \"neigh_limit\": 256},"
	"  {\"name\": \"bravo\", \"id\": 200, \"icmp_rate\": 50, \"neigh_limit\": 16,"
	"   \"neigh_queue\": 3},"
	"  {\"name\": \"shared\", \"id\": 4000, \"neigh_limit\": 256}],"
	" \"interfaces\": ["
	"  {\"name\": \"acme-ent\", \"vrf\": \"acme\", \"port\": \"wan\","
	"   \"addresses\": [\"192.168.10.1/24\"]},"
	"  {\"name\": \"acme-dc\", \"vrf\": \"acme\", \"port\": \"hosts\", \"vlan\": 100,"
	"   \"mtu\": 576, \"addresses\": [\"192.168.50.1/24\"]},"
	"  {\"name\": \"bravo-dc\", \"vrf\": \"bravo\", \"port\": \"hosts\", \"vlan\": 200,"
	"   \"mac\": \"02:00:00:00:b0:01\", \"addresses\": [\"192.168.50.1/24\", "
	"\"10.20.0.1/30\"]},"
	"  {\"name\": \"services\", \"vrf\": \"shared\", \"port\": \"hosts\", \"vlan\": 4000,"
	"   \"addresses\": [\"172.31.0.1/24\"]},"
	"  {\"name\": \"irb\", \"vrf\": \"bravo\", \"group\": \"lan\","
	"   \"addresses\": [\"10.30.0.1/24\"]}],"
	" \"routes\": ["
	"  {\"vrf\": \"acme\", \"prefix\": \"10.0.0.0/8\","
	"   \"nexthops\": [{\"via\": \"192.168.10.2\"}, {\"via\": \"192.168.50.3\"}]},"
	"  {\"vrf\": \"acme\", \"prefix\": \"172.31.0.0/24\", \"type\": \"vrf\","
	"   \"target_vrf\": \"shared\"},"
	"  {\"vrf\": \"bravo\", \"prefix\": \"0.0.0.0/0\", \"nexthops\": [{\"via\": "
	"\"10.20.0.2\"}]},"
	"  {\"vrf\": \"bravo\", \"prefix\": \"192.168.99.0/24\", \"type\": \"blackhole\"},"
	"  {\"vrf\": \"bravo\", \"prefix\": \"192.168.98.0/24\", \"type\": \"reject\"}],"
	" \"neighbours\": ["
	"  {\"vrf\": \"bravo\", \"ip\": \"10.20.0.2\", \"mac\": \"02:00:00:00:b0:02\","
	"   \"interface\": \"bravo-dc\"},"
	"  {\"vrf\": \"acme\", \"ip\": \"192.168.10.2\", \"mac\": \"02:00:00:00:a0:02\","
	"   \"interface\": \"acme-ent\"}]},"
	/* DHCP servers on a routed port, a VLAN sub-interface and the IRB: broadcast and 0.0.0.0
	   reach the parser; a relay on another VLAN (requests and replies to 192.168.50.1). */
	"\"dhcp\": {\"servers\": ["
	"  {\"interface\": \"acme-ent\", \"pools\": [{\"start\": \"192.168.10.100\","
	"   \"end\": \"192.168.10.103\"}], \"max_leases\": 3,"
	"   \"reservations\": [{\"mac\": \"02:00:00:00:a0:77\", \"address\": \"192.168.10.77\"}],"
	"   \"routes\": [{\"prefix\": \"10.0.0.0/8\", \"via\": \"192.168.10.2\"}]},"
	"  {\"interface\": \"acme-dc\", \"pools\": [{\"start\": \"192.168.50.10\","
	"   \"end\": \"192.168.50.20\"}]},"
	"  {\"interface\": \"irb\", \"pools\": [{\"start\": \"10.30.0.10\","
	"   \"end\": \"10.30.0.20\"}]}],"
	" \"relays\": [{\"interface\": \"bravo-dc\", \"servers\": [\"10.20.0.2\", "
	"\"192.168.99.1\"], \"max_hops\": 4}]},"
	/* DNS on acme's routed port (a record, a forwarder, TCP) and on the IRB (no forwarder). */
	"\"dns\": {\"servers\": ["
	"  {\"interface\": \"acme-ent\", \"domain\": \"acme.test\", \"forwarders\": "
	"[\"192.168.10.2\"], \"records\": [{\"name\": \"www\", \"address\": "
	"\"192.168.10.80\"}], \"tcp_conns\": 4, \"max_records\": 8},"
	"  {\"interface\": \"irb\", \"domain\": \"bravo.test\"}]},"
	/* NAT44 of acme into the shared VRF (its VRF route), with a port forward. */
	"\"nat\": {\"session_capacity\": 1024, \"pools\": [{\"name\": \"p\", \"prefix\": "
	"\"203.0.113.0/28\", \"block_size\": 64}],"
	" \"instances\": [{\"name\": \"acme\", \"inside_vrf\": \"acme\", \"outside_vrf\": "
	"\"shared\", \"pool\": \"p\", \"max_sessions\": 256,"
	"  \"statics\": [{\"outside\": \"203.0.113.20\", \"inside\": \"192.168.10.9\", "
	"\"proto\": \"tcp\", \"outside_port\": 8080, \"inside_port\": 80}]}]},"
	/*
	 * The firewall: a baseline, a set in on acme's port and the IRB, one out of bravo-dc.
	 * A small connection table: each control tick (each input) scans 4,096 entries.
	 */
	"\"firewall\": {\"conn_capacity\": 256, \"conn_vrf_limit\": 64,"
	" \"baseline\": {\"in\": [{\"action\": \"drop\", \"proto\": \"tcp\", \"dport\": "
	"\"25\"}]},"
	" \"rulesets\": [{\"name\": \"ent-in\", \"default_in\": \"accept\", \"rules\": ["
	"  {\"action\": \"accept\", \"proto\": \"tcp\", \"dst\": \"192.168.50.0/24\", "
	"\"dport\": \"22\"},"
	"  {\"action\": \"reject\", \"proto\": \"udp\", \"dport\": \"5000-5100\"},"
	"  {\"action\": \"reject\", \"proto\": \"tcp\", \"dport\": \"3389\"},"
	"  {\"action\": \"drop\", \"proto\": \"icmp\", \"icmp_type\": 13}]},"
	"  {\"name\": \"dc-out\", \"default_out\": \"drop\", \"rules\": ["
	"  {\"action\": \"accept\", \"proto\": \"icmp\"}, {\"action\": \"accept\", "
	"\"proto\": \"udp\"}]}],"
	" \"attach\": [{\"interface\": \"acme-ent\", \"in\": \"ent-in\"},"
	"  {\"interface\": \"irb\", \"in\": \"ent-in\"},"
	"  {\"interface\": \"bravo-dc\", \"out\": \"dc-out\"}]}}";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tessd_start("router", config);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_tessd_frames(data, size);
	return 0;
}
