/* SPDX-License-Identifier: BSD-3-Clause */
#include "console.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "session.h"
#include "ssh_cmd.h"
#include "store.h"
#include "tlog.h"
#include "users.h"
#include "ws.h"

const char *const console_type_names[] = { "vnc", "serial", NULL };

#define UPGRADE_WAIT_MS 10000 /* from a used ticket's 101 to its upgrade: else freed */

/*
 * The slots, max_sessions of them: tickets, upgrades on their way and live
 * consoles all count, so the limit holds whatever the clients do.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended = PTHREAD_COND_INITIALIZER;
static struct console *slots;
static uint32_t n_slots, next_id;
static bool stopping;

uint64_t console_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

int mgr_console_init(void)
{
	pthread_mutex_lock(&lock);
	free(slots);
	n_slots = mgr_conf.console.max_sessions;
	slots = calloc(n_slots, sizeof(*slots));
	stopping = false;
	pthread_mutex_unlock(&lock);
	return slots ? 0 : -ENOMEM;
}

unsigned mgr_console_live(void)
{
	unsigned n = 0;

	pthread_mutex_lock(&lock);
	for (uint32_t i = 0; i < n_slots; i++)
		n += slots[i].state == CONSOLE_LIVE;
	pthread_mutex_unlock(&lock);
	return n;
}

/* Tickets past their time and upgrades that never came free their slots (under lock). */
static void sweep_locked(uint64_t now)
{
	for (uint32_t i = 0; i < n_slots; i++) {
		struct console *k = &slots[i];
		if ((k->state == CONSOLE_TICKET || k->state == CONSOLE_PENDING) &&
		    now >= k->until_ms)
			explicit_bzero(k, sizeof(*k));
	}
}

static void audit(const struct console *k, const char *action, const char *result)
{
	char target[160];

	snprintf(target, sizeof(target), "desktop %s (%u)", k->desktop, k->desktop_id);
	pthread_mutex_lock(&mgr.lock);
	if (mgr_store_audit(&(struct mgr_audit){ .time = time(NULL),
						 .principal = k->who.principal,
						 .role = k->who.role,
						 .tenant = k->tenant,
						 .action = action,
						 .target = target,
						 .result = result }) < 0)
		tlog(LOG_ERR, NULL, "cannot write the audit log");
	pthread_mutex_unlock(&mgr.lock);
}

/* ---- POST /v1/desktops/ID/console ---- */

struct console_req {
	uint32_t type;
};
static const struct cfg_field console_req_fields[] = {
	CFG_FIELD(
		struct console_req, type, "type",
		(&(const struct cfg_node){
			.type = CFG_ENUM, .str = { .max_len = 7, .choices = console_type_names } }),
		false, "\"vnc\""),
	{ 0 },
};
static const struct cfg_node console_req_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = console_req_fields, .size = sizeof(struct console_req) },
};

bool console_local_uri(const char *uri)
{
	return strncmp(uri, "qemu:///", 8) == 0 || strncmp(uri, "qemu+unix://", 12) == 0;
}

/* Whether c sees d (under mgr.lock): the provider any, a tenant admin its tenant's, a user
 * those assigned to it. */
static bool visible_locked(const struct api_ctx *c, const struct mgr_desktop *d)
{
	if (c->provider)
		return true;
	return d->tenant_id == c->tenant_id &&
	       (!c->user || mgr_user_assigned_locked(c->who->user_id, d->id));
}

/* Whether the principal a console is bound to still sees d (under mgr.lock): a user
 * unassigned, deleted or given a new password, or a tenant gone, ends its tickets and
 * consoles. */
static bool still_sees_locked(const struct mgr_token *w, const struct mgr_desktop *d)
{
	const struct mgr_tenant *t;

	if (strcmp(w->role, "provider") == 0)
		return true;
	t = mgr_tenant_by_name(&mgr, w->tenant);
	if (t == NULL || t->id != d->tenant_id)
		return false;
	return strcmp(w->role, "user") != 0 || (mgr_user_current_locked(w->user_id, w->user_gen) &&
						mgr_user_assigned_locked(w->user_id, d->id));
}

