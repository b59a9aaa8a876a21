/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant networks: at each tick, a tessd that restarted or came back is repaired. */
#include <stdlib.h>
#include <string.h>

#include "network_priv.h"
#include "ticker.h"
#include "vswitch.h"

static struct mgr_ticker ticker;

struct seen {
	char socket[MGR_URI_LEN]; /* the tessd's address */
	json_int_t pid;           /* 0: did not answer */
};
static struct seen *seen;
static uint32_t n_seen;

/* Whether tessd at socket is new since the last look (restarted, back, or first seen). */
static bool is_new(const char *socket)
{
	json_t *st = NULL;
	char err[256];
	json_int_t pid = 0;
	struct seen *s = NULL;

	if (mgr_tessd_call(socket, "status", NULL, &st, err, sizeof(err)) == 0)
		pid = json_integer_value(json_object_get(st, "pid"));
	json_decref(st);
	for (uint32_t i = 0; i < n_seen && s == NULL; i++)
		if (strcmp(seen[i].socket, socket) == 0)
			s = &seen[i];
	if (s == NULL) {
		struct seen *a = realloc(seen, (n_seen + 1) * sizeof(*a));
		if (a == NULL)
			return false;
		seen = a;
		s = &a[n_seen++];
		snprintf(s->socket, sizeof(s->socket), "%s", socket);
		s->pid = -1;
	}
	bool changed = pid != 0 && pid != s->pid;
	s->pid = pid;
	return changed;
}

/* A repair that did not complete is tried again at the next tick. */
static void forget(const char *socket)
{
	for (uint32_t i = 0; i < n_seen; i++)
		if (strcmp(seen[i].socket, socket) == 0)
			seen[i].pid = -1;
}

static void repaired_or_retry(json_t *r, const char *socket)
{
	if (json_object_get(r, "error") || json_integer_value(json_object_get(r, "repair_failed")))
		forget(socket);
	json_decref(r);
}

/* The tessds are asked their status, and those found new compared and repaired, without
 * mgr.lock (one that hangs holds up no request). */
static void tick(void)
{
	struct mgr_tessd_ref *p;
	int n = mgr_tessd_refs(&p);
	bool *repair = calloc(n > 0 ? (size_t)n : 1, sizeof(*repair)), any = false;

	if (repair == NULL)
		n = 0; /* no memory: the tessds are looked at at the next tick */
	net_retry_forgets();
	net_retry_reservations();
	for (int i = 0; i < n; i++)
		any |= repair[i] = is_new(p[i].addr);
	if (any) {
		mgr_net_serialize(true);
		for (int i = 0; i < n; i++) {
			struct net_look l = { 0 };
			if (!repair[i])
				continue;
			pthread_mutex_lock(&mgr.lock);
			if (p[i].router) {
				const struct mgr_router *r = mgr_router_get(&mgr, p[i].id);
				if (r && strcmp(r->spec.tessd, p[i].addr) == 0)
					net_look_router_locked(&l, r);
			} else {
				const struct mgr_host *h = mgr_host_get(&mgr, p[i].id);
				if (h && strcmp(h->spec.tessd, p[i].addr) == 0)
					net_look_host_locked(&l, h);
			}
			pthread_mutex_unlock(&mgr.lock);
			if (l.adds) /* compared and repaired without mgr.lock, as the API's */
				repaired_or_retry(net_look_reconcile(&l, true), p[i].addr);
			net_look_free(&l);
		}
		mgr_net_serialize(false);
	}
	free(repair);
	free(p);
}

int mgr_net_start(void)
{
	return mgr_ticker_start(&ticker, &mgr_conf.libvirt.health_sec, tick);
}

void mgr_net_stop(void)
{
	mgr_ticker_stop(&ticker);
	free(seen);
	seen = NULL;
	n_seen = 0;
	net_forgets_clear();
	net_reservations_clear();
}
