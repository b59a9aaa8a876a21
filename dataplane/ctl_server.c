/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "byteq.h"
#include "log.h"

/* control.max_buffered's lower bound (config/tessd_config.c) counts what ctl_linebuf holds. */
_Static_assert(CTL_LINEBUF_BASE == TESS_CTL_CLIENT_BUF, "the config's bound and the buffer differ");

#define CTL_MAX_TABLES 32
#define CTL_OUT_HIGH   (1u << 20) /* unread answers held for one client */
#define CTL_STALL_SEC  30         /* a client that reads no answer this long is dropped */

struct client {
	int fd;
	struct ev_handle *h;
	struct ctl_linebuf in;
	struct byteq out; /* answers and events not yet sent */
	bool closing;     /* close once the output is sent */
	uint32_t events;  /* what epoll watches now */
	time_t progress;  /* last request read or answer sent (ev_mono_sec) */
	bool stream;      /* events.subscribe: ctl_server_stream() writes to it */
	json_t *kinds;    /* a stream's filter: kinds or their prefixes; NULL: all */
	struct client *next;
};

static const struct ctl_method *tables[CTL_MAX_TABLES];
static unsigned n_tables;

static struct {
	const struct tessd_ctl_cfg *cfg;
	struct evloop *loop;
	int lock_fd;
	int listen_fd;
	struct ev_listener listener; /* the socket's; paused out of descriptors (evloop.h) */
	struct client *clients;
	unsigned n_clients, n_streams;
	char path[TESS_SOCKPATH_LEN];
	gid_t gid;
	size_t in_bytes; /* request buffers of all clients (control.max_buffered) */
	struct ctl_server_counters cnt;
} srv = { .lock_fd = -1, .listen_fd = -1, .gid = (gid_t)-1 };

int ctl_register(const struct ctl_method *methods)
{
	/* A params schema that does not fit its struct would overflow it: refuse at start. */
	for (const struct ctl_method *m = methods; m->name; m++) {
		struct cfg_errs errs;

		cfg_errs_init(&errs);
		if (m->params && cfg_schema_check(m->params, &errs) < 0) {
			CTL_LOG(ERR, "method %s: params schema broken at %s: %s", m->name,
				errs.e[0].path, errs.e[0].msg);
			return -EINVAL;
		}
	}
	if (n_tables == CTL_MAX_TABLES)
		return -ENOSPC;
	tables[n_tables++] = methods;
	return 0;
}

const struct ctl_method *ctl_method_find(const char *name)
{
	for (unsigned t = 0; t < n_tables; t++)
		for (const struct ctl_method *m = tables[t]; m->name; m++)
			if (strcmp(m->name, name) == 0)
				return m;
	return NULL;
}

json_t *ctl_methods_json(void)
{
	json_t *a = json_array();

	for (unsigned t = 0; t < n_tables; t++)
		for (const struct ctl_method *m = tables[t]; m->name; m++)
			json_array_append_new(a,
					      json_pack("{s:s, s:s}", "method", m->name, "summary",
							m->summary ? m->summary : ""));
	return a;
}

static json_t *method_json(const struct ctl_method *m)
{
	json_t *params = m->params ? cfg_schema_json(m->params) : json_null();

	if (params == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:o, s:b}", "method", m->name, "summary",
			 m->summary ? m->summary : "", "params", params, "partial", m->raw);
}

json_t *ctl_method_json(const char *name)
{
	const struct ctl_method *m = ctl_method_find(name);

	if (m == NULL) {
		errno = ENOENT;
		return NULL;
	}
	return method_json(m);
}

json_t *ctl_methods_schema_json(void)
{
	json_t *a = json_array();

	for (unsigned t = 0; a && t < n_tables; t++)
		for (const struct ctl_method *m = tables[t]; m->name; m++) {
			json_t *d = method_json(m);
			if (d == NULL || json_array_append_new(a, d) < 0) {
				json_decref(a);
				return NULL;
			}
		}
	return a;
}