/* Whether two principals are one (its name, role, tenant and user). */
static bool same_who(const struct mgr_token *a, const struct mgr_token *b)
{
	return strcmp(a->principal, b->principal) == 0 && strcmp(a->role, b->role) == 0 &&
	       strcmp(a->tenant, b->tenant) == 0 && a->user_id == b->user_id;
}

/* What stops d's console now (under mgr.lock), 0 if none. */
static unsigned refuse_locked(const struct mgr_desktop *d, uint8_t type, struct mgr_err *e)
{
	const struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
	struct mgr_tessd_addr a;

	if (d->state != MGR_DESK_RUNNING || h == NULL)
		mgr_err_set(e, 409, "", "desktop %s is not running", d->name);
	else if (h->spec.test_host.sockets > 0)
		mgr_err_set(e, 409, "", "desktop %s runs on test-driver host %s: it has no console",
			    d->name, h->spec.name);
	else if (type == CONSOLE_VNC && !console_local_uri(h->spec.uri) &&
		 !mgr_ssh_of_libvirt_uri(h->spec.uri, &a))
		mgr_err_set(
			e, 409, "",
			"desktop %s runs on host %s, reached over %s: its VNC console is served "
			"for hosts of a local or qemu+ssh:// libvirt URI only (its serial "
			"console is)",
			d->name, h->spec.name, h->spec.uri);
	return e->status;
}

void api_desktop_console(struct api_ctx *c, uint32_t id)
{
	struct console_req req;
	struct mgr_err e = { 0 };
	struct console k = { .state = CONSOLE_TICKET };
	char ticket[MGR_SESSION_LEN];
	uint64_t now = console_now_ms();

	if (!api_decode(c, &console_req_schema, &req))
		return;
	pthread_mutex_lock(&mgr.lock);
	struct mgr_desktop *d = mgr_desktop_get(&mgr, id);
	const struct mgr_tenant *t = d ? mgr_tenant_get(&mgr, d->tenant_id) : NULL;
	if (d == NULL || !visible_locked(c, d)) {
		mgr_err_set(&e, 404, "", "no desktop %u", id);
	} else if (!refuse_locked(d, (uint8_t)req.type, &e)) {
		k.type = (uint8_t)req.type;
		k.desktop_id = d->id;
		k.host_id = d->host_id;
		snprintf(k.uri, sizeof(k.uri), "%s", mgr_host_get(&mgr, d->host_id)->spec.uri);
		snprintf(k.desktop, sizeof(k.desktop), "%s", d->name);
		snprintf(k.uuid, sizeof(k.uuid), "%s", d->uuid);
		snprintf(k.tenant, sizeof(k.tenant), "%s", t ? t->spec.name : "");
		snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s", k.tenant);
	}
	pthread_mutex_unlock(&mgr.lock);
	if (e.status) {
		api_error(c, &e);
		return;
	}
	if (mgr_token_new(ticket, sizeof(ticket)) < 0) {
		http_error(c->out, 503, "", "no random source for a ticket");
		return;
	}
	mgr_token_digest(ticket, k.digest);
	k.who = *c->who;
	if (c->session && c->r->cookie) {
		mgr_token_digest(c->r->cookie, k.session);
		k.has_session = true;
	}
	k.until_ms = now + (uint64_t)mgr_conf.console.ticket_ttl_sec * 1000;
	pthread_mutex_lock(&lock);
	sweep_locked(now);
	uint32_t i = 0, max = n_slots, mine = 0, free_at = n_slots;
	for (; i < n_slots; i++) {
		if (slots[i].state == CONSOLE_FREE)
			free_at = free_at < i ? free_at : i;
		else
			mine += same_who(&slots[i].who, &k.who);
	}
	/* One principal's own first: it must not fill max_sessions for everyone else. */
	bool over = mine >= mgr_conf.console.max_per_principal;
	bool full = free_at == n_slots || stopping;
	if (!over && !full)
		slots[free_at] = k;
	pthread_mutex_unlock(&lock);
	explicit_bzero(&k, sizeof(k));
	if (over || full) {
		explicit_bzero(ticket, sizeof(ticket));
		if (console_stopping())
			http_error(c->out, 503, "", "tessmgrd is stopping");
		else if (over)
			http_error(c->out, 429, "",
				   "%s has %u console tickets and consoles at once already "
				   "(console.max_per_principal): close one or let a ticket expire",
				   c->who->principal, mine);
		else
			http_error(c->out, 503, "",
				   "%u console tickets and consoles at once already "
				   "(console.max_sessions)",
				   max);
		c->out->retry_after = mgr_conf.console.ticket_ttl_sec;
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "/v1/console/%s", ticket);
	api_ok(c, 201,
	       json_pack("{s:s, s:s, s:s, s:i}", "ticket", ticket, "path", path, "type",
			 console_type_names[req.type], "expires_sec",
			 (int)mgr_conf.console.ticket_ttl_sec));
	explicit_bzero(ticket, sizeof(ticket));
	explicit_bzero(path, sizeof(path));
}

