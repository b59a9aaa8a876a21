/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant networks: after a desktop moved, the switches forget where its MAC was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_priv.h"
#include "vswitch.h"
#include "tlog.h"

/*
 * One fdb.del to make: the tessd, the group (PE: the tenant's, by name; a host: its group of
 * the VLAN, looked up, as a host's group may have another name) and the MAC.
 */
struct forget {
	char socket[MGR_URI_LEN];
	char group[MGR_NAME_LEN]; /* "": the group of vlan */
	uint16_t vlan;
	char mac[18];
};

#define NET_MAX_PENDING 256 /* forgets that failed, retried at each tick */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct forget pending[NET_MAX_PENDING];
static uint32_t n_pending;

/* 0 when tessd does not hold the MAC in the group (any more, or never did). */
static int forget_one(const struct forget *f, char *err, size_t len)
{
	char group[MGR_NAME_LEN];
	json_t *res = NULL;
	bool down = false;
	int rc = 1;

	snprintf(group, sizeof(group), "%s", f->group);
	if (!group[0]) /* 0: a host with no group of the VLAN holds no MAC in it */
		rc = mgr_vswitch_find_group(f->socket, f->vlan, group, sizeof(group), err, len,
					    &down);
	if (rc == 1)
		rc = mgr_tessd_request(f->socket, "fdb.del",
				       json_pack("{s:s, s:s}", "group", group, "mac", f->mac), &res,
				       err, len, &down);
	json_decref(res);
	/* ENOENT from tessd: no such entry or group; from a socket that is not there: down. */
	return rc == -ENOENT && !down ? 0 : rc;
}

static void forget_or_queue(const struct forget *f)
{
	char err[512];

	if (forget_one(f, err, sizeof(err)) == 0) {
		mgr_count(net_fdb_forgets, 1);
		return;
	}
	mgr_count(net_fdb_forget_failed, 1);
	tlog(LOG_WARNING, NULL, "forgetting %s in group %s: %s (retried)", f->mac,
	     f->group[0] ? f->group : "of its VLAN", err);
	pthread_mutex_lock(&pending_lock);
	if (n_pending == NET_MAX_PENDING) /* the oldest goes: FDB ageing forgets it anyway */
		memmove(pending, pending + 1, --n_pending * sizeof(*pending));
	pending[n_pending++] = *f;
	pthread_mutex_unlock(&pending_lock);
}

void net_retry_forgets(void)
{
	struct forget *todo;
	uint32_t n;

	pthread_mutex_lock(&pending_lock);
	n = n_pending;
	todo = n ? malloc(n * sizeof(*todo)) : NULL;
	if (todo) {
		memcpy(todo, pending, n * sizeof(*todo));
		n_pending = 0;
	}
	pthread_mutex_unlock(&pending_lock);
	for (uint32_t i = 0; todo && i < n; i++)
		forget_or_queue(&todo[i]);
	free(todo);
}

uint32_t mgr_net_forgets_pending(void)
{
	pthread_mutex_lock(&pending_lock);
	uint32_t n = n_pending;
	pthread_mutex_unlock(&pending_lock);
	return n;
}

void mgr_net_desktop_moved(uint32_t tenant_id, uint32_t host_id, const char *mac)
{
	struct forget *f;
	uint32_t n = 0;

	pthread_mutex_lock(&mgr.lock);
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, tenant_id);
	const struct mgr_host *h = mgr_host_get(&mgr, host_id);
	f = calloc(mgr.n_routers + 1, sizeof(*f));
	for (uint32_t i = 0; f && t && i < mgr.n_routers; i++) {
		if (!net_serves(&t->spec, mgr.routers[i].spec.name))
			continue;
		snprintf(f[n].socket, sizeof(f[n].socket), "%s", mgr.routers[i].spec.tessd);
		snprintf(f[n].group, sizeof(f[n].group), "%s", t->spec.vlan_name);
		f[n].vlan = t->spec.vlan;
		snprintf(f[n++].mac, sizeof(f->mac), "%s", mac);
	}
	/* The new host may have learned the MAC on its uplink (from frames the PE flooded while
	 * the desktop was elsewhere): it would drop frames for it as sent back where they came. */
	if (f && t && h && h->spec.tessd[0]) {
		snprintf(f[n].socket, sizeof(f[n].socket), "%s", h->spec.tessd);
		f[n].vlan = t->spec.vlan;
		snprintf(f[n++].mac, sizeof(f->mac), "%s", mac);
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n; i++)
		forget_or_queue(&f[i]);
	free(f);
}

void net_forgets_clear(void)
{
	pthread_mutex_lock(&pending_lock);
	n_pending = 0;
	pthread_mutex_unlock(&pending_lock);
}