int ctl_dispatch(const struct ctl_request *req, json_t **result, struct ctl_error *err)
{
	const struct ctl_method *m = ctl_method_find(req->method);
	struct cfg_errs errs;
	void *params = NULL;
	int rc;

	*result = NULL;
	if (m == NULL) {
		ctl_error_set(err, EOPNOTSUPP, "/method", "unknown method '%s'", req->method);
		return -EOPNOTSUPP;
	}
	if (m->raw) {
		rc = m->fn(req->params, result, err);
		goto done;
	}
	if (m->params == NULL) {
		if (json_object_size(req->params)) {
			ctl_error_set(err, EINVAL, "/params", "method '%s' takes no params",
				      m->name);
			return -EINVAL;
		}
	} else {
		params = calloc(1, m->params->obj.size);
		if (params == NULL) {
			ctl_error_set(err, ENOMEM, "", "out of memory");
			return -ENOMEM;
		}
		cfg_errs_init(&errs);
		if (cfg_decode(m->params, req->params, params, "/params", &errs) < 0) {
			ctl_error_from_cfg(err, &errs);
			free(params);
			return -err->code;
		}
	}
	rc = m->fn(params, result, err);
	if (params) {
		cfg_free(m->params, params);
		free(params);
	}
done:
	if (rc < 0 && err->code == 0)
		ctl_error_set(err, -rc, "", "%s failed: %s", m->name, strerror(-rc));
	/* Per request (never per packet): what the control socket was asked, at debug. */
	bool at = rc < 0 && err->path[0];
	CTL_LOG(DEBUG, "%s: %s%s%s%s", m->name,
		rc == 0 ? "ok" : "error: ", rc == 0 ? "" : err->message, at ? " at " : "",
		at ? err->path : "");
	if (rc == 0 && *result == NULL)
		*result = json_object();
	return rc;
}

/* ---- clients ---- */

static void client_free(struct client *c)
{
	struct client **pp = &srv.clients;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	ev_del(srv.loop, c->h);
	close(c->fd);
	srv.in_bytes -= c->in.cap;
	ctl_linebuf_free(&c->in);
	byteq_free(&c->out);
	srv.n_streams -= c->stream;
	json_decref(c->kinds);
	free(c);
	srv.n_clients--;
}

static void client_watch(struct client *c, uint32_t events)
{
	if (c->events != events && ev_mod(srv.loop, c->h, events) == 0)
		c->events = events;
}

/* Sends what is queued; false when the client is to be freed. */
static bool client_flush(struct client *c)
{
	while (byteq_pending(&c->out) > 0) {
		ssize_t w = send(c->fd, byteq_data(&c->out), byteq_pending(&c->out),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return false;
		}
		byteq_consume(&c->out, (size_t)w);
		c->progress = ev_mono_sec();
	}
	if (byteq_pending(&c->out) == 0 && c->closing)
		return false;
	/* While output is pending, read nothing more: a client that does not read is not served. */
	client_watch(c, byteq_pending(&c->out) ? EPOLLOUT : EPOLLIN);
	return true;
}

static void client_queue(struct client *c, json_t *msg)
{
	/* If an answer cannot be encoded, the client still gets one. */
	static const char fallback[] = "{\"id\":null,\"error\":{\"code\":12,\"message\":\"cannot "
				       "encode the answer\",\"path\":\"\"}}\n";
	size_t len;
	char *text = msg ? ctl_msg_encode(msg, &len) : NULL;
	int rc;

	json_decref(msg);
	if (text)
		rc = byteq_push(&c->out, text, len, SIZE_MAX);
	else
		rc = byteq_push(&c->out, fallback, sizeof(fallback) - 1, SIZE_MAX);
	if (rc < 0)
		c->closing = true;
	free(text);
}