/* ---- GET /v1/console/TICKET ---- */

/* Whether the request is who the ticket was given to (and from its session, if it was). */
static bool same_principal(const struct api_ctx *c, const struct console *k)
{
	if (!same_who(c->who, &k->who))
		return false;
	if (!k->has_session)
		return true;
	uint8_t d[MGR_TOKEN_DIGEST];
	if (c->session == NULL || c->r->cookie == NULL)
		return false;
	mgr_token_digest(c->r->cookie, d);
	return mgr_token_equal(d, k->session);
}

/* MHD's call once the 101 is sent (fd < 0: it will not be): the console goes live. */
static void upgraded(void *arg, int fd, const char *extra, size_t n, void *handle)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	struct console *k = NULL;
	pthread_t th;
	pthread_attr_t at;
	char *copy = fd < 0 ? NULL : malloc(n ? n : 1);

	if (copy && n)
		memcpy(copy, extra, n);
	pthread_mutex_lock(&lock);
	for (uint32_t i = 0; i < n_slots && k == NULL; i++)
		if (slots[i].state == CONSOLE_PENDING && slots[i].id == id)
			k = &slots[i];
	/* After mgr_console_stop_all nothing goes live: it would outlive http_stop. */
	if (k && (fd < 0 || copy == NULL || stopping)) {
		explicit_bzero(k, sizeof(*k)); /* no console comes of it */
		pthread_cond_broadcast(&ended);
		k = NULL;
	}
	if (k) {
		k->extra = copy;
		copy = NULL;
		k->n_extra = n;
		k->fd = fd;
		k->handle = handle;
		k->state = CONSOLE_LIVE;
		k->started_ms = k->last_input_ms = console_now_ms();
	}
	pthread_mutex_unlock(&lock);
	free(copy);
	if (fd < 0)
		return;
	if (k == NULL) {
		http_upgrade_close(handle); /* too late (or no memory): nothing relays it */
		return;
	}
	audit(k, "console open", console_type_names[k->type]);
	/* Detached: console_done frees its slot, mgr_console_stop_all waits for them all. */
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, console_relay, k) != 0)
		console_done(k, WS_CLOSE_INTERNAL, "no thread for the console");
	pthread_attr_destroy(&at);
}

/*
 * The WebSocket handshake's request line and headers; false with a 400 (or 426) answered.
 * Checked before the ticket is looked at: a request that cannot become a WebSocket (an
 * HTTP/1.0 one, which libmicrohttpd refuses to upgrade) must not use it up.
 */
static bool handshake(struct api_ctx *c, char accept[WS_ACCEPT_LEN])
{
	static const char *const version_13[] = { "Sec-WebSocket-Version", "13", NULL };
	const struct http_req *r = c->r;
	const char *ver = http_header(r, "Sec-WebSocket-Version");

	if (!ws_has_token(http_header(r, "Upgrade"), "websocket", true) ||
	    !ws_has_token(http_header(r, "Connection"), "upgrade", true)) {
		http_error(c->out, 400, "",
			   "a console is a WebSocket: Upgrade: websocket is needed");
		return false;
	}
	if (r->version == NULL || strcmp(r->version, "HTTP/1.1") != 0) {
		http_error(c->out, 400, "", "a WebSocket upgrade is an HTTP/1.1 request, not %s",
			   r->version ? r->version : "in-process");
		return false;
	}
	if (ver == NULL) {
		http_error(c->out, 400, "", "a WebSocket upgrade needs Sec-WebSocket-Version");
		return false;
	}
	if (strcmp(ver, "13") != 0) {
		/* RFC 6455 4.4: 426, and the versions served. */
		http_error(c->out, 426, "", "WebSocket version 13 only");
		c->out->headers = version_13;
		return false;
	}
	if (ws_accept_key(http_header(r, "Sec-WebSocket-Key"), accept) < 0) {
		http_error(c->out, 400, "", "a malformed Sec-WebSocket-Key");
		return false;
	}
	return true;
}

