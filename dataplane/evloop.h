/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread's epoll loop: sockets, signals and timers (never used by workers). */
#ifndef TESS_EVLOOP_H
#define TESS_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

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

#endif
