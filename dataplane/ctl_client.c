/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctl_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_CLIENT_MAX_RESPONSE (256u << 20)

int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ctl_client_open(struct ctl_client *c, const char *path, int timeout_ms, struct ctl_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	c->next_id = 1;
	if (strncmp(path, "unix://", 7) == 0) /* the URI form of tessmgrd's host addresses */
		path += 7;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		ctl_error_set(err, ENAMETOOLONG, "", "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/*
	 * A blocking connect waits without end while tessd's backlog is full (a tessd stopped
	 * or hung): not blocking, it fails at once (EAGAIN), tried again until timeout_ms.
	 */
	int64_t deadline = ctl_now_ms() + timeout_ms;
	for (;;) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int fl = c->fd >= 0 ? fcntl(c->fd, F_GETFL) : -1;
		if (fl >= 0 && fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
		    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    fcntl(c->fd, F_SETFL, fl) == 0)
			break;
		int e = errno;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		if (e == EAGAIN && ctl_now_ms() < deadline) {
			usleep(10 * 1000);
			continue;
		}
		ctl_error_set(err, e, "", "cannot connect to tessd at %s: %s%s", path,
			      e == EAGAIN ? "it takes no more connections" : strerror(e),
			      e == ENOENT || e == ECONNREFUSED ? " (is tessd running?)"
			      : e == EAGAIN                    ? " (is it hung?)"
							       : "");
		return -e;
	}
	if (ctl_linebuf_init(&c->lb, CTL_CLIENT_MAX_RESPONSE) < 0) {
		ctl_error_set(err, ENOMEM, "", "out of memory");
		close(c->fd);
		c->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * The next line from tessd by deadline (ms of ctl_now_ms()): 1 with *line, 0 when
 * the deadline passed, -errno (err set) when the connection failed. sent is
 * how sending the request went (a closed connection may still say why).
 */
static int wait_line(struct ctl_client *c, int64_t deadline, const char **line, size_t *llen,
		     int sent, struct ctl_error *err)
{
	for (;;) {
		bool overflow;
		size_t avail;

		*line = ctl_linebuf_next(&c->lb, llen, &overflow);
		if (*line)
			return 1;
		if (overflow) {
			ctl_error_set(err, EMSGSIZE, "", "response larger than %u bytes",
				      CTL_CLIENT_MAX_RESPONSE);
			return -EMSGSIZE;
		}
		int64_t left = deadline - ctl_now_ms();
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		/* Past the deadline, what has arrived is still taken (a stream's reader drains). */
		int p = poll(&pfd, 1, left <= 0 ? 0 : left > INT32_MAX ? -1 : (int)left);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			ctl_error_set(err, errno, "", "poll: %s", strerror(errno));
			return -err->code;
		}
		if (p == 0)
			return 0;
		char *space = ctl_linebuf_space(&c->lb, &avail);
		ssize_t n = recv(c->fd, space, avail, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == 0 || errno == ECONNRESET ? ECONNRESET : errno;
			ctl_error_set(err, e, "", "tessd closed the connection%s%s",
				      sent < 0 ? " before taking the request: " : ": ",
				      strerror(sent < 0 ? -sent : e));
			return -e;
		}
		ctl_linebuf_commit(&c->lb, (size_t)n);
	}
}

/* Encodes and sends a request (params stolen): 0, or -errno (err set unless the peer closed:
 * EPIPE and ECONNRESET, after which it may still have said why). */
static int send_request(struct ctl_client *c, const char *method, json_t *params, json_int_t *id,
			struct ctl_error *err)
{
	json_t *req;
	size_t len;
	char *text;
	int rc;

	*id = c->next_id++;
	req = ctl_request_new(*id, method, params);
	text = req ? ctl_msg_encode(req, &len) : NULL;
	json_decref(req);
	if (text == NULL) {
		ctl_error_set(err, ENOMEM, "", "cannot encode the request");
		return -ENOMEM;
	}
	rc = send_all(c->fd, text, len);
	free(text);
	if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET)
		ctl_error_set(err, -rc, "", "cannot send to tessd: %s", strerror(-rc));
	return rc;
}

int ctl_client_call(struct ctl_client *c, const char *method, json_t *params, json_t **result,
		    struct ctl_error *err)
{
	int64_t deadline = ctl_now_ms() + c->timeout_ms;
	const char *line;
	json_int_t id;
	size_t llen;
	int rc;

	*result = NULL;
	rc = send_request(c, method, params, &id, err);
	if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET)
		return rc;
	/* Even when tessd closed the connection, it may have said why: read that. */
	rc = wait_line(c, deadline, &line, &llen, rc, err);
	if (rc == 0) {
		ctl_error_set(err, ETIMEDOUT, "", "tessd did not answer '%s' within %d ms", method,
			      c->timeout_ms);
		return -ETIMEDOUT;
	}
	return rc < 0 ? rc : ctl_response_parse(line, llen, id, result, err);
}

int ctl_client_send(struct ctl_client *c, const char *method, json_t *params, json_int_t *id,
		    struct ctl_error *err)
{
	int rc = send_request(c, method, params, id, err);

	if (rc == -EPIPE || rc == -ECONNRESET)
		ctl_error_set(err, -rc, "", "tessd closed the connection: %s", strerror(-rc));
	return rc;
}

int ctl_client_answer(struct ctl_client *c, json_int_t id, int timeout_ms, json_t **result,
		      struct ctl_error *err)
{
	const char *line;
	size_t llen;
	int rc = wait_line(c, ctl_now_ms() + timeout_ms, &line, &llen, 0, err);

	*result = NULL;
	if (rc <= 0)
		return rc;
	rc = ctl_response_parse(line, llen, id, result, err);
	return rc < 0 ? rc : 1;
}

int ctl_client_next(struct ctl_client *c, int timeout_ms, json_t **msg, struct ctl_error *err)
{
	const char *line;
	size_t len;
	int rc = wait_line(c, timeout_ms < 0 ? INT64_MAX : ctl_now_ms() + timeout_ms, &line, &len,
			   0, err);

	*msg = NULL;
	if (rc <= 0)
		return rc;
	*msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (*msg == NULL) {
		ctl_error_set(err, EBADMSG, "", "tessd sent a line that is not JSON");
		return -EBADMSG;
	}
	return 1;
}

void ctl_client_close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	ctl_linebuf_free(&c->lb);
}