/* "Name\0value\0...\0" into the answer's upgrade headers. */
static void add_header(struct http_resp *out, size_t *at, const char *name, const char *value)
{
	int n = snprintf(out->upgrade_headers + *at, sizeof(out->upgrade_headers) - *at, "%s%c%s",
			 name, '\0', value);
	if (n > 0 && *at + (size_t)n + 2 < sizeof(out->upgrade_headers))
		*at += (size_t)n + 1;
	out->upgrade_headers[*at] = '\0';
}

void api_console(struct api_ctx *c)
{
	char accept[WS_ACCEPT_LEN];
	uint8_t digest[MGR_TOKEN_DIGEST];
	struct console *k = NULL;
	struct mgr_err e = { 0 };
	uint64_t now = console_now_ms();
	uint32_t id = 0;

	if (c->n_seg != 2) {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
		return;
	}
	if (strcmp(c->r->method, "GET") != 0)
		return; /* 405 */
	if (!handshake(c, accept))
		return;
	if (http_cross_site(c->r)) {
		http_error(c->out, 403, "",
			   "a console is opened from this server's own pages only");
		return;
	}
	mgr_token_digest(c->seg[1], digest);
	pthread_mutex_lock(&lock);
	sweep_locked(now);
	for (uint32_t i = 0; i < n_slots && k == NULL; i++)
		if (slots[i].state == CONSOLE_TICKET && mgr_token_equal(slots[i].digest, digest))
			k = &slots[i];
	if (stopping) {
		/* No new console once they are being closed: MHD cannot stop with one open. */
		mgr_err_set(&e, 503, "", "tessmgrd is stopping");
	} else if (k == NULL) {
		mgr_err_set(&e, 404, "", "no such console ticket (unknown, used or expired)");
	} else if (!same_principal(c, k)) {
		mgr_err_set(&e, 403, "", "the ticket was given to another principal or session");
	} else {
		/* Used: from here on it is an upgrade on its way, for UPGRADE_WAIT_MS at most. */
		k->state = CONSOLE_PENDING;
		memset(k->digest, 0, sizeof(k->digest));
		if (++next_id == 0)
			next_id = 1;
		k->id = id = next_id;
		k->until_ms = now + UPGRADE_WAIT_MS;
	}
	struct console copy = k ? *k : (struct console){ 0 };
	pthread_mutex_unlock(&lock);
	if (e.status == 0) {
		/* The desktop may have stopped since the ticket. */
		pthread_mutex_lock(&mgr.lock);
		struct mgr_desktop *d = mgr_desktop_get(&mgr, copy.desktop_id);
		if (d == NULL || !still_sees_locked(&copy.who, d))
			mgr_err_set(&e, 404, "",
				    "no such console ticket (unknown, used or expired)");
		else if (d->host_id != copy.host_id)
			mgr_err_set(&e, 409, "", "desktop %s is not running", copy.desktop);
		else
			refuse_locked(d, copy.type, &e);
		pthread_mutex_unlock(&mgr.lock);
		if (e.status)
			upgraded((void *)(uintptr_t)id, -1, NULL, 0, NULL); /* its slot goes */
	}
	explicit_bzero(&copy, sizeof(copy));
	if (e.status) {
		api_error(c, &e);
		return;
	}
	size_t at = 0;
	add_header(c->out, &at, "Upgrade", "websocket");
	add_header(c->out, &at, "Sec-WebSocket-Accept", accept);
	/* noVNC offers "binary" (and reads binary frames whatever is chosen). */
	if (ws_has_token(http_header(c->r, "Sec-WebSocket-Protocol"), "binary", false))
		add_header(c->out, &at, "Sec-WebSocket-Protocol", "binary");
	c->out->status = 101;
	c->out->upgrade = upgraded;
	c->out->upgrade_arg = (void *)(uintptr_t)id;
}

