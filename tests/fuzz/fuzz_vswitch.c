/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vswitch input pipeline: frames from access and trunk ports through
 * classification (VLAN tags, priority tags, QinQ), source checks
 * (anti-spoofing, IPv4 source guard), learning (the control thread's
 * tick runs after each burst), unicast, flooding and storm control.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_tessd.h"

/* Ports 0-3: a trunk (native group acme), two access ports (one guarded), one more trunk. */
static const char config[] =
	"{"
	"\"switch\": {\"aging_sec\": 10, \"fdb_size\": 1024, \"groups\": ["
	"  {\"name\": \"acme\", \"vlan\": 100, \"mac_limit\": 64},"
	"  {\"name\": \"bravo\", \"vlan\": 200, \"mac_limit\": 8, \"flood_unknown_unicast\": true,"
	"   \"flood_multicast\": true,"
	"   \"static_macs\": [{\"mac\": \"02:00:00:00:20:01\", \"port\": \"b1\"}]},"
	"  {\"name\": \"carol\", \"vlan\": 4094, \"flood_unknown_unicast\": true}]},"
	"\"ports\": ["
	"  {\"name\": \"up\", \"devargs\": \"net_null0\", \"mode\": \"trunk\","
	"   \"groups\": [\"acme\", \"bravo\", \"carol\"], \"native_group\": \"acme\"},"
	"  {\"name\": \"a1\", \"devargs\": \"net_null1\", \"mode\": \"access\", \"group\": "
	"\"acme\","
	"   \"mac_limit\": 4, \"storm_pps\": 100},"
	"  {\"name\": \"a2\", \"devargs\": \"net_null2\", \"mode\": \"access\", \"group\": "
	"\"acme\","
	"   \"anti_spoof\": \"on\", \"allowed_macs\": [\"02:00:00:00:10:02\"],"
	"   \"allowed_ips\": [\"192.168.10.12\"]},"
	"  {\"name\": \"b1\", \"devargs\": \"net_null3\", \"mode\": \"trunk\", \"mtu\": 1500,"
	"   \"groups\": [\"bravo\", \"carol\"]}]}";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tessd_start("vswitch", config);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_tessd_frames(data, size);
	return 0;
}
