/* SPDX-License-Identifier: BSD-3-Clause */
#include "http_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

/* The largest answer read (tessmgrd's biggest lists are far smaller). */
#define HTTP_MAX_ANSWER      (64u << 20)
#define HTTP_MAX_ANSWER_TEXT "64 MiB"

static const char *cacert;

void http_client_set_cacert(const char *path)
{
	cacert = path;
}

struct answer {
	char *buf;
	size_t used, cap;
	bool too_large;
};

/* A stream's longest silence: tessmgrd beats every 5 s. */
#define HTTP_STREAM_SILENCE_SEC 20

/* Bounded: a broken or hostile server must not take all memory. */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t add = size * n;

	if (add > HTTP_MAX_ANSWER - a->used) {
		a->too_large = true;
		return 0; /* curl stops: CURLE_WRITE_ERROR */
	}
	if (a->used + add + 1 > a->cap) {
		size_t cap = a->cap * 2 > a->used + add + 1 ? a->cap * 2 : a->used + add + 8192;
		char *q = realloc(a->buf, cap);
		if (q == NULL)
			return 0;
		a->buf = q;
		a->cap = cap;
	}
	memcpy(a->buf + a->used, p, add);
	a->used += add;
	a->buf[a->used] = '\0';
	return add;
}

static CURL *handle(void)
{
	static bool inited;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		inited = true; /* tessctl makes its calls from one thread */
	}
	return curl_easy_init();
}

/* curl's failure in words an operator acts on, and its -errno. */
static int failure(CURLcode rc, const char *detail, const char *url, char *why, size_t len)
{
	const char *d = detail[0] ? detail : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(why, len, "cannot use the CA file %s (%s)", cacert ? cacert : "(system)",
			 d);
		return -ENOENT;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(why, len,
			 "the server's certificate is not trusted (%s): give its CA with --cacert "
			 "FILE or $TESSMGR_CACERT",
			 d);
		return -EACCES;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(why, len, "TLS handshake failed (%s); is it an http:// server?", d);
		return -EPROTO;
	case CURLE_COULDNT_CONNECT:
		snprintf(why, len, "cannot connect (%s)", d);
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(why, len, "unknown host (%s)", d);
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(why, len, "no answer in time (%s)", d);
		return -ETIMEDOUT;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(why, len, "'%s' is not an http:// or https:// URL (%s)", url, d);
		return -EINVAL;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
		snprintf(why, len, "no HTTP answer (%s)%s", d,
			 strncmp(url, "http://", 7) == 0 ? "; is it an https:// server?" : "");
		return -EPROTO;
	default:
		snprintf(why, len, "%s", d);
		return -EIO;
	}
}

/* A request being made: its handle and what it holds until the end. */
struct req {
	CURL *c;
	struct curl_slist *hdrs;
	char *full, *auth;
	char detail[CURL_ERROR_SIZE];
};

static void req_free(struct req *q)
{
	curl_slist_free_all(q->hdrs);
	if (q->c)
		curl_easy_cleanup(q->c);
	if (q->auth) {
		explicit_bzero(q->auth, strlen(q->auth));
		free(q->auth);
	}
	free(q->full);
}

