/* SPDX-License-Identifier: BSD-3-Clause */
#include "http_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* The largest answer read (tessmgrd's biggest lists are far smaller). */
#define HTTP_MAX_ANSWER      (64u << 20)
#define HTTP_MAX_ANSWER_TEXT "64 MiB"

/* "http://host:port" -> host, port. */
static int parse_url(const char *url, char *host, size_t hlen, char *port, size_t plen)
{
	const char *p = url, *colon, *end;

	if (strncmp(p, "http://", 7) != 0)
		return -EINVAL;
	p += 7;
	end = p + strcspn(p, "/");
	colon = memchr(p, ':', (size_t)(end - p));
	if (colon == NULL || colon == p || (size_t)(colon - p) >= hlen ||
	    (size_t)(end - colon - 1) >= plen || end == colon + 1)
		return -EINVAL;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	memcpy(port, colon + 1, (size_t)(end - colon - 1));
	port[end - colon - 1] = '\0';
	return 0;
}

static int dial(const char *host, const char *port, char *why, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *a;
	int fd = -1, rc = getaddrinfo(host, port, &hints, &res);

	if (rc != 0) {
		snprintf(why, len, "%s:%s: %s", host, port, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			snprintf(why, len, "%s:%s: %s", host, port, strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd < 0 ? -ECONNREFUSED : fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int http_call(const char *url, const char *token, const char *method, const char *path,
	      json_t *body, int timeout_ms, json_t **result, char *why, size_t len)
{
	char host[256], port[16], *text = NULL, *resp = NULL, *hdr;
	size_t used = 0, cap = 0;
	int fd, rc, status = 0;

	*result = NULL;
	if (parse_url(url, host, sizeof(host), port, sizeof(port)) < 0) {
		json_decref(body);
		snprintf(why, len, "'%s' is not an http://host:port URL", url);
		return -EINVAL;
	}
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	fd = dial(host, port, why, len);
	if (fd < 0) {
		free(text);
		return fd;
	}
	char head[1024];
	int hn = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
			  "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n\r\n",
			  method, path, host, port, token ? token : "", text ? strlen(text) : 0);
	rc = hn < (int)sizeof(head) ? send_all(fd, head, (size_t)hn) : -E2BIG;
	if (rc == 0 && text)
		rc = send_all(fd, text, strlen(text));
	free(text);
	while (rc == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, timeout_ms) <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (used + 4097 > cap) {
			/* Bounded: a broken or hostile server must not take all memory. */
			if (cap >= HTTP_MAX_ANSWER) {
				rc = -EFBIG;
				break;
			}
			size_t ncap = cap * 2 + 8192 > HTTP_MAX_ANSWER + 1 ? HTTP_MAX_ANSWER + 1
									   : cap * 2 + 8192;
			char *q = realloc(resp, ncap);
			if (q == NULL) {
				rc = -ENOMEM;
				break;
			}
			resp = q;
			cap = ncap;
		}
		n = recv(fd, resp + used, cap - used - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	/* Terminated before anything reads it as a string. */
	if (resp)
		resp[used] = '\0';
	hdr = resp ? strstr(resp, "\r\n\r\n") : NULL;
	if (rc < 0 || hdr == NULL || sscanf(resp, "HTTP/1.%*d %d", &status) != 1 || status < 100 ||
	    status > 999) {
		free(resp);
		snprintf(why, len, "%s:%s: %s", host, port,
			 rc == -ETIMEDOUT ? "no answer in time"
			 : rc == -EFBIG   ? "an answer larger than " HTTP_MAX_ANSWER_TEXT
			 : rc == -ENOMEM  ? "out of memory"
					  : "no HTTP answer (or a truncated one)");
		return rc < 0 ? rc : -EPROTO;
	}
	*result = json_loads(hdr + 4, 0, NULL);
	if (*result == NULL && hdr[4] != '\0' && status < 400) {
		free(resp);
		snprintf(why, len, "%s:%s: an answer that is not JSON (HTTP status %d)", host, port,
			 status);
		return -EPROTO;
	}
	free(resp);
	return status;
}
