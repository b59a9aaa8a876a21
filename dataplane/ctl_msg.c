/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctl_msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_error_set(struct ctl_error *err, int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	cfg_utf8_trim(err->message);
	cfg_utf8_trim(err->path);
}

void ctl_error_from_text(struct ctl_error *err, int code, const char *text)
{
	const char *sep = text[0] == '/' ? strstr(text, ": ") : NULL;

	if (sep == NULL) {
		ctl_error_set(err, code, "", "%s", text);
		return;
	}
	ctl_error_set(err, code, "", "%s", sep + 2);
	snprintf(err->path, sizeof(err->path), "%.*s", (int)(sep - text), text);
}

void ctl_error_from_cfg(struct ctl_error *err, const struct cfg_errs *errs)
{
	if (errs->n == 0) {
		ctl_error_set(err, EINVAL, "", "invalid request");
		return;
	}
	err->code = errs->e[0].code ? errs->e[0].code : EINVAL;
	snprintf(err->path, sizeof(err->path), "%s", errs->e[0].path);
	snprintf(err->message, sizeof(err->message), "%s", errs->e[0].msg);
}

unsigned ctl_json_depth(const char *buf, size_t len)
{
	unsigned depth = 0, max = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if ((c == '}' || c == ']') && depth) {
			depth--;
		}
	}
	return max;
}

int ctl_request_parse(const char *buf, size_t len, unsigned max_depth, struct ctl_request *req,
		      struct ctl_error *err)
{
	json_error_t jerr;
	json_t *doc, *method;
	const char *key;
	json_t *v;
	unsigned depth;

	memset(req, 0, sizeof(*req));
	req->id = json_null();
	depth = ctl_json_depth(buf, len);
	if (depth > max_depth) {
		ctl_error_set(err, E2BIG, "", "request nests %u levels deep, the limit is %u",
			      depth, max_depth);
		return -E2BIG;
	}
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (doc == NULL) {
		ctl_error_set(err, EBADMSG, "", "malformed JSON at column %d: %s", jerr.column,
			      jerr.text);
		return -EBADMSG;
	}
	if (!json_is_object(doc)) {
		ctl_error_set(err, EINVAL, "", "a request is a JSON object");
		json_decref(doc);
		return -EINVAL;
	}
	v = json_object_get(doc, "id");
	if (v && (json_is_integer(v) || json_is_string(v) || json_is_null(v))) {
		json_decref(req->id);
		req->id = json_incref(v);
	} else if (v) {
		ctl_error_set(err, EINVAL, "/id", "id must be an integer, a string or null");
		json_decref(doc);
		return -EINVAL;
	}
	json_object_foreach (doc, key, v) {
		if (strcmp(key, "id") && strcmp(key, "method") && strcmp(key, "params")) {
			ctl_error_set(err, EINVAL, "", "unknown key '%s' in request", key);
			snprintf(err->path, sizeof(err->path), "/%s", key);
			json_decref(doc);
			return -EINVAL;
		}
	}
	method = json_object_get(doc, "method");
	if (method == NULL || !json_is_string(method) || json_string_length(method) == 0 ||
	    json_string_length(method) >= sizeof(req->method)) {
		ctl_error_set(err, EINVAL, "/method",
			      "method must be a non-empty string of at most %zu characters",
			      sizeof(req->method) - 1);
		json_decref(doc);
		return -EINVAL;
	}
	snprintf(req->method, sizeof(req->method), "%s", json_string_value(method));
	v = json_object_get(doc, "params");
	if (v && !json_is_object(v)) {
		ctl_error_set(err, EINVAL, "/params", "params must be an object");
		json_decref(doc);
		return -EINVAL;
	}
	req->params = v ? json_incref(v) : json_object();
	json_decref(doc);
	return 0;
}

void ctl_request_clear(struct ctl_request *req)
{
	json_decref(req->id);
	json_decref(req->params);
	req->id = NULL;
	req->params = NULL;
}

json_t *ctl_request_new(json_int_t id, const char *method, json_t *params)
{
	return json_pack("{s:I, s:s, s:o}", "id", id, "method", method, "params",
			 params ? params : json_object());
}

json_t *ctl_response_ok(json_t *id, json_t *result)
{
	return json_pack("{s:O, s:o}", "id", id ? id : json_null(), "result",
			 result ? result : json_object());
}

json_t *ctl_response_error(json_t *id, const struct ctl_error *err)
{
	return json_pack("{s:O, s:{s:i, s:s, s:s}}", "id", id ? id : json_null(), "error", "code",
			 err->code, "message", err->message, "path", err->path);
}

