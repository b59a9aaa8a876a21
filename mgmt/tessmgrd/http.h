/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's HTTP/JSON server (libmicrohttpd, a thread per connection:
 * handlers may wait for the state lock and the store). Bodies are JSON
 * objects of at most max_body bytes (413 beyond, 400 if not JSON), sent
 * as Content-Type application/json (415 otherwise: a browser's form or
 * no-cors fetch cannot send that type to another site without asking);
 * answers are JSON with an HTTP status.
 */
#ifndef TESS_MGR_HTTP_H
#define TESS_MGR_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct http_req {
	const char *method;
	const char *path;
	const char *version; /* "HTTP/1.1", "HTTP/1.0" (NULL in-process) */
	const char *bearer;  /* the Authorization: Bearer token, or NULL */
	const char *cookie;  /* the tess_session cookie's value, or NULL */
	const char *csrf;    /* the X-CSRF-Token header, or NULL */
	/* Where a browser says the request comes from (a login refuses another site's), or NULL:
	 * the Origin, Sec-Fetch-Site and Host headers. */
	const char *origin, *fetch_site, *host;
	char client[48]; /* the client's address (text), "" in-process */
	bool https;      /* served over TLS (a cookie set is Secure) */
	json_t *body;    /* the JSON body, or NULL without one */
	void *conn;      /* for http_query */
	/* A request made in-process (the fuzzer's, no conn): its query arguments, key and
	 * value pairs (a value may be NULL), ended by a NULL key; or NULL. */
	const char *const *args;
	/* What precheck found at the headers (the caller, once), for h: precheck may set *auth
	 * to malloc()ed memory, freed with the request. NULL where there is no precheck. */
	void **auth;
};

struct http_resp {
	unsigned status;
	json_t *body; /* stolen */
	/* A text answer instead (malloc()ed, stolen; GET /metrics), of content_type, of text_len
	 * bytes (a file may hold NULs; 0: strlen(text)). */
	char *text;
	size_t text_len;
	const char *content_type;
	/* Headers added to the answer: name, value pairs ended by a NULL name (static; the
	 * portal's security headers, a WebSocket's version), or NULL. */
	const char *const *headers;
	/* Or a stream of unknown length (GET /v1/events), of content_type: stream() gives the
	 * next bytes (waiting for them; MHD_CONTENT_READER_END_OF_STREAM at the end),
	 * stream_free(stream_arg) runs when the connection ends. */
	ssize_t (*stream)(void *arg, uint64_t pos, char *buf, size_t max);
	void *stream_arg;
	void (*stream_free)(void *arg);
	/* Headers added when set: Set-Cookie and Location (malloc()ed, freed with the answer),
	 * Retry-After. */
	char *set_cookie;
	char *location;
	unsigned retry_after;
	/*
	 * Or a switch of protocol (status 101, a WebSocket: headers says which): once the answer
	 * is sent, upgrade(upgrade_arg, ...) gets the connection's socket (for HTTPS one end of
	 * a pair that libmicrohttpd encrypts for it), the bytes already read after the request,
	 * and a handle that http_upgrade_close() takes when it is done. It must not block.
	 */
	void (*upgrade)(void *arg, int fd, const char *extra, size_t n, void *handle);
	void *upgrade_arg;
	char upgrade_headers[256]; /* its headers: "name\0value\0" pairs, an empty name ends */
};

typedef void (*http_handler)(const struct http_req *r, struct http_resp *out);

struct http_limits {
	size_t max_body;             /* 413 beyond; the body buffer never grows past it */
	unsigned max_connections;    /* at once, in all */
	unsigned per_ip_connections; /* at once, from one address */
	unsigned timeout_sec;        /* a connection idle this long is closed */
	unsigned max_json_depth;     /* arrays and objects nested deeper: 400 */
	/* Origins a browser's request may come from besides tessmgrd's own scheme and Host (a
	 * reverse proxy's public ones), NULL-ended; or NULL. */
	const char *const *origins;
};

/* Counters since the start (GET /v1/stats). */
struct http_stats {
	uint64_t requests;
	uint64_t unauthenticated;     /* answered at the headers: no known token */
	uint64_t body_too_large;      /* 413 */
	uint64_t json_too_deep;       /* 400 for nesting */
	uint64_t connections_refused; /* over max_connections or per_ip_connections */
	uint64_t timed_out;           /* requests closed by the idle timeout */
	uint64_t tls_failed;          /* TLS handshakes that failed (plain HTTP, old TLS, ...) */
	uint64_t active;              /* requests in flight now */
};

/*
 * HTTPS: a gnutls_certificate_retrieve_function2 that gives each handshake
 * its certificate chain and key (tls.h: swapped on SIGHUP), a GnuTLS
 * priority string, and what is told of each connection's start (before its
 * handshake) and end, with a pointer of its own (tls.h: when a replaced
 * key can go).
 */
struct http_tls {
	void *cert_callback;
	const char *priorities;
	void (*conn)(void **ctx, bool started, void *session); /* session: its gnutls_session_t */
};

/*
 * Serves on listen (listen.h: an IPv4 or IPv6 address, and its port or
 * port; 0: any free one, told in *bound), HTTPS when tls is not NULL.
 * precheck sees each request at its headers (no body yet): if it sets a
 * status, that is the answer and the body is never read; h answers the rest.
 */
int http_start(const char *listen, uint16_t port, const struct http_limits *limits,
	       const struct http_tls *tls, http_handler precheck, http_handler h, uint16_t *bound,
	       char *err, size_t len);
void http_get_stats(struct http_stats *out);
/* Stops accepting, lets requests in flight finish (up to a few seconds), stops. */
void http_stop(void);
/* Ends an upgraded connection: its socket is closed (never close() it), the client's shut
 * down. */
void http_upgrade_close(void *handle);
/* A request header's value, or NULL (NULL without a connection: in-process). */
const char *http_header(const struct http_req *r, const char *name);
/*
 * Whether a request comes from another site's page: Sec-Fetch-Site says
 * cross-site, or an Origin is there and is not this server's own (Host).
 */
bool http_cross_site(const struct http_req *r);
/* A query argument, or NULL. */
const char *http_query(const struct http_req *r, const char *key);
/* A query argument's value of digits only (no sign, no space), within [lo, hi]: true with
 * *out set; false if absent or not so. */
bool http_query_int(const char *text, int64_t lo, int64_t hi, int64_t *out);

/*
 * Copies in to out (len bytes, NUL included, truncated at a whole character),
 * each byte that is not part of valid UTF-8 written as the text \xNN: JSON
 * strings must be UTF-8, and MHD unescapes %ff in paths into raw bytes.
 */
void http_utf8_escape(const char *in, char *out, size_t len);
/*
 * The length of s's longest prefix of at most max bytes that does not end inside a
 * UTF-8 character: where to cut a text that a JSON string (json_pack: NULL on bad
 * UTF-8) will carry.
 */
size_t http_utf8_prefix(const char *s, size_t max);

/* {"error": {"status", "message", "path"}} answers. */
void http_error(struct http_resp *out, unsigned status, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
