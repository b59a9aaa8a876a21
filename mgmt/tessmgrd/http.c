/* SPDX-License-Identifier: BSD-3-Clause */
#include "http.h"
#include "tlog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "listen.h"

static struct MHD_Daemon *daemon_;
static http_handler handler;
static http_handler precheck;
static void (*tls_conn)(void **ctx, bool started,
			void *session); /* http_tls's, NULL for plain HTTP */
static struct http_limits lim;
static bool https_on;
static int active;              /* requests between their first call and completion (atomic) */
static struct http_stats stats; /* atomic counters */

struct conn_ctx {
	char *buf;
	size_t len, cap;
	size_t expect; /* Content-Length, or 0 */
	bool too_large;
	void *auth; /* precheck's, for the handler */
};

#define COUNT(field) __atomic_add_fetch(&stats.field, 1, __ATOMIC_RELAXED)

void http_get_stats(struct http_stats *out)
{
	out->requests = __atomic_load_n(&stats.requests, __ATOMIC_RELAXED);
	out->unauthenticated = __atomic_load_n(&stats.unauthenticated, __ATOMIC_RELAXED);
	out->body_too_large = __atomic_load_n(&stats.body_too_large, __ATOMIC_RELAXED);
	out->json_too_deep = __atomic_load_n(&stats.json_too_deep, __ATOMIC_RELAXED);
	out->connections_refused = __atomic_load_n(&stats.connections_refused, __ATOMIC_RELAXED);
	out->timed_out = __atomic_load_n(&stats.timed_out, __ATOMIC_RELAXED);
	out->tls_failed = __atomic_load_n(&stats.tls_failed, __ATOMIC_RELAXED);
	out->active = (uint64_t)__atomic_load_n(&active, __ATOMIC_RELAXED);
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong, no surrogate), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80                    ? 1
		   : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
		   : (s[0] & 0xf0) == 0xe0        ? 3
		   : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
						  : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

size_t http_utf8_prefix(const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, max), i = n;

	/* Back over the last character's continuation bytes (at most 3) to its first byte. */
	while (i > 0 && n - i < 3 && (u[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n; /* no first byte: not UTF-8 at all, http_utf8_escape's to mend */
	size_t want = u[i - 1] >= 0xf0 ? 4 : u[i - 1] >= 0xe0 ? 3 : u[i - 1] >= 0xc0 ? 2 : 1;
	return n - (i - 1) < want ? i - 1 : n;
}

void http_utf8_escape(const char *in, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t at = 0;

	if (len == 0)
		return;
	while (*s) {
		size_t n = utf8_len(s);
		if (n == 0) {
			if (at + 4 >= len)
				break;
			snprintf(out + at, len - at, "\\x%02x", *s++);
			at += 4;
			continue;
		}
		if (at + n >= len)
			break;
		memcpy(out + at, s, n);
		at += n;
		s += n;
	}
	out[at] = '\0';
}

void http_error(struct http_resp *out, unsigned status, const char *path, const char *fmt, ...)
{
	char raw[1024], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	http_utf8_escape(raw, msg, sizeof(msg)); /* a path's raw bytes would void the answer */
	json_decref(out->body);
	out->status = status;
	out->body = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", (int)status, "message", msg,
			      "path", path ? path : "");
}

bool http_query_int(const char *text, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (text == NULL || *text < '0' || *text > '9')
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* A login CSRF would log the victim's browser into the attacker's user; a WebSocket opened by
 * another site's page would act as the browser's session. */
bool http_cross_site(const struct http_req *r)
{
	char own[320];

	if (r->fetch_site && strcasecmp(r->fetch_site, "cross-site") == 0)
		return true;
	if (r->origin == NULL)
		return false;
	for (const char *const *o = lim.origins; o && *o; o++)
		if (strcasecmp(r->origin, *o) == 0)
			return false;
	snprintf(own, sizeof(own), "%s://%s", r->https ? "https" : "http", r->host ? r->host : "");
	return r->host == NULL || strcasecmp(r->origin, own) != 0;
}

const char *http_header(const struct http_req *r, const char *name)
{
	return r->conn ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name) : NULL;
}

/* What an upgrade answer hands over once it is sent. */
struct upgrade_box {
	void (*fn)(void *arg, int fd, const char *extra, size_t n, void *handle);
	void *arg;
};

/*
 * An upgraded connection's handle: MHD's, and the client's socket. Under HTTPS, MHD's thread
 * forwards between that socket and the application's end of a pair until the client closes
 * it, even after the application's close: a client that keeps it open would hold that thread,
 * and MHD_stop_daemon, which joins it, for ever. So the close shuts the client's socket down.
 */
struct upgraded {
	struct MHD_UpgradeResponseHandle *urh;
	int peer;
};

static void upgrade_cb(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
		       size_t n, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct upgrade_box b = *(struct upgrade_box *)cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct upgraded *u = malloc(sizeof(*u));

	(void)con_cls;
	free(cls);
	if (u == NULL) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		b.fn(b.arg, -1, NULL, 0, NULL);
		return;
	}
	u->urh = urh;
	u->peer = ci ? ci->connect_fd : -1;
	b.fn(b.arg, sock, extra, n, u);
}

