/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Each subscriber of GET /v1/events holds a bounded buffer of lines that
 * emitters append to under one mutex; its connection's thread (libmicrohttpd
 * runs one per connection) waits for them and writes them as a chunked
 * answer. A buffer that would pass MGR_EVENTS_BUF misses the event: an
 * emitter (a job worker, the health checker) never waits for a reader. An
 * empty line every MGR_EVENTS_BEAT_SEC keeps the connection alive and finds
 * a client that left.
 *
 * The MGR_EVENTS_MAX streams are shared: a tenant token holds at most
 * MGR_EVENTS_PER_TOKEN of them, and tenants' streams together leave
 * MGR_EVENTS_PROVIDER_KEPT for provider tokens, so no tenant keeps the
 * provider's monitor out.
 */
#include "api.h"
#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "byteq.h"
#include "event_proto.h"
#include "fault.h"
#include "mgr.h"
#include "session.h"
#include "store.h"
#include "token.h"

#define MGR_EVENTS_MAX      16
#define MGR_EVENTS_BUF      (256u << 10)
#define MGR_EVENTS_BEAT_SEC 5
/* A tenant token's streams (a few terminals), and the slots tenants never take. */
#define MGR_EVENTS_PER_TOKEN     4
#define MGR_EVENTS_PROVIDER_KEPT 4

struct sub {
	uint32_t tenant_id;                /* 0: the provider's, all events */
	uint64_t tokens_gen;               /* the token file's generation it was opened under */
	uint8_t digest[MGR_TOKEN_DIGEST];  /* its token's: the per-token limit */
	bool ended;                        /* its tenant was deleted */
	bool by_session;                   /* opened with a session cookie: */
	uint8_t session[MGR_TOKEN_DIGEST]; /* that cookie's digest (never the cookie) */
	struct byteq q;                    /* lines not yet read by libmicrohttpd */
	uint64_t dropped;
	struct sub *next;
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond; /* on CLOCK_MONOTONIC: a wall clock step does not stall a beat */
static pthread_once_t ev_once = PTHREAD_ONCE_INIT;
static struct sub *subs;
static unsigned n_subs, n_tenant_subs;
static bool stopping;
static uint64_t dropped_total;

static void ev_cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&ev_cond, &a);
	pthread_condattr_destroy(&a);
}

/* One line of ev (stolen), stamped with kind: NULL without memory. */
static char *line_of(json_t *ev, const char *kind)
{
	char *line;

	if (ev == NULL)
		return NULL;
	event_stamp(ev, kind);
	line = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return line;
}

/*
 * split: tenants' streams get tenant_fields' line (stolen), or miss the event (counted)
 * when it could not be made: never the provider's line instead.
 */
static void emit(const char *kind, uint32_t tenant_id, json_t *fields, bool split,
		 json_t *tenant_fields)
{
	json_t *ev = fields ? fields : json_object();
	char *line, *tline = NULL;

	pthread_once(&ev_once, ev_cond_init);
	/* Emptied as json_pack fails (a test's stand-in: a cut UTF-8 character in a text). */
	if (split && MGR_FAULT("events.split", NULL, 0) < 0) {
		json_decref(tenant_fields);
		tenant_fields = NULL;
	}
	pthread_mutex_lock(&ev_lock);
	if (subs == NULL || ev == NULL) {
		pthread_mutex_unlock(&ev_lock);
		json_decref(ev);
		json_decref(tenant_fields);
		return;
	}
	line = line_of(ev, kind);
	if (split)
		tline = line_of(tenant_fields, kind); /* NULL if tenant_fields is */
	for (struct sub *s = subs; line && s; s = s->next) {
		const char *l = s->tenant_id && split ? tline : line;
		if (s->tenant_id && s->tenant_id != tenant_id)
			continue;
		/* Bounds the queue's memory, not only its unread part: a slow reader never drains.
		 */
		if (l == NULL || byteq_push_line(&s->q, l, strlen(l), MGR_EVENTS_BUF) < 0) {
			s->dropped++;
			dropped_total++;
		}
	}
	/* (Each only if set: gcc's analyzer takes two free(NULL) for a double free.) */
	if (line)
		free(line);
	if (tline)
		free(tline);
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

void mgr_event_emit_split(const char *kind, uint32_t tenant_id, json_t *fields,
			  json_t *tenant_fields)
{
	emit(kind, tenant_id, fields, true, tenant_fields);
}

void mgr_event_emit(const char *kind, uint32_t tenant_id, json_t *fields)
{
	emit(kind, tenant_id, fields, false, NULL);
}

/* A job's event; error: the provider's full text or the tenant's (mgr_job_tenant_error). */
static json_t *job_event(const struct mgr_job *j, const char *error)
{
	const struct mgr_desktop *d = mgr_desktop_get(&mgr, j->desktop_id);
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, j->tenant_id);
	const struct mgr_host *h = mgr_host_get(&mgr, j->host_id);

	return json_pack("{s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "id", (int)j->id, "kind",
			 mgr_job_kind_names[j->kind], "state", mgr_job_state_names[j->state],
			 "desktop", d ? d->name : "", "desktop_id", (int)j->desktop_id, "tenant",
			 t ? t->spec.name : "", "host", h ? h->spec.name : "", "error", error);
}

