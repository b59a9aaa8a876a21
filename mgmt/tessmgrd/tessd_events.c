/* SPDX-License-Identifier: BSD-3-Clause */
#include "tessd_events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "events.h"
#include "mgr.h"
#include "tessd_addr.h"
#include "tunnel.h"

#define RELAY_TIMEOUT_MS 10000 /* the subscription's answer: a hung tessd, as other calls */
#define RELAY_RETRY_MS   5000  /* after a subscription that failed */
#define RELAY_BACK_MS    1000  /* after one lost (a restarted tessd is soon back), a tunnel */
#define RELAY_LOOK_MS    1000  /* the routers and hosts looked at again */
#define RELAY_BATCH      256   /* events read from one tessd before the others' turn */

/* One tessd: the router and the host it is (either may be ""), and its subscription. */
struct relay {
	char key[MGR_TESSD_KEY_LEN]; /* its address in one spelling */
	char addr[MGR_URI_LEN];      /* as its first router or host gives it */
	char router[MGR_NAME_LEN], host[MGR_NAME_LEN];
	struct ctl_client c; /* c.fd < 0: not connected (no tunnel held) */
	int up;              /* -1: never tried; 0 down; 1 subscribed (told on each change) */
	int64_t retry_at;    /* not connected: when to try again */
	bool asking;         /* connected, the subscription's answer awaited until ask_by */
	json_int_t ask_id;
	int64_t ask_by;
	bool more; /* lines may wait in the client's buffer (poll would not tell) */
	bool kept; /* still some router's or host's (refresh) */
};

static struct relay *relays;
static uint32_t n_relays, n_sorted; /* relays[0..n_sorted) in key order: found by bsearch */
static struct mgr_tessd_ref *had;   /* the tessds as last matched; NULL: match again */
static int n_had;
static pthread_t thread;
static int wake[2] = { -1, -1 };
static bool started, stopping;
static uint32_t subscribed;
static uint64_t relayed, unreadable;

/* Its router and host, and fields (stolen; NULL: none): an event's object. */
static json_t *named(const struct relay *r, json_t *fields)
{
	json_t *o = fields ? fields : json_object();

	if (o && r->router[0])
		json_object_set_new(o, "router", json_string(r->router));
	if (o && r->host[0])
		json_object_set_new(o, "host", json_string(r->host));
	return o;
}

static void set_up(struct relay *r, int up, const char *why)
{
	if (r->up == up)
		return;
	r->up = up;
	if (up)
		mgr_event_emit("tessd.up", 0, named(r, json_pack("{s:s}", "tessd", r->addr)));
	else
		mgr_event_emit("tessd.down", 0,
			       named(r, json_pack("{s:s, s:s}", "tessd", r->addr, "error", why)));
}

static void disconnect(struct relay *r)
{
	if (r->c.fd < 0)
		return;
	ctl_client_close(&r->c);
	mgr_tunnel_release(r->addr);
	if (r->up == 1)
		__atomic_sub_fetch(&subscribed, 1, __ATOMIC_RELAXED);
	r->asking = r->more = false;
}

/* r's subscription failed or ended (why): tried again after ms. */
static void lost(struct relay *r, const char *why, int64_t ms)
{
	disconnect(r);
	r->retry_at = ctl_now_ms() + ms;
	set_up(r, 0, why);
}

/* The kinds asked of every tessd, or NULL (none configured, or no memory). */
static json_t *kinds_json(void)
{
	uint32_t n = mgr_conf.events.n_tessd_kinds;
	json_t *a = n ? json_array() : NULL;

	for (uint32_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(mgr_conf.events.tessd_kinds[i]));
	/* Never fewer: an empty list would be every kind to tessd. */
	if (a && json_array_size(a) != n) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

/*
 * Connects to r's tessd and asks for its events, without waiting: for neither an ssh tunnel
 * coming up (tried again soon) nor the answer (drain reads it), so that no tessd holds up the
 * others' events.
 */
static void subscribe(struct relay *r)
{
	struct ctl_error e = { 0 };
	char path[MGR_SOCK_PATH_LEN], err[256] = "out of memory";
	json_t *kinds = kinds_json(), *params;
	int rc = kinds ? mgr_tunnel_socket_now(r->addr, path, sizeof(path), err, sizeof(err))
		       : -ENOMEM;

	if (rc == -EINPROGRESS) {
		json_decref(kinds);
		r->retry_at = ctl_now_ms() + RELAY_BACK_MS;
		return;
	}
	if (rc == 0) {
		/* Not waiting for a full backlog either (a hung tessd). */
		rc = ctl_client_open(&r->c, path, 0, &e);
		params = rc == 0 ? json_pack("{s:O}", "kinds", kinds) : NULL;
		if (rc == 0 && params == NULL) {
			ctl_error_set(&e, ENOMEM, "", "out of memory");
			rc = -ENOMEM;
		}
		if (rc == 0)
			rc = ctl_client_send(&r->c, "events.subscribe", params, &r->ask_id, &e);
		/* Closed on us: tessd may have said why (too many clients), read as the answer. */
		if (rc == -EPIPE || rc == -ECONNRESET)
			rc = 0;
		if (rc < 0) {
			ctl_client_close(&r->c);
			mgr_tunnel_release(r->addr);
			snprintf(err, sizeof(err), "%s", e.message);
		}
	}
	json_decref(kinds);
	if (rc < 0) {
		r->retry_at = ctl_now_ms() + RELAY_RETRY_MS;
		set_up(r, 0, err);
		return;
	}
	r->asking = true;
	r->ask_by = ctl_now_ms() + RELAY_TIMEOUT_MS;
}

/* One event from r's tessd (stolen) to the provider's streams, as tessd.KIND. */
static void relay_one(const struct relay *r, json_t *ev)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));
	char name[EVENT_KIND_LEN + 8];

	if (kind == NULL || !json_is_object(ev)) { /* JSON, but no event: as a garbled line */
		__atomic_add_fetch(&unreadable, 1, __ATOMIC_RELAXED);
		json_decref(ev);
		return;
	}
	snprintf(name, sizeof(name), "tessd.%s", kind);
	/* tessmgrd stamps its own: the same second, give or take the relay. */
	json_object_del(ev, "event");
	json_object_del(ev, "time");
	__atomic_add_fetch(&relayed, 1, __ATOMIC_RELAXED); /* counted when a stream may see it */
	mgr_event_emit(name, 0, named(r, ev));
}

