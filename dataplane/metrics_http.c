/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /metrics on control.metrics_listen, from the control thread's loop.
 *
 * The thread that serves it also serves the API and drains the workers'
 * rings, so nothing here may wait: sockets are non-blocking, a request is
 * read into a fixed buffer, the answer is built whole and written as the
 * socket takes it. A connection has MH_HEAD_DEADLINE_MS from its accept to
 * send its request head (a client that opens and says nothing, or sends a
 * byte and stalls, is dropped then: so few slots must not stay held for
 * long) and MH_DEADLINE_SEC to be done (a client that never reads). Both are
 * checked by the once-a-second tick, so a silent client goes 2 to 3 s after
 * its accept. At most MH_MAX_CONNS at once; more are closed on accept. Each
 * connection answers one request and closes (Connection: close), as a
 * Prometheus scrape needs nothing more. The body is kept for MH_CACHE_MS:
 * scrapes within it (several Prometheus servers, a client retrying) are
 * answered from it rather than each walking stats.get on this thread.
 */
#include "metrics_http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prom.h"
#include "stats.h"
#include "tessd.h"

#define MH_MAX_CONNS        8
#define MH_MAX_REQUEST      4096 /* the request line and headers */
#define MH_DEADLINE_SEC     10
#define MH_HEAD_DEADLINE_MS 2000
#define MH_CACHE_MS         1000

struct mh_conn {
	int fd;
	struct ev_handle *h;
	char req[MH_MAX_REQUEST];
	size_t req_len;
	char *out; /* the whole answer once the request is read */
	size_t out_len, out_off;
	time_t deadline;        /* to be done */
	uint64_t head_deadline; /* ms (mono_ms): to have sent the request head */
	bool draining;          /* answered, write side shut: reading to the client's EOF */
	unsigned slot;          /* in mh.conns */
};

static struct {
	struct evloop *loop;
	int fd;
	struct ev_listener listener; /* paused out of descriptors (evloop.h) */
	struct mh_conn *conns[MH_MAX_CONNS];
	struct dp_metrics_http_counters cnt;
	char *body; /* the last body built, at body_ms (mono_ms) */
	size_t body_len;
	uint64_t body_ms;
} mh = { .fd = -1 };

/* Milliseconds: a head deadline in whole seconds would be anything from 1 to 2 s. */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_free(struct mh_conn *c)
{
	mh.conns[c->slot] = NULL;
	ev_del(mh.loop, c->h);
	close(c->fd);
	free(c->out);
	free(c);
}

/* A free slot, or MH_MAX_CONNS. */
static unsigned free_slot(void)
{
	unsigned i = 0;

	while (i < MH_MAX_CONNS && mh.conns[i])
		i++;
	return i;
}

/* The answer: status line, headers and body, in c->out. */
static void conn_answer(struct mh_conn *c, int code, const char *reason, const char *extra,
			const char *type, const char *body, size_t body_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return;
	fprintf(f,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: "
		"close\r\n\r\n",
		code, reason, type, body_len, extra ? extra : "");
	fwrite(body, 1, body_len, f);
	if (fclose(f) != 0) {
		free(text);
		return;
	}
	c->out = text;
	c->out_len = len;
	if (code >= 400)
		mh.cnt.errors++;
}

static void conn_error(struct mh_conn *c, int code, const char *reason, const char *extra)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%d %s\n", code, reason);

	conn_answer(c, code, reason, extra, "text/plain; charset=utf-8", body, (size_t)n);
}

/* mh.body is stats.get's exposition of at most MH_CACHE_MS ago: 0 or -errno. */
static int body_fresh(void)
{
	uint64_t now = mono_ms();
	json_t *stats;
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (mh.body && now - mh.body_ms < MH_CACHE_MS)
		return 0;
	stats = dp_stats_json(&tessd.cfg, NULL);
	f = stats ? open_memstream(&body, &len) : NULL;
	rc = f ? prom_stats_format(stats, f) : -ENOMEM;
	json_decref(stats);
	if (f && fclose(f) != 0)
		rc = -ENOMEM;
	if (rc) {
		free(body);
		return rc;
	}
	free(mh.body);
	mh.body = body;
	mh.body_len = len;
	mh.body_ms = now;
	mh.cnt.renders++;
	return 0;
}

static void conn_metrics(struct mh_conn *c)
{
	if (body_fresh() == 0) {
		conn_answer(c, 200, "OK", NULL, "text/plain; version=0.0.4; charset=utf-8", mh.body,
			    mh.body_len);
		mh.cnt.scrapes++;
	} else {
		conn_error(c, 500, "Internal Server Error", NULL);
	}
}

/* A complete request head is in c->req: what it asks, answered into c->out. */
static void conn_request(struct mh_conn *c)
{
	char method[16], target[256], version[16];
	size_t tl;

	c->req[c->req_len] = '\0';
	if (sscanf(c->req, "%15[A-Z] %255[^ \r\n] %15[^ \r\n]", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		conn_error(c, 400, "Bad Request", NULL);
		return;
	}
	tl = strcspn(target, "?");
	if (tl != strlen("/metrics") || strncmp(target, "/metrics", tl) != 0)
		conn_error(c, 404, "Not Found", NULL);
	else if (strcmp(method, "GET") != 0)
		conn_error(c, 405, "Method Not Allowed", "Allow: GET\r\n");
	else
		conn_metrics(c);
}

/* Writes what the socket takes; false once the connection is to be freed. */
static bool conn_flush(struct mh_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN;
		c->out_off += (size_t)w;
	}
	return false; /* all sent: close */
}

