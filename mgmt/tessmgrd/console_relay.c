/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A live console's thread: it opens the desktop's console in libvirt (VNC:
 * a socket of QEMU's VNC server passed by the host's daemon, or over
 * qemu+ssh:// the display's port reached with ssh -W; serial: a
 * stream of the domain's console, whose bytes libvirt's event loop writes
 * into a socket pair), then polls the WebSocket and that descriptor: client
 * frames are parsed (ws.h) and their payloads written to the console, the
 * console's bytes go out as binary frames. It checks the console's
 * conditions (console_check) each second, and closes with a code and reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "console.h"
#include "http.h"
#include "ssh_cmd.h"
#include "tlog.h"
#include "virt.h"
#include "ws.h"

#define WRITE_WAIT_MS  5000 /* a frame or write not taken in this long ends the console */
#define WRITE_SLICE_MS 200  /* how often a wait for room looks at console_stopping */
#define CHUNK          65536

struct relay {
	struct console *k;
	int be;          /* the console's descriptor (VNC socket, or the serial pair's end) */
	virStreamPtr st; /* serial: the console's stream */
	struct serial_box *box; /* and what its callback writes to */
	struct ws_msg msg;
	uint8_t *in; /* client bytes not yet parsed */
	size_t n_in;
	pid_t ssh;   /* a remote VNC display's ssh -W (0: none) */
	int ssh_err; /* and what it says on stderr (-1: none) */
	int code;    /* the close to send (0: none yet) */
	char reason[128];
	bool peer_closed; /* the client sent its close (answered) or went away */
};

/*
 * Writes n bytes to a non-blocking fd by until_ms (console_now_ms), waiting for room: 0 or
 * -1 (also at once when tessmgrd stops: its shutdown must not wait for a client that does
 * not read). The deadline is the whole write's: a reader that takes a few bytes now and
 * then cannot hold the relay (console review).
 */
static int write_all(int fd, const void *buf, size_t n, uint64_t until_ms)
{
	const uint8_t *p = buf;

	while (n) {
		uint64_t now;
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		now = console_now_ms();
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !console_stopping() &&
		    now < until_ms) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			uint64_t left = until_ms - now;
			int rc = poll(&pf, 1, left < WRITE_SLICE_MS ? (int)left : WRITE_SLICE_MS);
			if (rc >= 0 && !(pf.revents & (POLLERR | POLLHUP | POLLNVAL)))
				continue;
		}
		return -1;
	}
	return 0;
}

static int send_frame(struct relay *r, uint8_t op, const uint8_t *p, size_t n)
{
	uint8_t h[WS_MAX_HEADER];
	size_t hl = ws_header(h, op, true, n);
	uint64_t until = console_now_ms() + WRITE_WAIT_MS; /* the frame's, header and all */

	if (write_all(r->k->fd, h, hl, until) < 0 || (n && write_all(r->k->fd, p, n, until) < 0))
		return -1;
	return 0;
}

/* Ends the relay with code and reason, what and (if not NULL) detail (the first one given
 * wins); a reason longer than the buffer is cut (a close frame carries 123 bytes anyway). */
static void stop(struct relay *r, int code, const char *what, const char *detail)
{
	size_t n;

	if (r->code)
		return;
	r->code = code;
	n = strnlen(what, sizeof(r->reason) - 1);
	memcpy(r->reason, what, n);
	if (detail && n + 2 < sizeof(r->reason) - 1) {
		memcpy(r->reason + n, ": ", 2);
		n += 2;
		size_t m = strnlen(detail, sizeof(r->reason) - 1 - n);
		memcpy(r->reason + n, detail, m);
		n += m;
	}
	r->reason[n] = '\0';
}

/* ---- the serial console's stream ---- */