/* ---- the life of a live console ---- */

int console_check(const struct console *k, char *reason, size_t len)
{
	uint64_t now = console_now_ms();
	int code = 0;

	if (console_stopping()) {
		snprintf(reason, len, "tessmgrd is stopping");
		return WS_CLOSE_GOING_AWAY;
	}
	/*
	 * Typing in the console is using its browser session (console review): input since
	 * the last check (a second ago) starts the session's idle time again, not its max.
	 */
	if (k->has_session &&
	    !mgr_session_alive(k->session, mgr_mono_sec(), now - k->last_input_ms < 2000)) {
		snprintf(reason, len, "the session ended");
		return WS_CLOSE_NORMAL;
	}
	if (now - k->last_input_ms >= (uint64_t)mgr_conf.console.idle_sec * 1000) {
		snprintf(reason, len, "idle for %u s", mgr_conf.console.idle_sec);
		return WS_CLOSE_NORMAL;
	}
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_desktop *d = mgr_desktop_get(&mgr, k->desktop_id);
	if (d == NULL || d->state == MGR_DESK_DELETING) {
		snprintf(reason, len, "the desktop was deleted");
		code = WS_CLOSE_NORMAL;
	} else if (!still_sees_locked(&k->who, d)) {
		snprintf(reason, len, "no longer allowed to use the desktop");
		code = WS_CLOSE_NORMAL;
	} else if (d->state == MGR_DESK_MIGRATING || d->host_id != k->host_id) {
		snprintf(reason, len, "the desktop moved");
		code = WS_CLOSE_GOING_AWAY;
	} else if (d->state != MGR_DESK_RUNNING) {
		snprintf(reason, len, "the desktop stopped");
		code = WS_CLOSE_NORMAL;
	}
	pthread_mutex_unlock(&mgr.lock);
	return code;
}

bool console_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

void console_done(struct console *k, int code, const char *reason)
{
	char result[256];
	void *handle;

	pthread_mutex_lock(&lock);
	handle = k->handle;
	k->fd = -1; /* MHD's, and reused once closed */
	pthread_mutex_unlock(&lock);
	http_upgrade_close(handle);
	snprintf(result, sizeof(result), "%s %.1f s, in %llu bytes, out %llu bytes, closed %d %s",
		 console_type_names[k->type], (double)(console_now_ms() - k->started_ms) / 1000,
		 (unsigned long long)k->bytes_in, (unsigned long long)k->bytes_out, code, reason);
	audit(k, "console close", result);
	pthread_mutex_lock(&lock);
	free(k->extra);
	explicit_bzero(k, sizeof(*k));
	pthread_cond_broadcast(&ended);
	pthread_mutex_unlock(&lock);
}

/*
 * No new ticket, upgrade or console from here on; every live console sees stopping within a
 * second (its poll's timeout, write_all's slices: its socket is not shut, under HTTPS that
 * would lose its close frame in MHD's forwarding) and every console and upgrade on its way
 * is waited for, without a time limit: a relay still running when http_stop frees MHD's
 * connections would write into a reused descriptor, act on a freed handle and audit into a
 * closed store. Upgrades whose 101 never went out count until their own deadline (MHD calls
 * nothing back for them).
 */
void mgr_console_stop_all(void)
{
	pthread_mutex_lock(&lock);
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	for (;;) {
		uint64_t now = console_now_ms();
		uint32_t busy = 0;
		for (uint32_t i = 0; i < n_slots; i++) {
			struct console *k = &slots[i];
			if (k->state == CONSOLE_TICKET)
				explicit_bzero(k, sizeof(*k)); /* refused anyway */
			else if (k->state == CONSOLE_PENDING && now >= k->until_ms)
				explicit_bzero(k, sizeof(*k));
			else if (k->state != CONSOLE_FREE)
				busy++;
		}
		if (busy == 0)
			break;
		/* A second at most: pending upgrades end by the clock, not by a broadcast. */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&ended, &lock, &until);
	}
	pthread_mutex_unlock(&lock);
}
