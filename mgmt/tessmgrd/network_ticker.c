/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant networks: at each tick, a tessd that restarted or came back is repaired. */
#include <stdlib.h>
#include <string.h>

#include "network_priv.h"
#include "tessd_addr.h"
#include "ticker.h"
#include "vswitch.h"

static struct mgr_ticker ticker;

/* What the last tick saw of a router's or host's tessd. */
struct seen {
	char key[MGR_TESSD_KEY_LEN];
	uint32_t id;
	bool router;
	json_int_t pid; /* 0: did not answer; -1: its repair did not complete */
	bool repair;    /* found new at this tick */
};
static struct seen *seen;
static uint32_t n_seen;

/*
 * The last tick's look at the router's or host's tessd, found from *at on (the lists come
 * in the same order tick after tick), or NULL. By router or host, not by address: a tessd
 * both a router and a host have is repaired as each.
 */
static const struct seen *seen_of(const struct mgr_tessd_ref *p, uint32_t *at)
{
	for (uint32_t k = 0; k < n_seen; k++) {
		const struct seen *s = &seen[(*at + k) % n_seen];
		if (s->id == p->id && s->router == p->router) {
			*at = (*at + k + 1) % n_seen;
			return s;
		}
	}
	return NULL;
}

/* Looks at its tessd: now->repair if new since the last look (restarted, back, moved, or
 * first seen). */
static void look(const struct mgr_tessd_ref *p, struct seen *now, uint32_t *at)
{
	const struct seen *was = seen_of(p, at);
	json_t *st = NULL;
	char err[256];

	*now = (struct seen){ .id = p->id, .router = p->router };
	snprintf(now->key, sizeof(now->key), "%s", p->key);
	if (mgr_tessd_call(p->addr, "status", NULL, &st, err, sizeof(err)) == 0)
		now->pid = json_integer_value(json_object_get(st, "pid"));
	json_decref(st);
	now->repair = now->pid != 0 &&
		      (was == NULL || now->pid != was->pid || strcmp(now->key, was->key) != 0);
}

/* A repair that did not complete is tried again at the next tick. */
static void repaired_or_retry(json_t *r, struct seen *now)
{
	if (json_object_get(r, "error") || json_integer_value(json_object_get(r, "repair_failed")))
		now->pid = -1;
	json_decref(r);
}

/* The tessds are asked their status, and those found new compared and repaired, without
 * mgr.lock (one that hangs holds up no request). */
static void tick(void)
{
	struct mgr_tessd_ref *p;
	int n = mgr_tessd_refs(&p);
	struct seen *now = calloc(n > 0 ? (size_t)n : 1, sizeof(*now));
	uint32_t at = 0;
	bool any = false;

	net_retry_forgets();
	net_retry_reservations();
	if (n < 0 || now == NULL) { /* no memory: the next tick */
		free(now);
		free(p);
		return;
	}
	for (int i = 0; i < n; i++) {
		look(&p[i], &now[i], &at);
		any |= now[i].repair;
	}
	if (any) {
		mgr_net_serialize(true);
		for (int i = 0; i < n; i++) {
			struct net_look l = { 0 };
			if (!now[i].repair)
				continue;
			pthread_mutex_lock(&mgr.lock);
			if (p[i].router) {
				const struct mgr_router *r = mgr_router_get(&mgr, p[i].id);
				if (r && strcmp(r->tessd_key, p[i].key) == 0)
					net_look_router_locked(&l, r);
			} else {
				const struct mgr_host *h = mgr_host_get(&mgr, p[i].id);
				if (h && strcmp(h->tessd_key, p[i].key) == 0)
					net_look_host_locked(&l, h);
			}
			pthread_mutex_unlock(&mgr.lock);
			if (l.adds) /* compared and repaired without mgr.lock, as the API's */
				repaired_or_retry(net_look_reconcile(&l, true), &now[i]);
			else /* moved to another tessd, or gone, meanwhile: looked at again */
				now[i].pid = -1;
			net_look_free(&l);
		}
		mgr_net_serialize(false);
	}
	/* Routers and hosts deleted since are forgotten with their looks. */
	free(seen);
	seen = now;
	n_seen = (uint32_t)n;
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
