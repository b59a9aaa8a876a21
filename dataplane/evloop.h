/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread's epoll loop: sockets, signals and timers (never used by workers). */
#ifndef TESS_EVLOOP_H
#define TESS_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

struct evloop;
struct ev_handle;

typedef void (*ev_cb)(struct ev_handle *h, int fd, uint32_t events, void *arg);

struct evloop *ev_create(void);
/* Frees the loop and every handle still watched (their fds stay open). */
void ev_destroy(struct evloop *l);
/* Watches fd; the handle stays valid until ev_del. */
struct ev_handle *ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *arg);
int ev_mod(struct evloop *l, struct ev_handle *h, uint32_t events);
/* Stops watching (does not close fd). Safe from inside any callback. */
void ev_del(struct evloop *l, struct ev_handle *h);
/* Waits up to timeout_ms and runs the callbacks of ready fds. */
int ev_run_once(struct evloop *l, int timeout_ms);

/* Seconds of the monotonic clock: a wall clock step (NTP, date) moves no deadline. */
time_t ev_mono_sec(void);

/*
 * A listening socket in the loop. Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) the level-triggered listener would fire again at once and spin the thread:
 * ev_accept then stops watching it for EV_ACCEPT_PAUSE_SEC (said at warning with logtype),
 * and ev_listener_tick, called from the thread's tick, watches it again.
 */
#define EV_ACCEPT_PAUSE_SEC 1
struct ev_listener {
	struct evloop *loop;
	struct ev_handle *h;
	const char *what; /* "a control client", "a metrics client" */
	int logtype;      /* rte_log's */
	const char *log;  /* its name, the line's prefix: "tess.ctl" */
	time_t paused_until;
	uint64_t paused; /* times paused */
};
/* accept4(SOCK_NONBLOCK | SOCK_CLOEXEC): the new fd, or -1 (errno; EAGAIN: none left). */
int ev_accept(struct ev_listener *ls, int fd);
void ev_listener_tick(struct ev_listener *ls);

#endif