void http_upgrade_close(void *handle)
{
	struct upgraded *u = handle;

	/* Before MHD's close: until then the socket is the connection's, not reused. */
	if (u->peer >= 0)
		shutdown(u->peer, SHUT_RDWR);
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(u);
}

const char *http_query(const struct http_req *r, const char *key)
{
	/* A request made in-process (the fuzzer's) has its arguments in args, MHD's first. */
	if (r->conn == NULL) {
		for (const char *const *a = r->args; a && a[0]; a += 2)
			if (strcmp(a[0], key) == 0)
				return a[1];
		return NULL;
	}
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/*
 * Whether a JSON text nests arrays and objects deeper than limit (strings
 * skipped): checked before jansson parses it, whose own bound is a build
 * constant (2048) and whose tree costs far more than the text.
 */
static bool too_deep(const char *p, size_t n, unsigned limit)
{
	unsigned depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '[' || ch == '{') {
			if (++depth > limit)
				return true;
		} else if ((ch == ']' || ch == '}') && depth) {
			depth--;
		}
	}
	return false;
}

/* out's answer: its text if it has one, else its JSON body; and its headers. */
static enum MHD_Result respond_out(struct MHD_Connection *c, unsigned status, struct http_resp *out)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text;

	if (out->upgrade) {
		struct upgrade_box *b = malloc(sizeof(*b));
		r = b ? MHD_create_response_for_upgrade(upgrade_cb, b) : NULL;
		if (r == NULL) {
			free(b);
			out->upgrade(out->upgrade_arg, -1, NULL, 0,
				     NULL); /* told it will not come */
			json_decref(out->body);
			return MHD_NO;
		}
		b->fn = out->upgrade;
		b->arg = out->upgrade_arg;
		json_decref(out->body);
	} else if (out->stream) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, out->stream,
						      out->stream_arg, out->stream_free);
		if (r == NULL) {
			out->stream_free(out->stream_arg);
			return MHD_NO;
		}
	} else {
		size_t n = 0;
		if (out->text) {
			text = out->text;
			n = out->text_len ? out->text_len : strlen(text);
			json_decref(out->body);
		} else {
			text = status == 204 ? NULL
			       : out->body   ? json_dumps(out->body, JSON_COMPACT | JSON_SORT_KEYS |
									     JSON_REAL_PRECISION(12))
					     : NULL;
			json_decref(out->body);
			if (text == NULL)
				text = strdup(status == 204 ? "" : "{}");
			n = text ? strlen(text) : 0;
			out->content_type = "application/json";
		}
		r = text ? MHD_create_response_from_buffer_with_free_callback(n, text, free) : NULL;
		if (r == NULL) {
			free(text);
			free(out->set_cookie);
			free(out->location);
			return MHD_NO;
		}
	}
	if (out->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
	for (const char *const *h = out->headers; h && h[0]; h += 2)
		MHD_add_response_header(r, h[0], h[1]);
	for (const char *h = out->upgrade ? out->upgrade_headers : ""; *h;) {
		const char *v = h + strlen(h) + 1;
		MHD_add_response_header(r, h, v);
		h = v + strlen(v) + 1;
	}
	if (out->set_cookie)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, out->set_cookie);
	free(out->set_cookie);
	if (out->location)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, out->location);
	free(out->location);
	if (out->retry_after) {
		char v[16];
		snprintf(v, sizeof(v), "%u", out->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, json_t *body)
{
	struct http_resp out = { .body = body };

	return respond_out(c, status, &out);
}

/* jansson's copy of a body's password (a login's, a user's), wiped before it is freed. */
static void wipe_password(json_t *body)
{
	json_t *p = json_object_get(body, "password");

	if (json_is_string(p))
		explicit_bzero((char *)json_string_value(p), json_string_length(p));
}

/* Whether a Content-Type header is application/json (any parameters after ';'). */
static bool is_json_type(const char *ct)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (ct == NULL || strncasecmp(ct, json, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* The headers that tell who the client is: bearer, session cookie, CSRF token, address. */
static void read_client(struct MHD_Connection *c, struct http_req *req)
{
	const char *auth =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		req->bearer = auth + 7;
	req->cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "tess_session");
	req->csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	req->origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	req->fetch_site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	req->host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	req->https = https_on;
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		const void *a =
			sa->sa_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (!inet_ntop(sa->sa_family, a, req->client, sizeof(req->client)))
			req->client[0] = '\0';
	}
}

static enum MHD_Result too_large(struct MHD_Connection *c)
{
	struct http_resp out = { 0 };

	COUNT(body_too_large);
	http_error(&out, MHD_HTTP_CONTENT_TOO_LARGE, "", "the body is larger than %zu bytes",
		   lim.max_body);
	return respond(c, out.status, out.body);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct conn_ctx *ctx = *con_cls;
	struct http_resp out = { 0 };
	struct http_req req = { .method = method, .path = url, .version = version, .conn = c };
	json_error_t jerr;

	(void)cls;
	read_client(c, &req);
	if (ctx == NULL) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
		ctx = calloc(1, sizeof(*ctx));
		if (ctx == NULL)
			return MHD_NO;
		*con_cls = ctx;
		req.auth = &ctx->auth;
		__atomic_add_fetch(&active, 1, __ATOMIC_SEQ_CST);
		COUNT(requests);
		/*
		 * The headers are all there before the body: a request without a known
		 * token is answered now, its body never read nor parsed (review 1.11).
		 */
		if (precheck) {
			precheck(&req, &out);
			if (out.status) {
				if (out.status == MHD_HTTP_UNAUTHORIZED)
					COUNT(unauthenticated);
				return respond_out(c, out.status, &out);
			}
		}
		/* Too large by its length: answered before its body is read. */
		if (len > lim.max_body)
			return too_large(c);
		ctx->expect = (size_t)len;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (ctx->too_large || ctx->len + n > lim.max_body) {
			/* Read and dropped (MHD answers only at the end): nothing kept. */
			ctx->too_large = true;
			if (ctx->buf)
				explicit_bzero(ctx->buf, ctx->len);
			free(ctx->buf);
			ctx->buf = NULL;
			ctx->len = ctx->cap = 0;
			return MHD_YES;
		}
		if (ctx->len + n + 1 > ctx->cap) {
			/* To Content-Length at once, else doubling; never past max_body + 1,
			 * the most a body that is not refused needs. */
			size_t need = ctx->len + n + 1;
			size_t cap = ctx->expect >= need ? ctx->expect + 1 : need * 2;
			if (cap > lim.max_body + 1)
				cap = lim.max_body + 1;
			/* Not realloc(): the old buffer (a password) is wiped before it goes. */
			char *p = malloc(cap);
			if (p == NULL)
				return MHD_NO;
			if (ctx->buf) {
				memcpy(p, ctx->buf, ctx->len);
				explicit_bzero(ctx->buf, ctx->len);
				free(ctx->buf);
			}
			ctx->buf = p;
			ctx->cap = cap;
		}
		memcpy(ctx->buf + ctx->len, upload_data, n);
		ctx->len += n;
		return MHD_YES;
	}
	if (ctx->too_large)
		return too_large(c);
	req.auth = &ctx->auth;
	if (ctx->len && !is_json_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								  MHD_HTTP_HEADER_CONTENT_TYPE))) {
		explicit_bzero(ctx->buf, ctx->len);
		http_error(&out, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "",
			   "a body must be sent as Content-Type: application/json");
		return respond(c, out.status, out.body);
	}
	if (ctx->len) {
		if (too_deep(ctx->buf, ctx->len, lim.max_json_depth)) {
			COUNT(json_too_deep);
			http_error(&out, MHD_HTTP_BAD_REQUEST, "",
				   "the body is nested deeper than %u arrays and objects",
				   lim.max_json_depth);
			return respond(c, out.status, out.body);
		}
		req.body = json_loadb(ctx->buf, ctx->len, JSON_REJECT_DUPLICATES, &jerr);
		if (req.body == NULL || !json_is_object(req.body)) {
			if (req.body)
				http_error(&out, MHD_HTTP_BAD_REQUEST, "",
					   "the body is not a JSON object");
			else
				http_error(&out, MHD_HTTP_BAD_REQUEST, "",
					   "malformed JSON at line %d column %d: %s", jerr.line,
					   jerr.column, jerr.text);
			json_decref(req.body);
			return respond(c, out.status, out.body);
		}
	}
	handler(&req, &out);
	wipe_password(req.body);
	json_decref(req.body);
	return respond_out(c, out.status ? out.status : MHD_HTTP_INTERNAL_SERVER_ERROR, &out);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)c;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		COUNT(timed_out);
	if (ctx) {
		/* Every path, early answers too: the body may hold a password. */
		if (ctx->buf)
			explicit_bzero(ctx->buf, ctx->cap);
		free(ctx->buf);
		free(ctx->auth);
		free(ctx);
		*con_cls = NULL;
		__atomic_sub_fetch(&active, 1, __ATOMIC_SEQ_CST);
	}
}