/*
 * What libvirt's event loop hands the console's bytes to. libvirt 9.0's remote driver never
 * calls a stream callback's free function, and a callback it has begun to dispatch may still
 * run after virStreamEventRemoveCallback has returned (it does not wait for it), so the
 * callback is given its box's id, not the box: it finds the box in this list under its lock,
 * a box retired is unlisted and freed at once, and a late callback finds none and returns.
 * Ids are never reused. The list is as long as the serial consoles open (console.max_sessions).
 */
struct serial_box {
	uint64_t id;
	int wfd; /* the pair's end the console's bytes go to */
	struct serial_box *next;
};

static pthread_mutex_t boxes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct serial_box *boxes;
static uint64_t last_box_id;

static struct serial_box *box_new(int wfd)
{
	struct serial_box *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->wfd = wfd;
	pthread_mutex_lock(&boxes_lock);
	b->id = ++last_box_id;
	b->next = boxes;
	boxes = b;
	pthread_mutex_unlock(&boxes_lock);
	return b;
}

/* After the callback is removed: a dispatch still under way finds no box. */
static void box_retire(struct serial_box *b)
{
	pthread_mutex_lock(&boxes_lock);
	for (struct serial_box **p = &boxes; *p; p = &(*p)->next)
		if (*p == b) {
			*p = b->next;
			break;
		}
	pthread_mutex_unlock(&boxes_lock);
	close(b->wfd);
	free(b);
}

/* In libvirt's event loop: the console's bytes into the pair (never waiting: a relay that
 * cannot keep up with a serial line loses what does not fit in the pair's buffer). */