/* method path on url with a bearer token, and body text (NULL: none); 0 or -errno with why. */
static int req_init(struct req *q, const char *url, const char *token, const char *method,
		    const char *path, const char *text, int timeout_ms, char *why, size_t len)
{
	size_t ulen = strlen(url);

	memset(q, 0, sizeof(*q));
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(why, len, "'%s' is not an http://host:port or https://host:port URL", url);
		return -EINVAL;
	}
	/* A token is a header's value: a line break in it would make headers of its own. */
	if (token && strpbrk(token, "\r\n")) {
		snprintf(why, len, "the token has a line break");
		return -EINVAL;
	}
	while (ulen && url[ulen - 1] == '/')
		ulen--;
	q->full = malloc(ulen + strlen(path) + 1);
	q->auth = malloc(strlen("Authorization: Bearer ") + (token ? strlen(token) : 0) + 1);
	q->c = handle();
	if (q->full == NULL || q->auth == NULL || q->c == NULL)
		goto nomem;
	memcpy(q->full, url, ulen);
	strcpy(q->full + ulen, path);
	sprintf(q->auth, "Authorization: Bearer %s", token ? token : "");
	q->hdrs = curl_slist_append(q->hdrs, q->auth);
	q->hdrs = q->hdrs ? curl_slist_append(q->hdrs, "Content-Type: application/json") : NULL;
	/* no 100-continue round trip */
	q->hdrs = q->hdrs ? curl_slist_append(q->hdrs, "Expect:") : NULL;
	if (q->hdrs == NULL)
		goto nomem;
	curl_easy_setopt(q->c, CURLOPT_URL, q->full);
	curl_easy_setopt(q->c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Paths as built: libcurl would resolve a name's "." or ".." into another route. */
	curl_easy_setopt(q->c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(q->c, CURLOPT_PROXY, ""); /* tessmgrd directly, never $http_proxy's */
	curl_easy_setopt(q->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(q->c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 30000));
	curl_easy_setopt(q->c, CURLOPT_HTTPHEADER, q->hdrs);
	curl_easy_setopt(q->c, CURLOPT_ERRORBUFFER, q->detail);
	curl_easy_setopt(q->c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_ANSWER);
	if (cacert) {
		/* --cacert is the only trust: not added to the system's CAs. */
		curl_easy_setopt(q->c, CURLOPT_CAINFO, cacert);
		curl_easy_setopt(q->c, CURLOPT_CAPATH, NULL);
	}
	if (strcmp(method, "GET") != 0 || text) {
		/* A body (maybe empty) with its length, sent with the method asked for. */
		curl_easy_setopt(q->c, CURLOPT_POSTFIELDS, text ? text : "");
		curl_easy_setopt(q->c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(text ? strlen(text) : 0));
	}
	curl_easy_setopt(q->c, CURLOPT_CUSTOMREQUEST, method);
	return 0;
nomem:
	snprintf(why, len, "out of memory");
	return -ENOMEM;
}

/* The status of a performed request, or -EPROTO with why. */
static int req_status(struct req *q, char *why, size_t len)
{
	long status = 0;

	curl_easy_getinfo(q->c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 100 || status > 999) {
		snprintf(why, len, "no HTTP answer (status %ld)", status);
		return -EPROTO;
	}
	return (int)status;
}

int http_call(const char *url, const char *token, const char *method, const char *path,
	      json_t *body, int timeout_ms, json_t **result, char *why, size_t len)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct answer a = { 0 };
	struct req q;
	CURLcode rc;
	int ret;

	*result = NULL;
	json_decref(body);
	ret = req_init(&q, url, token, method, path, text, timeout_ms, why, len);
	if (ret < 0)
		goto out;
	curl_easy_setopt(q.c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(q.c, CURLOPT_WRITEDATA, &a);
	rc = curl_easy_perform(q.c);
	if (rc != CURLE_OK) {
		if (a.too_large || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(why, len, "%s: an answer larger than " HTTP_MAX_ANSWER_TEXT, url);
		ret = a.too_large || rc == CURLE_FILESIZE_EXCEEDED
			      ? -EFBIG
			      : failure(rc, q.detail, url, why, len);
		goto out;
	}
	ret = req_status(&q, why, len);
	if (ret < 0)
		goto out;
	/* tessmgrd's answers all have a JSON body: an empty one is a truncated answer. */
	*result = a.used ? json_loadb(a.buf, a.used, 0, NULL) : NULL;
	if (*result == NULL && ret < 400) {
		snprintf(why, len, "an answer that is not JSON (%sHTTP status %d)",
			 a.used ? "" : "empty, ", ret);
		ret = -EPROTO;
	}
out:
	req_free(&q);
	free(a.buf);
	free(text);
	return ret;
}

struct lines {
	struct answer a;
	CURL *c;
	int (*on_line)(const char *line, size_t len, void *arg);
	void *arg;
	bool stopped;
	bool silent;      /* ended by HTTP_STREAM_SILENCE_SEC without a byte */
	uint64_t last_ms; /* when the last byte came (CLOCK_MONOTONIC) */
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A stream's bytes: each whole line to on_line (an error answer is kept whole instead). */
static size_t on_lines(char *p, size_t size, size_t n, void *arg)
{
	struct lines *l = arg;
	long status = 0;
	char *nl;

	l->last_ms = now_ms();
	if (on_data(p, size, n, &l->a) != size * n)
		return 0;
	curl_easy_getinfo(l->c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300)
		return size * n;
	while ((nl = memchr(l->a.buf, '\n', l->a.used)) != NULL) {
		size_t len = (size_t)(nl - l->a.buf);
		if (len && l->on_line(l->a.buf, len, l->arg)) {
			l->stopped = true;
			return 0; /* curl stops */
		}
		memmove(l->a.buf, nl + 1, l->a.used - len - 1);
		l->a.used -= len + 1;
	}
	return size * n;
}

/*
 * libcurl's progress callback, called about once a second while nothing comes: a stream
 * without a byte for HTTP_STREAM_SILENCE_SEC is a server gone silently (tessmgrd beats every
 * 5 s). Not CURLOPT_LOW_SPEED_LIMIT: its 1 byte a second is more than a beat every 5 s,
 * which ended every quiet stream after 20 s.
 */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct lines *l = arg;
	curl_off_t sent = 0;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	/* Counted from the request sent: connecting has its own timeout. */
	curl_easy_getinfo(l->c, CURLINFO_PRETRANSFER_TIME_T, &sent);
	if (sent == 0)
		l->last_ms = now_ms();
	if (now_ms() - l->last_ms < HTTP_STREAM_SILENCE_SEC * 1000u)
		return 0;
	l->silent = true;
	return 1; /* curl stops: CURLE_ABORTED_BY_CALLBACK */
}

int http_stream(const char *url, const char *token, const char *path, int timeout_ms,
		int (*on_line)(const char *line, size_t len, void *arg), void *arg, json_t **error,
		char *why, size_t len)
{
	struct lines l = { .on_line = on_line, .arg = arg };
	struct req q;
	CURLcode rc;
	int ret = req_init(&q, url, token, "GET", path, NULL, timeout_ms, why, len);

	*error = NULL;
	if (ret < 0)
		goto out;
	l.c = q.c;
	curl_easy_setopt(q.c, CURLOPT_WRITEFUNCTION, on_lines);
	curl_easy_setopt(q.c, CURLOPT_WRITEDATA, &l);
	curl_easy_setopt(q.c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(q.c, CURLOPT_XFERINFODATA, &l);
	curl_easy_setopt(q.c, CURLOPT_NOPROGRESS, 0L);
	l.last_ms = now_ms();
	rc = curl_easy_perform(q.c);
	if (l.silent && !l.stopped) {
		snprintf(why, len, "no data for %d s: the server is gone or stuck",
			 HTTP_STREAM_SILENCE_SEC);
		ret = -ETIMEDOUT;
		goto out;
	}
	if (rc != CURLE_OK && !l.stopped && rc != CURLE_OPERATION_TIMEDOUT) {
		ret = failure(rc, q.detail, url, why, len);
		goto out;
	}
	ret = req_status(&q, why, len);
	if (ret >= 300)
		*error = l.a.used ? json_loadb(l.a.buf, l.a.used, 0, NULL) : NULL;
out:
	req_free(&q);
	free(l.a.buf);
	return ret;
}

int http_path_escape(char *buf, size_t len, const char *segment)
{
	char *e = curl_easy_escape(NULL, segment, 0);
	int rc = 0;

	if (e == NULL || strlen(e) >= len)
		rc = -E2BIG;
	else
		strcpy(buf, e);
	curl_free(e);
	return rc;
}

int http_query_add(char *buf, size_t len, const char *key, const char *value)
{
	char *e = curl_easy_escape(NULL, value, 0);
	size_t used = strlen(buf);
	int n = e ? snprintf(buf + used, len - used, "%c%s=%s", strchr(buf, '?') ? '&' : '?', key,
			     e)
		  : -1;

	curl_free(e);
	if (n < 0 || (size_t)n >= len - used) {
		buf[used] = '\0';
		return -E2BIG;
	}
	return 0;
}