/*
 * libmicrohttpd's messages. It refuses a connection over the total or the
 * per-address limit, and drops one whose TLS handshake failed, without
 * telling the application but in these messages: counted, and logged only at
 * powers of two (a flood must not fill the log).
 */
/* A connection's start (before its TLS handshake) and end, for what TLS hands it. */
static void conn_cb(void *cls, struct MHD_Connection *c, void **socket_context,
		    enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	if (tls_conn) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		tls_conn(socket_context, code == MHD_CONNECTION_NOTIFY_STARTED,
			 ci ? ci->tls_session : NULL);
	}
}

static void log_cb(void *cls, const char *fmt, va_list ap)
{
	static const char refused[] = "Server reached connection limit";
	static const char handshake[] = "Error: received handshake message out of context";

	(void)cls;
	if (strncmp(fmt, handshake, sizeof(handshake) - 1) == 0) {
		uint64_t n = COUNT(tls_failed);
		if (n & (n - 1))
			return;
		tlog(LOG_WARNING, NULL,
		     "http: %" PRIu64 " TLS handshake(s) failed (plain HTTP to the HTTPS port, a "
		     "TLS version or cipher outside http.tls_priorities, an untrusted certificate)",
		     n);
		return;
	}
	if (strncmp(fmt, refused, sizeof(refused) - 1) == 0) {
		uint64_t n = COUNT(connections_refused);
		if (n & (n - 1))
			return;
		tlog(LOG_WARNING, NULL,
		     "http: %" PRIu64 " connection(s) refused: over "
		     "http.max_connections or http.per_ip_connections",
		     n);
		return;
	}
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	tlog(LOG_WARNING, NULL, "http: %s", msg);
}