static void serial_readable(virStreamPtr st, int events, void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg;
	struct serial_box *b;
	char buf[4096];
	int n = -2;

	(void)events;
	pthread_mutex_lock(&boxes_lock);
	for (b = boxes; b && b->id != id; b = b->next)
		;
	while (b && (n = virStreamRecv(st, buf, sizeof(buf))) > 0)
		if (send(b->wfd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN)
			break;
	if (b && (n == 0 || n == -1)) {
		/* The relay sees the end and removes the callback. */
		shutdown(b->wfd, SHUT_WR);
		virStreamEventUpdateCallback(st, 0);
	}
	pthread_mutex_unlock(&boxes_lock);
}

static int open_serial(struct relay *r, virDomainPtr d, char *err, size_t len)
{
	int sp[2];
	struct serial_box *b;

	r->st = virStreamNew(virDomainGetConnect(d), VIR_STREAM_NONBLOCK);
	/* FORCE: a browser that went away without closing must not lock its user out. */
	if (r->st == NULL || virDomainOpenConsole(d, NULL, r->st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
		const virError *e = virGetLastError();
		snprintf(err, len, "%s", e && e->message ? e->message : "libvirt error");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0) {
		snprintf(err, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	b = box_new(sp[1]);
	if (b == NULL) {
		close(sp[0]);
		close(sp[1]);
		snprintf(err, len, "out of memory");
		return -1;
	}
	r->box = b;
	if (virStreamEventAddCallback(r->st,
				      VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
					      VIR_STREAM_EVENT_HANGUP,
				      serial_readable, (void *)(uintptr_t)b->id, NULL) < 0) {
		close(sp[0]);
		snprintf(err, len, "cannot watch the console's stream");
		return -1;
	}
	r->be = sp[0];
	return 0;
}

/*
 * The VNC display of a desktop on a host reached over qemu+ssh://: QEMU listens on that
 * host's loopback (domain_xml.c), at the port its live XML says, reached with `ssh -W` and
 * tessmgrd's ssh options (ssh_cmd.h), the same as its tessd tunnels'. The relay's end is one
 * of a socket pair whose other end is ssh's stdin and stdout; ssh's stderr is kept for why
 * the display could not be reached.
 */
static int open_vnc_ssh(struct relay *r, virDomainPtr d, const struct mgr_tessd_addr *a, char *err,
			size_t len)
{
	char *xml = virDomainGetXMLDesc(d, 0), *g, *end, *p, listen[64] = "127.0.0.1", target[80];
	struct mgr_ssh_cmd cmd;
	long port = 0;
	int sp[2], ep[2];

	g = xml ? strstr(xml, "<graphics type='vnc'") : NULL;
	end = g ? strchr(g, '>') : NULL;
	if (end) {
		*end = '\0';
		if ((p = strstr(g, " port='")))
			port = strtol(p + 7, NULL, 10);
		if ((p = strstr(g, " listen='"))) {
			size_t n = strspn(p + 9, "0123456789abcdefABCDEF.:");
			if (p[9 + n] == '\'' && n > 0 && n < sizeof(listen))
				snprintf(listen, sizeof(listen), "%.*s", (int)n, p + 9);
		}
	}
	free(xml);
	if (port < 1 || port > 65535) {
		snprintf(err, len, "the desktop has no VNC display with a port in its live XML");
		return -1;
	}
	if (strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0)
		snprintf(listen, sizeof(listen), "127.0.0.1");
	snprintf(target, sizeof(target), strchr(listen, ':') ? "[%s]:%ld" : "%s:%ld", listen, port);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, len, "pipe: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	mgr_ssh_cmd_init(&cmd, a);
	mgr_ssh_cmd_arg(&cmd, "-W");
	mgr_ssh_cmd_arg(&cmd, target);
	r->ssh = mgr_ssh_spawn(mgr_ssh_cmd_argv(&cmd), sp[1], sp[1], ep[1]);
	close(sp[1]);
	close(ep[1]);
	if (r->ssh < 0) {
		r->ssh = 0;
		close(sp[0]);
		close(ep[0]);
		snprintf(err, len, "cannot run %s", cmd.argv[0]);
		return -1;
	}
	r->be = sp[0];
	r->ssh_err = ep[0];
	return 0;
}

/* The last line ssh wrote to stderr, into buf ("" if none). */
static void ssh_said(struct relay *r, char *buf, size_t len)
{
	char all[1024], *line;
	ssize_t n = r->ssh_err >= 0 ? read(r->ssh_err, all, sizeof(all) - 1) : -1;

	buf[0] = '\0';
	if (n <= 0)
		return;
	all[n] = '\0';
	while (n > 0 && (all[n - 1] == '\n' || all[n - 1] == '\r'))
		all[--n] = '\0';
	line = strrchr(all, '\n');
	snprintf(buf, len, "ssh: %.160s", line ? line + 1 : all); /* a close frame holds 123 */
}

/* Client bytes to the console. */
static int to_console(struct relay *r, const uint8_t *p, size_t n)
{
	if (r->st == NULL)
		return write_all(r->be, p, n, console_now_ms() + WRITE_WAIT_MS);
	for (int tries = 0; n && tries < WRITE_WAIT_MS / 10;) {
		int w = virStreamSend(r->st, (const char *)p, n);
		if (w == -2) {
			usleep(10000);
			tries++;
			continue;
		}
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return n ? -1 : 0;
}

static int open_backend(struct relay *r, char *err, size_t len)
{
	struct console *k = r->k;
	virDomainPtr d = mgr_virt_domain_get(k->host_id, k->uuid, err, len);
	int rc = 0;

	if (d == NULL)
		return -1;
	if (k->type == CONSOLE_SERIAL) {
		rc = open_serial(r, d, err, len);
	} else {
		struct mgr_tessd_addr a;
		if (!console_local_uri(k->uri) && mgr_ssh_of_libvirt_uri(k->uri, &a)) {
			rc = open_vnc_ssh(r, d, &a, err, len);
		} else {
			/* tessmgrd authenticated the user: QEMU's own VNC password, if any, is
			 * not asked. */
			r->be = virDomainOpenGraphicsFD(d, 0, VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH);
			if (r->be < 0) {
				const virError *e = virGetLastError();
				snprintf(err, len, "%s",
					 e && e->message ? e->message : "libvirt error");
				rc = -1;
			}
		}
	}
	virDomainFree(d);
	if (rc == 0)
		fcntl(r->be, F_SETFL, fcntl(r->be, F_GETFL) | O_NONBLOCK);
	return rc;
}

/* ---- frames ---- */

static void on_frame(struct relay *r, const struct ws_frame *f)
{
	uint8_t op = f->op == WS_OP_CONT ? r->msg.op : f->op;
	const char *why = NULL;
	uint8_t p[WS_MAX_CONTROL];
	int code;

	if (ws_sequence(&r->msg, f, &why) < 0) {
		stop(r, WS_CLOSE_PROTOCOL, why, NULL);
		return;
	}
	switch (op) {
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (op == WS_OP_TEXT && r->k->type == CONSOLE_VNC) {
			stop(r, WS_CLOSE_UNSUPPORTED, "text frames are not RFB: binary frames only",
			     NULL);
			return;
		}
		/* Text is UTF-8 (RFC 6455 8.1): a frame that is not is refused whole. */
		if (op == WS_OP_TEXT && ws_utf8(&r->msg, f->payload, f->len, f->fin, &why) < 0) {
			stop(r, WS_CLOSE_NOT_UTF8, why, NULL);
			return;
		}
		r->k->bytes_in += f->len;
		r->k->last_input_ms = console_now_ms();
		if (f->len && to_console(r, f->payload, f->len) < 0)
			stop(r, WS_CLOSE_NORMAL, "the desktop's console ended", NULL);
		return;
	case WS_OP_PING:
		memcpy(p, f->payload, f->len);
		if (send_frame(r, WS_OP_PONG, p, f->len) < 0)
			stop(r, WS_CLOSE_GOING_AWAY, "the client does not read", NULL);
		return;
	case WS_OP_CLOSE:
		code = ws_close_code(f->payload, f->len);
		if (code == -WS_CLOSE_NOT_UTF8) {
			stop(r, WS_CLOSE_NOT_UTF8, "a close reason that is not UTF-8", NULL);
			return;
		}
		if (code < 0) {
			stop(r, WS_CLOSE_PROTOCOL, "a malformed close frame", NULL);
			return;
		}
		stop(r, code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : code, "closed by the client",
		     NULL);
		return;
	default:
		return; /* pong */
	}
}

/* Parses and acts on the whole frames in r->in. */
static void parse_input(struct relay *r)
{
	size_t at = 0;

	while (!r->code) {
		struct ws_frame f;
		const char *why = NULL;
		ssize_t n = ws_parse(r->in + at, r->n_in - at, WS_MAX_FRAME, &f, &why);
		if (n == 0)
			break;
		if (n < 0) {
			stop(r, (int)-n, why, NULL);
			break;
		}
		at += (size_t)n;
		on_frame(r, &f);
	}
	memmove(r->in, r->in + at, r->n_in - at);
	r->n_in -= at;
}

/* The close frame, then a short wait for the client's (its bytes dropped) or its end. */
static void close_ws(struct relay *r)
{
	uint8_t p[WS_MAX_CONTROL];
	size_t n = ws_close_payload(p, (uint16_t)r->code, r->reason);
	uint64_t until = console_now_ms() + 1000;

	if (send_frame(r, WS_OP_CLOSE, p, n) < 0 || r->peer_closed)
		return;
	while (console_now_ms() < until) {
		struct pollfd pf = { .fd = r->k->fd, .events = POLLIN };
		uint8_t sink[4096];
		if (poll(&pf, 1, 200) <= 0)
			continue;
		if (recv(r->k->fd, sink, sizeof(sink), 0) <= 0)
			break;
	}
}

static void relay_loop(struct relay *r)
{
	struct console *k = r->k;
	uint8_t *out = malloc(WS_MAX_HEADER + CHUNK);
	uint64_t next_check = 0;

	if (out == NULL) {
		stop(r, WS_CLOSE_INTERNAL, "out of memory", NULL);
		return;
	}
	while (!r->code) {
		struct pollfd pf[2] = { { .fd = k->fd, .events = POLLIN },
					{ .fd = r->be, .events = POLLIN } };
		uint64_t now = console_now_ms();
		if (now >= next_check) {
			int code = console_check(k, r->reason, sizeof(r->reason));
			if (code) {
				r->code = code;
				break;
			}
			next_check = now + 1000;
		}
		if (poll(pf, 2, 1000) < 0 && errno != EINTR) {
			stop(r, WS_CLOSE_INTERNAL, "poll", strerror(errno));
			break;
		}
		if (pf[0].revents) {
			ssize_t n = recv(k->fd, r->in + r->n_in,
					 WS_MAX_FRAME + WS_MAX_HEADER - r->n_in, 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				r->peer_closed = true;
				stop(r, WS_CLOSE_GOING_AWAY, "the client went away", NULL);
				break;
			}
			if (n > 0) {
				r->n_in += (size_t)n;
				parse_input(r);
			}
		}
		if (pf[1].revents && !r->code) {
			ssize_t n = read(r->be, out + WS_MAX_HEADER, CHUNK);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				char said[200];
				ssh_said(r, said, sizeof(said));
				if (said[0])
					tlog(LOG_WARNING, TLOG_F(.desktop = k->desktop_id),
					     "console of desktop %s: %s", k->desktop, said);
				stop(r, WS_CLOSE_NORMAL, "the desktop's console ended",
				     said[0] ? said : NULL);
				break;
			}
			if (n > 0) {
				/* The header right before the payload: one write. */
				uint8_t h[WS_MAX_HEADER];
				size_t hl = ws_header(h, WS_OP_BINARY, true, (uint64_t)n);
				memcpy(out + WS_MAX_HEADER - hl, h, hl);
				if (write_all(k->fd, out + WS_MAX_HEADER - hl, hl + (size_t)n,
					      console_now_ms() + WRITE_WAIT_MS) < 0) {
					r->peer_closed = true;
					stop(r, WS_CLOSE_GOING_AWAY, "the client does not read",
					     NULL);
				}
				k->bytes_out += (uint64_t)n;
			}
		}
	}
	free(out);
}

void *console_relay(void *arg)
{
	struct relay r = { .k = arg, .be = -1, .ssh_err = -1 };
	struct console *k = r.k;
	char err[256];

	fcntl(k->fd, F_SETFL, fcntl(k->fd, F_GETFL) | O_NONBLOCK);
	r.in = malloc(WS_MAX_FRAME + WS_MAX_HEADER);
	if (r.in == NULL) {
		stop(&r, WS_CLOSE_INTERNAL, "out of memory", NULL);
	} else if (open_backend(&r, err, sizeof(err)) < 0) {
		tlog(LOG_WARNING, TLOG_F(.desktop = k->desktop_id), "console of desktop %s: %s",
		     k->desktop, err);
		stop(&r, WS_CLOSE_INTERNAL, "cannot open the desktop's console", err);
	} else {
		/* What the client sent with its request's bytes (a first frame) comes first. */
		r.n_in = k->n_extra < WS_MAX_FRAME ? k->n_extra : WS_MAX_FRAME;
		memcpy(r.in, k->extra, r.n_in);
		parse_input(&r);
		relay_loop(&r);
	}
	close_ws(&r);
	if (r.st)
		virStreamEventRemoveCallback(r.st);
	if (r.box)
		box_retire(r.box); /* before the stream ends: a late callback then leaves it be */
	if (r.st) {
		virStreamAbort(r.st);
		virStreamFree(r.st);
	}
	if (r.be >= 0)
		close(r.be);
	if (r.ssh > 0) { /* nothing to save: killed, with what it runs */
		kill(-r.ssh, SIGKILL);
		kill(r.ssh, SIGKILL);
		while (waitpid(r.ssh, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (r.ssh_err >= 0)
		close(r.ssh_err);
	free(r.in);
	console_done(k, r.code, r.reason);
	return NULL;
}
