/* SPDX-License-Identifier: BSD-3-Clause */
/* A small blocking HTTP/1.1 client for tessmgrd's JSON API (one request per connection). */
#ifndef TESSCTL_HTTP_CLIENT_H
#define TESSCTL_HTTP_CLIENT_H

#include <jansson.h>

/*
 * method path (with query) on url ("http://host:port") with a bearer token;
 * body (stolen) may be NULL. Returns the HTTP status and the JSON answer in
 * *result (NULL if it was not JSON), or -errno with why[] filled when no
 * answer came.
 */
int http_call(const char *url, const char *token, const char *method, const char *path,
	      json_t *body, int timeout_ms, json_t **result, char *why, size_t len);

#endif