int http_start(const char *listen, uint16_t port, const struct http_limits *limits,
	       const struct http_tls *tls, http_handler pre, http_handler h, uint16_t *bound,
	       char *err, size_t len)
{
	/* poll, not select: connections whose descriptors are past FD_SETSIZE are served too. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, tls ? tls->cert_callback : NULL },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, tls ? (void *)tls->priorities : NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct mgr_listen l;
	char where[96];

	if (mgr_listen_parse(listen, &l, err, len) < 0)
		return -EINVAL;
	if (!l.has_port)
		l.port = port;
	if (l.sa.ss_family == AF_INET) {
		((struct sockaddr_in *)&l.sa)->sin_port = htons(l.port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l.sa;
		in6->sin6_port = htons(l.port);
		/* [::] takes IPv4 too (IPV6_V6ONLY off); any other IPv6 address only itself. */
		flags |= IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ? MHD_USE_DUAL_STACK
								  : MHD_USE_IPv6;
	}
	if (tls)
		flags |= MHD_USE_TLS;
	handler = h;
	precheck = pre;
	tls_conn = tls ? tls->conn : NULL;
	https_on = tls != NULL;
	lim = *limits;
	errno = 0;
	/* The logger first: MHD logs through its own until it has seen it. */
	daemon_ = MHD_start_daemon(
		flags, 0, NULL, NULL, access_cb, NULL, MHD_OPTION_EXTERNAL_LOGGER, log_cb, NULL,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&l.sa, MHD_OPTION_NOTIFY_COMPLETED,
		completed_cb, NULL, MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, lim.timeout_sec, MHD_OPTION_CONNECTION_LIMIT,
		lim.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim.per_ip_connections,
		MHD_OPTION_ARRAY, tls ? tls_opts : &tls_opts[2], MHD_OPTION_END);
	mgr_listen_format(&l, l.port, where, sizeof(where));
	if (daemon_ == NULL) {
		snprintf(err, len, "cannot serve %s on %s: %s", tls ? "HTTPS" : "HTTP", where,
			 errno ? strerror(errno) : "see libmicrohttpd's message above");
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : l.port;
	return 0;
}

void http_stop(void)
{
	MHD_socket s;
	struct timespec t0, now;

	if (daemon_ == NULL)
		return;
	/* No new connections; those in flight get their answers (up to 5 s). */
	s = MHD_quiesce_daemon(daemon_);
	if (s != MHD_INVALID_SOCKET)
		close(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		const union MHD_DaemonInfo *i =
			MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((__atomic_load_n(&active, __ATOMIC_SEQ_CST) == 0 &&
		     (i == NULL || i->num_connections == 0)) ||
		    now.tv_sec - t0.tv_sec >= 5)
			break;
		usleep(20000);
	}
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