static void handle_line(struct client *c, const char *line, size_t len)
{
	struct ctl_request req;
	struct ctl_error err = { 0 };
	json_t *result;

	if (len == 0 || c->stream)
		return; /* a stream reads no more requests */
	if (ctl_request_parse(line, len, srv.cfg->max_depth, &req, &err) < 0) {
		CTL_LOG(INFO, "bad request: %s", err.message);
		client_queue(c, ctl_response_error(req.id, &err));
	} else if (ctl_dispatch(&req, &result, &err) < 0) {
		CTL_LOG(INFO, "%s: error %d at %s: %s", req.method, err.code,
			err.path[0] ? err.path : "/", err.message);
		client_queue(c, ctl_response_error(req.id, &err));
	} else {
		const struct ctl_method *m = ctl_method_find(req.method);
		if (m && m->stream) {
			c->stream = true;
			srv.n_streams++;
			c->kinds = json_incref(json_object_get(result, "kinds"));
		}
		client_queue(c, ctl_response_ok(req.id, result));
	}
	ctl_request_clear(&req);
}

/*
 * Answers buffered requests until the client's unread answers reach
 * CTL_OUT_HIGH: a client that sends without reading cannot make tessd
 * buffer without bound. Returns true if it stopped there, with requests
 * possibly left to answer once the output drains.
 */
static bool client_process(struct client *c)
{
	while (!c->closing) {
		bool overflow;
		size_t len;
		const char *line;

		if (byteq_pending(&c->out) >= CTL_OUT_HIGH)
			return true;
		line = ctl_linebuf_next(&c->in, &len, &overflow);
		if (overflow) {
			struct ctl_error err;
			ctl_error_set(&err, EMSGSIZE, "", "request larger than %u bytes",
				      srv.cfg->max_request);
			CTL_LOG(INFO, "closing a client: %s", err.message);
			client_queue(c, ctl_response_error(NULL, &err));
			c->closing = true;
			break;
		}
		if (line == NULL)
			break;
		handle_line(c, line, len);
	}
	return false;
}

/* Answers and sends until nothing is left to answer or the client must wait; false: free it. */
static bool client_service(struct client *c)
{
	for (;;) {
		bool more = client_process(c);
		if (!client_flush(c))
			return false;
		if (!more || byteq_pending(&c->out))
			return true;
	}
}

static void client_event(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;

	(void)h;
	if (events & EPOLLOUT) {
		if (!client_flush(c) || (byteq_pending(&c->out) == 0 && !client_service(c)))
			client_free(c);
		return;
	}
	size_t avail, had = c->in.cap;
	char *space = ctl_linebuf_space(&c->in, &avail);
	ssize_t n;

	/* Partial lines of all clients together stay within max_buffered (review 2.3). */
	srv.in_bytes += c->in.cap - had;
	if (c->in.cap > had && srv.in_bytes > srv.cfg->max_buffered) {
		struct ctl_error err;

		srv.cnt.buffer_refused++;
		ctl_error_set(&err, ENOBUFS, "",
			      "tessd holds too many unfinished requests (control.max_buffered is "
			      "%u bytes); try again",
			      srv.cfg->max_buffered);
		CTL_LOG(NOTICE, "closing a client: %s", err.message);
		client_queue(c, ctl_response_error(NULL, &err));
		c->closing = true;
		if (!client_flush(c))
			client_free(c);
		return;
	}
	n = avail ? recv(fd, space, avail, MSG_DONTWAIT) : 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 && avail) {
		client_free(c);
		return;
	}
	ctl_linebuf_commit(&c->in, (size_t)n);
	c->progress = ev_mono_sec();
	if (!client_service(c)) {
		client_free(c);
		return;
	}
	/* A large request answered: give its buffer back to the budget. */
	had = c->in.cap;
	ctl_linebuf_trim(&c->in);
	srv.in_bytes -= had - c->in.cap;
}

static void accept_event(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	(void)h;
	(void)events;
	(void)arg;
	for (;;) {
		int cfd = ev_accept(&srv.listener, fd);
		struct client *c;

		if (cfd < 0)
			return; /* none left, or paused (evloop.h) */
		c = calloc(1, sizeof(*c));
		if (c == NULL || ctl_linebuf_init(&c->in, srv.cfg->max_request) < 0) {
			free(c);
			close(cfd);
			continue;
		}
		srv.in_bytes += c->in.cap;
		c->fd = cfd;
		c->events = EPOLLIN;
		c->progress = ev_mono_sec();
		c->h = ev_add(srv.loop, cfd, EPOLLIN, client_event, c);
		if (c->h == NULL) {
			srv.in_bytes -= c->in.cap;
			ctl_linebuf_free(&c->in);
			free(c);
			close(cfd);
			continue;
		}
		c->next = srv.clients;
		srv.clients = c;
		srv.n_clients++;
		if (srv.n_clients > srv.cfg->max_clients) {
			struct ctl_error err;
			ctl_error_set(&err, EUSERS, "", "too many clients (max_clients is %u)",
				      srv.cfg->max_clients);
			client_queue(c, ctl_response_error(NULL, &err));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak" /* c->out, as in client_queue() */
			c->closing = true;
#pragma GCC diagnostic pop
			if (!client_flush(c))
				client_free(c);
		}
	}
}