/*
 * All sent. Closing with unread bytes (a body, a pipelined request) would send a RST,
 * which drops what the client has not read yet: shut the write side (a FIN after the
 * answer) and read to its EOF, within the deadline.
 */
static void conn_drain_start(struct mh_conn *c)
{
	if (c->out_off < c->out_len || shutdown(c->fd, SHUT_WR) < 0) {
		conn_free(c);
		return;
	}
	c->draining = true;
	ev_mod(mh.loop, c->h, EPOLLIN);
}

/* Reads what the client still sends; false once it closed (or failed). */
static bool conn_drain(struct mh_conn *c)
{
	char junk[4096];

	for (;;) {
		ssize_t n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EINTR);
	}
}

static void conn_event(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct mh_conn *c = arg;
	ssize_t n;

	(void)h;
	if (c->draining) {
		if (!conn_drain(c))
			conn_free(c);
		return;
	}
	if (c->out) {
		if (!conn_flush(c))
			conn_drain_start(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		conn_request(c);
	else if (c->req_len == sizeof(c->req) - 1)
		conn_error(c, 431, "Request Header Fields Too Large", NULL);
	else
		return;
	if (c->out == NULL) {
		conn_free(c);
		return;
	}
	if (!conn_flush(c)) {
		conn_drain_start(c);
		return;
	}
	/* The rest goes as the client reads; what it sends more is not read. */
	ev_mod(mh.loop, c->h, EPOLLOUT);
}

static void accept_event(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	(void)h;
	(void)events;
	(void)arg;
	for (;;) {
		int cfd = ev_accept(&mh.listener, fd);
		unsigned slot = free_slot();
		struct mh_conn *c;

		if (cfd < 0)
			return; /* none left, or paused (evloop.h) */
		if (slot == MH_MAX_CONNS) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
						   "Content-Length: 0\r\nConnection: close\r\n\r\n";
			mh.cnt.refused++;
			if (send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* Refused either way. */
			}
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->slot = slot;
		c->deadline = ev_mono_sec() + MH_DEADLINE_SEC;
		c->head_deadline = mono_ms() + MH_HEAD_DEADLINE_MS;
		c->h = ev_add(mh.loop, cfd, EPOLLIN, conn_event, c);
		if (c->h == NULL) {
			free(c);
			close(cfd);
			continue;
		}
		mh.conns[slot] = c;
	}
}

int dp_metrics_http_open(const struct tessd_ctl_cfg *cfg, struct evloop *l, char *err, size_t len)
{
	struct sockaddr_storage sa;
	unsigned sa_len;
	char why[256];
	int fd, one = 1, rc;

	mh.loop = l;
	if (cfg->metrics_listen[0] == '\0')
		return 0;
	rc = tessd_loopback_addr(cfg->metrics_listen, &sa, &sa_len, why, sizeof(why));
	if (rc) {
		snprintf(err, len, "/control/metrics_listen: %s", why);
		return -rc;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sa_len) < 0 || listen(fd, 16) < 0)
		goto fail;
	mh.listener = (struct ev_listener){
		.loop = l, .what = "a metrics client", .logtype = tess_logtype_dp, .log = "tess.dp"
	};
	mh.listener.h = ev_add(l, fd, EPOLLIN, accept_event, NULL);
	if (mh.listener.h == NULL)
		goto fail;
	mh.fd = fd;
	DP_LOG(INFO, "metrics on http://%s/metrics", cfg->metrics_listen);
	return 0;
fail:
	rc = -errno;
	snprintf(err, len, "/control/metrics_listen: cannot listen on %s: %s", cfg->metrics_listen,
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

void dp_metrics_http_tick(void)
{
	time_t now = ev_mono_sec();
	uint64_t now_ms = mono_ms();

	ev_listener_tick(&mh.listener);
	for (unsigned i = 0; i < MH_MAX_CONNS; i++) {
		struct mh_conn *c = mh.conns[i];

		if (c == NULL)
			continue;
		if (c->out == NULL && now_ms >= c->head_deadline) {
			mh.cnt.timed_out++; /* no request head yet */
			conn_free(c);
		} else if (now >= c->deadline) {
			if (!c->draining) /* answered: not a client that stalled */
				mh.cnt.timed_out++;
			conn_free(c);
		}
	}
}

void dp_metrics_http_close(void)
{
	for (unsigned i = 0; i < MH_MAX_CONNS; i++)
		if (mh.conns[i])
			conn_free(mh.conns[i]);
	if (mh.fd >= 0) {
		ev_del(mh.loop, mh.listener.h);
		close(mh.fd);
		mh.fd = -1;
	}
	free(mh.body);
	mh.body = NULL;
}

void dp_metrics_http_get_counters(struct dp_metrics_http_counters *c)
{
	*c = mh.cnt;
}
