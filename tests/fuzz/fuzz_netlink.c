/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The netlink route parser of kernel-bound VRFs (vrf/kernel_routes.c):
 * route, link and address notifications, as the kernel's namespace sends
 * them, parsed by libnl and mapped into the FIB of VRF acme (table 254,
 * one TAP known as ifindex 7), on a running router.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_tessd.h"
#include "kernel_int.h"
#include "rcu.h"
#include "router_int.h"
#include "tessd.h"

static const char config[] =
	"{"
	"\"ports\": [{\"name\": \"wan\", \"devargs\": \"net_null0\"}],"
	"\"router\": {\"vrfs\": [{\"name\": \"acme\", \"id\": 100}],"
	" \"interfaces\": [{\"name\": \"acme-ent\", \"vrf\": \"acme\", \"port\": \"wan\","
	"   \"addresses\": [\"192.168.10.1/24\"]}],"
	" \"routes\": [{\"vrf\": \"acme\", \"prefix\": \"10.0.0.0/8\", \"type\": \"blackhole\"}]}}";

static uint16_t vrf;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static int tap_ifindex[1] = { 7 };
	static uint16_t tap_iface[1];
	struct kbind *b;

	(void)argc;
	(void)argv;
	fuzz_tessd_start("netlink", config);
	vrf = rt_vrf_id(&tessd.cfg, "acme");
	tap_iface[0] = rt_iface_id("acme-ent");
	if (vrf == 0 || tap_iface[0] == 0) {
		fprintf(stderr, "fuzz: no VRF acme or interface acme-ent\n");
		exit(1);
	}
	/* The binding's state as kern_sync leaves it, without the namespace and its sockets. */
	if (kern_binds == NULL)
		kern_binds = calloc(FIB_MAX_VRFS, sizeof(*kern_binds));
	b = &kern_binds[vrf];
	b->table = 254;
	b->tap_ifindex = tap_ifindex;
	b->tap_iface = tap_iface;
	b->n_taps = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kern_routes_feed(vrf, data, size);
	/*
	 * Each input starts from no kernel route: what one leaves would make
	 * the next depend on it, and the map grow without end over a run.
	 */
	kern_routes_stop(vrf, false);
	dp_rcu_reclaim(); /* what the FIB freed, as the control tick does */
	return 0;
}
