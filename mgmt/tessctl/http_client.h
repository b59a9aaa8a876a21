/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl's client of tessmgrd's JSON API (libcurl: http:// and https://, one request a call). */
#ifndef TESSCTL_HTTP_CLIENT_H
#define TESSCTL_HTTP_CLIENT_H

#include <stddef.h>

#include <jansson.h>

/*
 * method path (with query) on url ("http://host:port" or "https://host:port",
 * the host an IPv6 literal in brackets if one) with a bearer token; body
 * (stolen) may be NULL. Returns the HTTP status and the JSON answer in
 * *result (NULL if it was not JSON), or -errno with why[] filled when no
 * answer came.
 */
int http_call(const char *url, const char *token, const char *method, const char *path,
	      json_t *body, int timeout_ms, json_t **result, char *why, size_t len);

/*
 * GET path on url as a stream of lines (GET /v1/events): each non-empty line
 * to on_line, until it returns non-zero, the server ends, or timeout_ms (0:
 * none) passes. Returns the HTTP status (an error's JSON in *error), or
 * -errno with why[] filled when no answer came.
 */
int http_stream(const char *url, const char *token, const char *path, int timeout_ms,
		int (*on_line)(const char *line, size_t len, void *arg), void *arg, json_t **error,
		char *why, size_t len);

/* The CA certificates (PEM file) https:// servers are checked against; NULL: the system's. */
void http_client_set_cacert(const char *path);

/*
 * Appends "key=value" to the path or query in buf, after '?' or '&', value
 * percent-encoded (a '&', '#' or space in it reaches the server as itself).
 * 0, or -E2BIG when buf is too small (buf then unchanged).
 */
int http_query_add(char *buf, size_t len, const char *key, const char *value);

/* A path segment (a name) percent-encoded into buf; 0 or -E2BIG. */
int http_path_escape(char *buf, size_t len, const char *segment);

#endif