/*
 * What r's tessd sent: the subscription's answer, then its events, RELAY_BATCH at most (more:
 * the rest at the next turn), or the connection's end.
 */
static void drain(struct relay *r)
{
	struct ctl_error e = { 0 };
	json_t *ev;
	int rc;

	if (r->asking) {
		rc = ctl_client_answer(&r->c, r->ask_id, 0, &ev, &e);
		json_decref(ev);
		if (rc < 0)
			lost(r, e.message, RELAY_RETRY_MS);
		if (rc <= 0)
			return;
		r->asking = false;
		__atomic_add_fetch(&subscribed, 1, __ATOMIC_RELAXED);
		set_up(r, 1, "");
	}
	for (uint32_t n = 0; n < RELAY_BATCH; n++) {
		rc = ctl_client_next(&r->c, 0, &ev, &e);
		if (rc == 0) {
			r->more = false;
			ctl_linebuf_trim(&r->c.lb); /* a burst's buffer is not kept */
			return;
		}
		if (rc == -EBADMSG) { /* a line that is not JSON: skipped, counted */
			__atomic_add_fetch(&unreadable, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (rc < 0) {
			lost(r, e.message, RELAY_BACK_MS);
			return;
		}
		relay_one(r, ev);
	}
	r->more = true;
}

static int relay_cmp(const void *a, const void *b)
{
	return strcmp(((const struct relay *)a)->key, ((const struct relay *)b)->key);
}

/*
 * The tessd at w's address, added if new (NULL: no memory, or no key: an address that did
 * not parse): the sorted ones by bsearch, then those added since (few, but at the first look).
 */
static struct relay *relay_of(const struct mgr_tessd_ref *w)
{
	static struct relay k; /* only its key: the relay thread's alone */
	struct relay *r;

	if (!w->key[0])
		return NULL;
	snprintf(k.key, sizeof(k.key), "%s", w->key);
	if (n_sorted && (r = bsearch(&k, relays, n_sorted, sizeof(*relays), relay_cmp)))
		return r;
	for (uint32_t i = n_sorted; i < n_relays; i++)
		if (strcmp(relays[i].key, k.key) == 0)
			return &relays[i];
	struct relay *a = realloc(relays, (n_relays + 1) * sizeof(*a));
	if (a == NULL)
		return NULL;
	relays = a;
	r = &relays[n_relays++];
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", k.key);
	snprintf(r->addr, sizeof(r->addr), "%s", w->addr);
	r->c.fd = -1;
	r->up = -1;
	return r;
}

/* Whether a and b list the same routers and hosts with the same tessds. */
static bool same_refs(const struct mgr_tessd_ref *a, const struct mgr_tessd_ref *b, int na, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (a[i].id != b[i].id || a[i].router != b[i].router ||
		    strcmp(a[i].addr, b[i].addr) != 0 || strcmp(a[i].name, b[i].name) != 0)
			return false;
	return true;
}

/*
 * The relays as the routers and hosts are now: new tessds added, gone ones closed. Their
 * addresses are copied under mgr.lock and matched without it, only when they changed (a
 * thousand hosts looked at each second).
 */
static void refresh(void)
{
	struct mgr_tessd_ref *w = NULL;
	int n = 0;

	if (mgr_conf.events.n_tessd_kinds && (n = mgr_tessd_refs(&w)) < 0)
		return; /* no memory: as they were, until the next look */
	if (had && same_refs(w, had, n, n_had)) {
		free(w);
		return;
	}
	for (uint32_t i = 0; i < n_relays; i++) {
		relays[i].kept = false;
		relays[i].router[0] = relays[i].host[0] = '\0';
	}
	bool all = true;
	for (int i = 0; i < n; i++) {
		struct relay *r = relay_of(&w[i]);
		char *name = r ? (w[i].router ? r->router : r->host) : NULL;
		all &= r != NULL;
		if (name && !name[0]) /* the first router or host of the tessd names it */
			snprintf(name, MGR_NAME_LEN, "%s", w[i].name);
		if (r && !r->kept) /* as it is written now (its tunnel is found by any spelling) */
			snprintf(r->addr, sizeof(r->addr), "%s", w[i].addr);
		if (r)
			r->kept = true;
	}
	free(had);
	had = all ? w : NULL; /* one not added (no memory) is tried at the next look */
	n_had = n;
	if (!all)
		free(w);
	for (uint32_t i = 0; i < n_relays; i++) {
		struct relay *r = &relays[i];
		if (!r->kept) {
			disconnect(r);
			relays[i--] = relays[--n_relays];
		}
	}
	/* Indexes only (the poll set is built after): moving them is safe. */
	if (n_relays)
		qsort(relays, n_relays, sizeof(*relays), relay_cmp);
	n_sorted = n_relays;
}

static void *relay_main(void *arg)
{
	struct pollfd *pfd = NULL;
	uint32_t *at = NULL, n_alloc = 0;
	int64_t look_at = 0;

	(void)arg;
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		int64_t now = ctl_now_ms(), next = look_at;
		bool more = false;
		if (now >= look_at) {
			refresh();
			look_at = next = now + RELAY_LOOK_MS;
		}
		for (uint32_t i = 0; i < n_relays; i++) {
			struct relay *r = &relays[i];
			if (r->asking && r->ask_by <= now)
				lost(r, "tessd did not answer events.subscribe in time",
				     RELAY_RETRY_MS);
			if (r->c.fd < 0 && r->retry_at <= now)
				subscribe(r);
			if (r->c.fd < 0 && r->retry_at < next)
				next = r->retry_at;
			if (r->asking && r->ask_by < next)
				next = r->ask_by;
			more |= r->more;
		}
		if (n_alloc < n_relays + 1 || pfd == NULL || at == NULL) {
			struct pollfd *p = malloc((n_relays + 1) * sizeof(*p));
			uint32_t *a = malloc((n_relays + 1) * sizeof(*a));
			if (p == NULL ||
			    a == NULL) { /* no memory for the poll set: a while later */
				free(p);
				free(a);
				usleep(100 * 1000);
				continue;
			}
			free(pfd);
			free(at);
			pfd = p;
			at = a;
			n_alloc = n_relays + 1;
		}
		uint32_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = wake[0], .events = POLLIN };
		for (uint32_t i = 0; i < n_relays; i++)
			if (relays[i].c.fd >= 0) {
				at[n] = i;
				pfd[n++] =
					(struct pollfd){ .fd = relays[i].c.fd, .events = POLLIN };
			}
		now = ctl_now_ms();
		int wait = more || next <= now ? 0 : (int)(next - now);
		if (poll(pfd, n, wait) < 0) {
			if (errno != EINTR) /* (ENOMEM): not a busy loop */
				usleep(100 * 1000);
			continue;
		}
		for (uint32_t k = 1; k < n; k++)
			if (pfd[k].revents || relays[at[k]].more)
				drain(&relays[at[k]]);
	}
	for (uint32_t i = 0; i < n_relays; i++)
		disconnect(&relays[i]);
	free(relays);
	relays = NULL;
	free(had);
	had = NULL;
	n_relays = n_sorted = 0;
	free(pfd);
	free(at);
	return NULL;
}

int mgr_tessd_events_start(void)
{
	stopping = false;
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	int rc = pthread_create(&thread, NULL, relay_main, NULL);
	if (rc) {
		close(wake[0]);
		close(wake[1]);
		wake[0] = wake[1] = -1;
		return -rc;
	}
	started = true;
	return 0;
}

void mgr_tessd_events_stop(void)
{
	if (!started)
		return;
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	if (write(wake[1], "x", 1) < 0) {
		/* Full pipe: the thread wakes anyway. */
	}
	pthread_join(thread, NULL);
	close(wake[0]);
	close(wake[1]);
	wake[0] = wake[1] = -1;
	started = false;
}

void mgr_tessd_events_counts(uint32_t *n_subscribed, uint64_t *n_relayed, uint64_t *n_unreadable)
{
	*n_subscribed = __atomic_load_n(&subscribed, __ATOMIC_RELAXED);
	*n_relayed = __atomic_load_n(&relayed, __ATOMIC_RELAXED);
	*n_unreadable = __atomic_load_n(&unreadable, __ATOMIC_RELAXED);
}
