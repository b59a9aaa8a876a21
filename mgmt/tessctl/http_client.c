/* SPDX-License-Identifier: BSD-3-Clause */
#include "http_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int http_call(const char *url, const char *token, const char *method, const char *path,
	      json_t *body, int timeout_ms, json_t **result, char *why, size_t len)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, *full = NULL, *auth = NULL;
	char detail[CURL_ERROR_SIZE] = "";
	struct answer a = { 0 };
	struct curl_slist *hdrs = NULL;
	CURL *c = NULL;
	long status = 0;
	size_t ulen = strlen(url);
	CURLcode rc;
	int ret;

	*result = NULL;
	json_decref(body);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(why, len, "'%s' is not an http://host:port or https://host:port URL", url);
		ret = -EINVAL;
		goto out;
	}
	/* A token is a header's value: a line break in it would make headers of its own. */
	if (token && strpbrk(token, "\r\n")) {
		snprintf(why, len, "the token has a line break");
		ret = -EINVAL;
		goto out;
	}
	while (ulen && url[ulen - 1] == '/')
		ulen--;
	full = malloc(ulen + strlen(path) + 1);
	auth = malloc(strlen("Authorization: Bearer ") + (token ? strlen(token) : 0) + 1);
	c = handle();
	if (full == NULL || auth == NULL || c == NULL) {
		snprintf(why, len, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	memcpy(full, url, ulen);
	strcpy(full + ulen, path);
	sprintf(auth, "Authorization: Bearer %s", token ? token : "");
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = hdrs ? curl_slist_append(hdrs, "Content-Type: application/json") : NULL;
	hdrs = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL; /* no 100-continue round trip */
	if (hdrs == NULL) {
		snprintf(why, len, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* tessmgrd directly, never $http_proxy's */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_ANSWER);
	if (cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	if (strcmp(method, "GET") != 0 || text) {
		/* A body (maybe empty) with its length, sent with the method asked for. */
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(text ? strlen(text) : 0));
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (a.too_large || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(why, len, "%s: an answer larger than " HTTP_MAX_ANSWER_TEXT, url);
		ret = a.too_large || rc == CURLE_FILESIZE_EXCEEDED
			      ? -EFBIG
			      : failure(rc, detail, url, why, len);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 100 || status > 999) {
		snprintf(why, len, "no HTTP answer (status %ld)", status);
		ret = -EPROTO;
		goto out;
	}
	/* tessmgrd's answers all have a JSON body: an empty one is a truncated answer. */
	*result = a.used ? json_loadb(a.buf, a.used, 0, NULL) : NULL;
	if (*result == NULL && status < 400) {
		snprintf(why, len, "an answer that is not JSON (%sHTTP status %ld)",
			 a.used ? "" : "empty, ", status);
		ret = -EPROTO;
		goto out;
	}
	ret = (int)status;
out:
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	free(a.buf);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(full);
	free(text);
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
