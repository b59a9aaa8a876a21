/* SPDX-License-Identifier: BSD-3-Clause */
#include "evloop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_log.h>

#define EV_BATCH 32

struct ev_handle {
	int fd;
	bool dead;
	ev_cb cb;
	void *arg;
	struct ev_handle *next_dead;
	struct ev_handle *prev, *next; /* in the loop's live list, for ev_destroy */
};

struct evloop {
	int epfd;
	/* Handles deleted during a batch are freed after it: a later event may still name them. */
	struct ev_handle *dead;
	struct ev_handle *live; /* not deleted: freed by ev_destroy if still there */
};

struct evloop *ev_create(void)
{
	struct evloop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void free_dead(struct evloop *l)
{
	while (l->dead) {
		struct ev_handle *h = l->dead;
		l->dead = h->next_dead;
		free(h);
	}
}

void ev_destroy(struct evloop *l)
{
	if (l == NULL)
		return;
	while (l->live)
		ev_del(l, l->live);
	free_dead(l);
	close(l->epfd);
	free(l);
}

struct ev_handle *ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *arg)
{
	struct ev_handle *h = calloc(1, sizeof(*h));
	struct epoll_event ev = { .events = events };

	if (h == NULL)
		return NULL;
	h->fd = fd;
	h->cb = cb;
	h->arg = arg;
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		free(h);
		errno = e;
		return NULL;
	}
	h->next = l->live;
	if (l->live)
		l->live->prev = h;
	l->live = h;
	return h;
}

int ev_mod(struct evloop *l, struct ev_handle *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0 ? -errno : 0;
}

void ev_del(struct evloop *l, struct ev_handle *h)
{
	if (h == NULL || h->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	if (h->prev)
		h->prev->next = h->next;
	else
		l->live = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->dead = true;
	h->next_dead = l->dead;
	l->dead = h;
}

int ev_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[EV_BATCH];
	int n = epoll_wait(l->epfd, evs, EV_BATCH, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct ev_handle *h = evs[i].data.ptr;
		if (!h->dead)
			h->cb(h, h->fd, evs[i].events, h->arg);
	}
	free_dead(l);
	return n;
}

time_t ev_mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int ev_accept(struct ev_listener *ls, int fd)
{
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int e = errno;

	if (cfd < 0 && (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)) {
		rte_log(RTE_LOG_WARNING, ls->logtype,
			"%s: cannot accept %s: %s; pausing for %d s\n", ls->log, ls->what,
			strerror(e), EV_ACCEPT_PAUSE_SEC);
		ev_mod(ls->loop, ls->h, 0);
		ls->paused_until = ev_mono_sec() + EV_ACCEPT_PAUSE_SEC;
		ls->paused++;
		errno = e;
	}
	return cfd;
}

void ev_listener_tick(struct ev_listener *ls)
{
	if (ls->paused_until && ev_mono_sec() >= ls->paused_until) {
		ls->paused_until = 0;
		ev_mod(ls->loop, ls->h, EPOLLIN);
	}
}