int ctl_response_parse(const char *buf, size_t len, json_int_t want_id, json_t **result,
		       struct ctl_error *err)
{
	json_error_t jerr;
	json_t *doc, *e, *r, *id;

	*result = NULL;
	doc = json_loadb(buf, len, 0, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		ctl_error_set(err, EBADMSG, "", "malformed response: %s",
			      doc ? "not an object" : jerr.text);
		json_decref(doc);
		return -EBADMSG;
	}
	id = json_object_get(doc, "id");
	e = json_object_get(doc, "error");
	/* An error with a null id is about the connection (too big, too many clients...). */
	if (!(e && json_is_null(id)) &&
	    (!json_is_integer(id) || json_integer_value(id) != want_id)) {
		ctl_error_set(err, EPROTO, "",
			      "response does not answer request %" JSON_INTEGER_FORMAT, want_id);
		json_decref(doc);
		return -EPROTO;
	}
	if (e) {
		json_t *code = json_object_get(e, "code");
		json_t *msg = json_object_get(e, "message");
		json_t *path = json_object_get(e, "path");
		ctl_error_set(err, json_is_integer(code) ? (int)json_integer_value(code) : EPROTO,
			      json_is_string(path) ? json_string_value(path) : "", "%s",
			      json_is_string(msg) ? json_string_value(msg) : "error");
		if (err->code <= 0)
			err->code = EPROTO;
		json_decref(doc);
		return -err->code;
	}
	r = json_object_get(doc, "result");
	if (r == NULL) {
		ctl_error_set(err, EBADMSG, "", "response has neither result nor error");
		json_decref(doc);
		return -EBADMSG;
	}
	*result = json_incref(r);
	json_decref(doc);
	return 0;
}

char *ctl_msg_encode(const json_t *msg, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	char *out = realloc(s, n + 2);
	if (out == NULL) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}

int ctl_linebuf_init(struct ctl_linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
	lb->cap = max < CTL_LINEBUF_BASE
			  ? max
			  : CTL_LINEBUF_BASE; /* ctl_linebuf_trim() returns to this */
	lb->buf = malloc(lb->cap);
	return lb->buf ? 0 : -ENOMEM;
}

void ctl_linebuf_free(struct ctl_linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

/* Drops the line handed out last; it stayed valid until now. */
static void linebuf_compact(struct ctl_linebuf *lb)
{
	if (lb->consumed) {
		memmove(lb->buf, lb->buf + lb->consumed, lb->len - lb->consumed);
		lb->len -= lb->consumed;
		lb->consumed = 0;
		lb->scanned = 0;
	}
}

char *ctl_linebuf_space(struct ctl_linebuf *lb, size_t *avail)
{
	/* One byte beyond max lets an oversize line be seen as such. */
	size_t limit = lb->max + 1;

	linebuf_compact(lb);
	if (lb->len == lb->cap && lb->cap < limit) {
		size_t ncap = lb->cap * 2 < limit ? lb->cap * 2 : limit;
		char *nb = realloc(lb->buf, ncap);
		if (nb) {
			lb->buf = nb;
			lb->cap = ncap;
		}
	}
	*avail = lb->cap - lb->len;
	return lb->buf + lb->len;
}

void ctl_linebuf_trim(struct ctl_linebuf *lb)
{
	size_t base = lb->max < CTL_LINEBUF_BASE ? lb->max : CTL_LINEBUF_BASE;
	char *nb;

	linebuf_compact(lb);
	if (lb->len > base || lb->cap <= base)
		return;
	nb = realloc(lb->buf, base);
	if (nb) {
		lb->buf = nb;
		lb->cap = base;
		if (lb->scanned > lb->len)
			lb->scanned = lb->len;
	}
}

void ctl_linebuf_commit(struct ctl_linebuf *lb, size_t n)
{
	lb->len += n;
}

const char *ctl_linebuf_next(struct ctl_linebuf *lb, size_t *len, bool *overflow)
{
	char *nl;

	*overflow = false;
	linebuf_compact(lb);
	nl = memchr(lb->buf + lb->scanned, '\n', lb->len - lb->scanned);
	if (nl == NULL) {
		lb->scanned = lb->len; /* a long line arriving in pieces is searched once */
		if (lb->len > lb->max)
			*overflow = true;
		return NULL;
	}
	/* Capacity is max + 1, so a line found here is at most max bytes. */
	*nl = '\0';
	*len = (size_t)(nl - lb->buf);
	lb->consumed = *len + 1;
	return lb->buf;
}
