/* SPDX-License-Identifier: BSD-3-Clause */
#include "host_tessd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr.h"
#include "ticker.h"
#include "vswitch.h"
#include "tlog.h"

/* port_capacity.vhost.KEY of a status answer, or -1 (a tessd that does not report it). */
static json_int_t vhost_num(json_t *st, const char *key)
{
	json_t *v = json_object_get(json_object_get(json_object_get(st, "port_capacity"), "vhost"),
				    key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/*
 * The host's desktop ports tessd's answer surely took into account: not those of desktops
 * being created, deleted or moved, whose port may or may not have been there. They count
 * against the room until the next look (mgr_host_tessd_room): a port counted twice for a
 * while, never a port tessd cannot open.
 */
static uint32_t settled_ports(const struct mgr_host *h)
{
	uint32_t n = h->ports_used;

	for (uint32_t i = 0; i < mgr.n_desktops; i++) {
		const struct mgr_desktop *d = mgr.desktops[i];
		if (d->host_id == h->id && n &&
		    (d->state == MGR_DESK_CREATING || d->state == MGR_DESK_DELETING ||
		     d->state == MGR_DESK_MIGRATING))
			n--;
	}
	return n;
}

void mgr_host_tessd_check(uint32_t host_id)
{
	char addr[MGR_URI_LEN], key[MGR_TESSD_KEY_LEN];
	char err[sizeof(((struct mgr_host *)0)->tessd_down_reason)] = "";
	struct mgr_host *h;
	json_t *st = NULL;
	bool said_up = false;
	int rc;

	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	snprintf(addr, sizeof(addr), "%s", h ? h->spec.tessd : "");
	snprintf(key, sizeof(key), "%s", h ? h->tessd_key : "");
	pthread_mutex_unlock(&mgr.lock);
	if (!addr[0])
		return;
	/* A unix socket that is gone or refuses fails at once; an ssh tunnel that is down is
	 * tried for ssh.connect_timeout_sec; a tessd that never answers, the client's 10 s. */
	rc = mgr_tessd_call(addr, "status", NULL, &st, err, sizeof(err));
	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	/* Not a host given another tessd meanwhile: that one's is looked at next. */
	if (h && strcmp(h->tessd_key, key) == 0) {
		bool was = h->tessd_seen && h->tessd_up;
		said_up = was || !h->tessd_seen; /* logged once per change */
		h->tessd_seen = true;
		h->tessd_up = rc == 0;
		snprintf(h->tessd_down_reason, sizeof(h->tessd_down_reason), "%s",
			 rc == 0 ? "" : err);
		if (rc < 0 && was)
			h->tessd_downs++;
		if (rc == 0) {
			h->tessd_max = vhost_num(st, "max");
			h->tessd_used = vhost_num(st, "used");
			h->tessd_free = vhost_num(st, "free");
			h->tessd_ports_then = settled_ports(h);
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	if (rc < 0 && said_up)
		tlog(LOG_WARNING, TLOG_F(.host = host_id), "host %u: its tessd does not answer: %s",
		     host_id, err);
	json_decref(st);
}

uint32_t mgr_host_tessd_room(const struct mgr_host *h)
{
	int64_t room;

	if (!h->spec.tessd[0] || !h->tessd_seen || !h->tessd_up || h->tessd_free < 0)
		return UINT32_MAX;
	/* Desktops placed since the look (or in flight then) have their port there, or soon;
	 * those deleted since freed theirs. */
	room = (int64_t)h->tessd_free - ((int64_t)h->ports_used - (int64_t)h->tessd_ports_then);
	return room < 0 ? 0 : (uint32_t)room;
}

json_t *mgr_host_tessd_json(const struct mgr_host *h)
{
	json_t *o;

	if (!h->spec.tessd[0])
		return NULL;
	o = json_pack("{s:b, s:b}", "checked", h->tessd_seen, "up", h->tessd_seen && h->tessd_up);
	if (h->tessd_seen && !h->tessd_up)
		json_object_set_new(o, "down_reason", json_string(h->tessd_down_reason));
	json_object_set_new(o, "downs", json_integer(h->tessd_downs));
	if (h->tessd_seen && h->tessd_up && h->tessd_free >= 0) {
		uint32_t room = mgr_host_tessd_room(h);
		json_object_set_new(o, "vhost_ports",
				    json_pack("{s:i, s:i, s:i}", "max", (int)h->tessd_max, "used",
					      (int)h->tessd_used, "free", (int)h->tessd_free));
		json_object_set_new(o, "ports_free", json_integer(room));
	}
	return o;
}

static struct mgr_ticker ticker;

static void tick(void)
{
	uint32_t *ids, n = 0;

	pthread_mutex_lock(&mgr.lock);
	ids = calloc(mgr.n_hosts + 1, sizeof(*ids));
	for (uint32_t i = 0; ids && i < mgr.n_hosts; i++)
		if (mgr.hosts[i]->spec.tessd[0])
			ids[n++] = mgr.hosts[i]->id;
	pthread_mutex_unlock(&mgr.lock);
	/* By id, without mgr.lock: a host deleted meanwhile is skipped. */
	for (uint32_t i = 0; i < n; i++)
		mgr_host_tessd_check(ids[i]);
	free(ids);
}

int mgr_host_tessd_start(void)
{
	return mgr_ticker_start(&ticker, &mgr_conf.libvirt.health_sec, tick);
}

void mgr_host_tessd_stop(void)
{
	mgr_ticker_stop(&ticker);
}