void mgr_event_job_locked(const struct mgr_job *j)
{
	char why[128];

	/* The full text (libvirt's words, host URIs) is the provider's, and in the log. */
	if (j->error[0] == '\0') {
		mgr_event_emit("job", j->tenant_id, job_event(j, ""));
		return;
	}
	mgr_job_tenant_error(j, why, sizeof(why));
	mgr_event_emit_split("job", j->tenant_id, job_event(j, j->error), job_event(j, why));
}

void mgr_event_host_locked(const struct mgr_host *h, bool was)
{
	if (h->up != was)
		mgr_event_emit(
			h->up ? "host.up" : "host.down", 0,
			json_pack("{s:s, s:s}", "host", h->spec.name, "reason", h->down_reason));
}

/* libmicrohttpd's reader of the answer: waits for lines, sends what fits. */
static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sub *s = cls;
	struct timespec until;
	size_t n;

	(void)pos;
	pthread_once(&ev_once, ev_cond_init);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += MGR_EVENTS_BEAT_SEC;
	/*
	 * A reload of the token file may have revoked the stream's token or changed its
	 * tenant: the stream ends (its client connects again, authenticated again), as it
	 * does when its tenant is deleted. Checked at each beat at the latest.
	 */
	bool revoked = api_tokens_gen() != s->tokens_gen;
	/* So is a session's stream once the session is gone: logout, expiry, its user's
	 * deletion or new password (checked at each read: a beat at the latest). */
	if (s->by_session && !mgr_session_alive(s->session, mgr_mono_sec(), false))
		revoked = true;
	pthread_mutex_lock(&ev_lock);
	while (!stopping && !revoked && !s->ended && byteq_pending(&s->q) == 0)
		if (pthread_cond_timedwait(&ev_cond, &ev_lock, &until) == ETIMEDOUT)
			break;
	if (stopping || revoked || s->ended) {
		pthread_mutex_unlock(&ev_lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (byteq_pending(&s->q) == 0) {
		pthread_mutex_unlock(&ev_lock);
		out[0] = '\n'; /* a beat */
		return 1;
	}
	n = byteq_pending(&s->q) < max ? byteq_pending(&s->q) : max;
	memcpy(out, byteq_data(&s->q), n);
	byteq_consume(&s->q, n);
	pthread_mutex_unlock(&ev_lock);
	return (ssize_t)n;
}

static void sub_free(void *cls)
{
	struct sub *s = cls, **pp;

	pthread_mutex_lock(&ev_lock);
	for (pp = &subs; *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = s->next;
		n_subs--;
		if (s->tenant_id)
			n_tenant_subs--;
	}
	pthread_mutex_unlock(&ev_lock);
	byteq_free(&s->q);
	free(s);
}

/*
 * Whether s may stream, under ev_lock; otherwise out says why: 429 when its own
 * token holds its share (that client's doing), 503 when the streams are taken.
 */
static bool admit(const struct sub *s, struct http_resp *out)
{
	unsigned mine = 0;

	if (stopping || n_subs >= MGR_EVENTS_MAX) {
		http_error(out, 503, "", "already %u event streams; try again later",
			   MGR_EVENTS_MAX);
		return false;
	}
	if (s->tenant_id == 0)
		return true;
	for (const struct sub *o = subs; o; o = o->next)
		mine += o->tenant_id && memcmp(o->digest, s->digest, sizeof(s->digest)) == 0;
	if (mine >= MGR_EVENTS_PER_TOKEN) {
		http_error(out, 429, "",
			   "this token already has %u event streams, its most: close one first",
			   mine);
		return false;
	}
	if (n_tenant_subs >= MGR_EVENTS_MAX - MGR_EVENTS_PROVIDER_KEPT) {
		http_error(out, 503, "",
			   "tenants already have %u event streams, their most; try again later",
			   n_tenant_subs);
		return false;
	}
	return true;
}

void api_events(struct api_ctx *c)
{
	struct sub *s;

	if (c->n_seg != 1) {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
		return;
	}
	if (strcmp(c->r->method, "GET") != 0)
		return;                     /* 405 */
	MGR_FAULT("events.admit", NULL, 0); /* "pause": a test's reload or delete lands here */
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		http_error(c->out, 500, "", "out of memory");
		return;
	}
	s->tenant_id = c->provider ? 0 : c->tenant_id;
	/*
	 * The generation the token was found in, not the current one: a reload since (SIGHUP,
	 * which may have revoked it) ends the stream at its first read.
	 */
	s->tokens_gen = c->tokens_gen;
	memcpy(s->digest, c->who->digest, sizeof(s->digest));
	if (c->session && c->r->cookie) {
		s->by_session = true;
		mgr_token_digest(c->r->cookie, s->session);
	}
	/*
	 * Under mgr.lock (then ev_lock, the emitters' order): a tenant deleted since the
	 * request's lookup ended its streams (mgr_events_end_tenant) before this one was
	 * in the list, so this one is refused, or it is in the list before that delete.
	 */
	pthread_mutex_lock(&mgr.lock);
	if (s->tenant_id && mgr_tenant_get(&mgr, s->tenant_id) == NULL) {
		pthread_mutex_unlock(&mgr.lock);
		http_error(c->out, 403, "", "tenant %s of this token does not exist",
			   c->who->tenant);
		free(s);
		return;
	}
	pthread_mutex_lock(&ev_lock);
	if (!admit(s, c->out)) {
		pthread_mutex_unlock(&ev_lock);
		pthread_mutex_unlock(&mgr.lock);
		free(s);
		return;
	}
	s->next = subs;
	subs = s;
	n_subs++;
	if (s->tenant_id)
		n_tenant_subs++;
	pthread_mutex_unlock(&ev_lock);
	pthread_mutex_unlock(&mgr.lock);
	c->out->status = 200;
	c->out->stream = reader;
	c->out->stream_arg = s;
	c->out->stream_free = sub_free;
	c->out->content_type = "application/x-ndjson";
}

void mgr_events_counts(unsigned *streams, uint64_t *dropped)
{
	pthread_mutex_lock(&ev_lock);
	*streams = n_subs;
	*dropped = dropped_total;
	pthread_mutex_unlock(&ev_lock);
}

void mgr_events_end_tenant(uint32_t tenant_id)
{
	pthread_once(&ev_once, ev_cond_init);
	pthread_mutex_lock(&ev_lock);
	for (struct sub *s = subs; s; s = s->next)
		if (s->tenant_id == tenant_id)
			s->ended = true;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

void mgr_events_stop(void)
{
	pthread_once(&ev_once, ev_cond_init);
	pthread_mutex_lock(&ev_lock);
	stopping = true;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}