/* ---- socket ---- */

static int mkdir_parents(const char *path)
{
	char buf[TESS_SOCKPATH_LEN];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int ctl_server_check(const struct tessd_ctl_cfg *cfg, char *err, size_t len)
{
	if (cfg->group[0]) {
		struct group *g = getgrnam(cfg->group);
		if (g == NULL) {
			snprintf(err, len, "/control/group: no group named '%s'", cfg->group);
			return -ENOENT;
		}
		srv.gid = g->gr_gid;
	}
	return 0;
}

int ctl_server_prepare(const struct tessd_ctl_cfg *cfg, char *err, size_t len)
{
	char lock[TESS_SOCKPATH_LEN + 8], pid[32] = "";
	int rc;

	snprintf(srv.path, sizeof(srv.path), "%s", cfg->socket);
	rc = mkdir_parents(cfg->socket);
	if (rc < 0) {
		snprintf(err, len, "/control/socket: cannot create the directory of %s: %s",
			 cfg->socket, strerror(-rc));
		return rc;
	}
	snprintf(lock, sizeof(lock), "%s.lock", cfg->socket);
	/* The socket's directory may be writable by others: follow no symlink, accept only a
	 * plain file of ours, so that nothing else is truncated or written (review 2.3). */
	srv.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (srv.lock_fd < 0) {
		rc = -errno;
		snprintf(err, len, "/control/socket: cannot open %s: %s%s", lock, strerror(errno),
			 errno == ELOOP ? " (a symlink; remove it)" : "");
		return rc;
	}
	struct stat st;
	if (fstat(srv.lock_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		snprintf(err, len,
			 "/control/socket: %s is not a plain file of tessd's user (one link); "
			 "remove it",
			 lock);
		close(srv.lock_fd);
		srv.lock_fd = -1;
		return -EPERM;
	}
	if (flock(srv.lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (pread(srv.lock_fd, pid, sizeof(pid) - 1, 0) > 0)
			pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, len,
			 "another tessd%s%s%s is already serving %s; stop it or set control.socket",
			 pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", cfg->socket);
		close(srv.lock_fd);
		srv.lock_fd = -1;
		return rc == -EWOULDBLOCK ? -EADDRINUSE : rc;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(srv.lock_fd, 0) < 0 || pwrite(srv.lock_fd, pid, strlen(pid), 0) < 0)
		CTL_LOG(WARNING, "cannot write pid to %s: %s", lock, strerror(errno));
	return 0;
}

int ctl_server_open(const struct tessd_ctl_cfg *cfg, struct evloop *l, char *err, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t mode = (mode_t)strtoul(cfg->mode, NULL, 8);
	int fd, rc, pfd = -1;
	char proc[32];
	struct stat st;

	srv.cfg = cfg;
	srv.loop = l;
	memcpy(sa.sun_path, cfg->socket, strlen(cfg->socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* We hold the lock, so a socket file left here belongs to a tessd that died. */
	unlink(cfg->socket);
	/*
	 * The socket file is never wider than its mode (review 2.3), without touching the
	 * process umask (other threads create files meanwhile): bind() makes it with the
	 * mode of the socket's own inode less the umask, so that mode is set first; then,
	 * before listen(), it gets its group and exactly its mode through an O_PATH
	 * descriptor of the file bind made: a path swapped for a symlink in between is
	 * never followed.
	 */
	if (fchmod(fd, mode) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	pfd = open(cfg->socket, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		goto fail;
	if (fstat(pfd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		errno = EPERM;
		goto fail;
	}
	if (srv.gid != (gid_t)-1 && fchownat(pfd, "", (uid_t)-1, srv.gid, AT_EMPTY_PATH) < 0)
		goto fail;
	/* chmod() of an O_PATH descriptor: through /proc, as glibc's fchmodat() does. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if ((st.st_mode & 07777) != mode && chmod(proc, mode) < 0)
		goto fail;
	close(pfd);
	pfd = -1;
	if (listen(fd, 64) < 0)
		goto fail;
	srv.listener = (struct ev_listener){ .loop = l,
					     .what = "a control client",
					     .logtype = tess_logtype_ctl,
					     .log = "tess.ctl" };
	srv.listener.h = ev_add(l, fd, EPOLLIN, accept_event, NULL);
	if (srv.listener.h == NULL)
		goto fail;
	srv.listen_fd = fd;
	CTL_LOG(INFO, "control socket %s (mode %s)", cfg->socket, cfg->mode);
	return 0;
fail:
	rc = -errno;
	snprintf(err, len, "/control/socket: cannot serve %s: %s", cfg->socket, strerror(errno));
	if (pfd >= 0)
		close(pfd);
	if (fd >= 0) {
		close(fd);
		unlink(cfg->socket);
	}
	return rc;
}

void ctl_server_tick(void)
{
	time_t now = ev_mono_sec();

	ev_listener_tick(&srv.listener);
	for (struct client *c = srv.clients, *next; c; c = next) {
		next = c->next;
		if (byteq_pending(&c->out) && now - c->progress > CTL_STALL_SEC) {
			CTL_LOG(NOTICE, "dropping a client that read no answer for %d s",
				CTL_STALL_SEC);
			srv.cnt.stall_dropped++;
			client_free(c);
		} else if (!byteq_pending(&c->out) && !c->stream &&
			   now - c->progress >= (time_t)srv.cfg->idle_sec) {
			/* Idle connections would otherwise hold max_clients slots forever. */
			CTL_LOG(INFO, "dropping a client idle for %u s (control.idle_sec)",
				srv.cfg->idle_sec);
			srv.cnt.idle_dropped++;
			client_free(c);
		}
	}
}

void ctl_server_get_counters(struct ctl_server_counters *c)
{
	*c = srv.cnt;
	c->clients = srv.n_clients;
	c->streams = srv.n_streams;
	c->buffered = srv.in_bytes;
}

static bool stream_takes(const struct client *c, const char *kind)
{
	size_t i;
	json_t *k;

	if (!json_is_array(c->kinds) || json_array_size(c->kinds) == 0)
		return true;
	json_array_foreach (c->kinds, i, k) {
		const char *p = json_string_value(k);
		size_t n = p ? strlen(p) : 0;
		if (p && strncmp(kind, p, n) == 0 && (kind[n] == '\0' || kind[n] == '.'))
			return true;
	}
	return false;
}

unsigned ctl_server_stream(const char *kind, const char *line, size_t len, uint64_t *dropped)
{
	unsigned sent = 0;

	for (struct client *c = srv.clients, *next; c; c = next) {
		next = c->next;
		if (!c->stream || c->closing || !stream_takes(c, kind))
			continue;
		/* A slow reader misses events; it never makes tessd hold more or wait: the
		 * queue's memory is bounded by CTL_STREAM_HIGH, not only its unread part. */
		if (byteq_push(&c->out, line, len, CTL_STREAM_HIGH) < 0) {
			(*dropped)++;
			continue;
		}
		sent++;
		if (!client_flush(c))
			client_free(c);
	}
	return sent;
}

void ctl_server_close(void)
{
	while (srv.clients)
		client_free(srv.clients);
	if (srv.listen_fd >= 0) {
		ev_del(srv.loop, srv.listener.h);
		close(srv.listen_fd);
		unlink(srv.path);
		srv.listen_fd = -1;
	}
	/* The lock file stays: unlinking it would let two tessd lock different inodes. */
	if (srv.lock_fd >= 0)
		close(srv.lock_fd);
	srv.lock_fd = -1;
}
