/* SPDX-License-Identifier: BSD-3-Clause */
#include "health.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "events.h"
#include "mgr.h"
#include "ticker.h"
#include "tlog.h"

static struct mgr_ticker ticker;

/*
 * The checks in flight, under lock. Those of down hosts (connects, which may hang) count
 * against libvirt.health_threads until past check_timeout_sec; those of up hosts (a cheap
 * virConnectIsAlive) never wait for a slot. A host has one check at a time, so there are at
 * most as many threads as hosts, plus hung ones of hosts deleted since: capped at hosts +
 * health_threads in all.
 */
struct run {
	uint32_t host_id;
	bool budget; /* counts against health_threads (a down host's, not hung yet) */
	bool hung;   /* past the timeout */
	uint64_t started;
};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended;
static struct run *running;
static uint32_t n_running, cap_running;
static bool stopping;

/* At shutdown, how long checks in flight are waited for (a hung one would be for ever). */
#define STOP_WAIT_SEC 5

static uint32_t check_timeout(void)
{
	const struct mgr_libvirt_cfg *p = &mgr_conf.libvirt;

	return p->check_timeout_sec ? p->check_timeout_sec : 2 * p->health_sec;
}

static void set_running(uint32_t host_id, bool on)
{
	struct mgr_host *h;

	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	if (h) {
		h->check_running = on;
		if (!on)
			h->check_hung = false;
	}
	pthread_mutex_unlock(&mgr.lock);
}

static void *check_one(void *arg)
{
	uint32_t host_id = (uint32_t)(uintptr_t)arg;

	set_running(host_id, true);
	mgr_host_check(host_id);
	set_running(host_id, false);
	pthread_mutex_lock(&lock);
	for (uint32_t i = 0; i < n_running; i++) {
		if (running[i].host_id == host_id) {
			running[i] = running[--n_running];
			break;
		}
	}
	pthread_cond_broadcast(&ended);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void skipped(uint32_t host_id)
{
	struct mgr_host *h;

	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	if (h)
		h->checks_skipped++;
	pthread_mutex_unlock(&mgr.lock);
}

/* A check past the timeout: the host is down (it takes nothing new) and says why. */
static void hung(uint32_t host_id, uint32_t sec)
{
	struct mgr_host *h;

	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	if (h && h->check_running) {
		h->check_hung = true;
		h->checks_hung++;
		bool was = h->up;
		h->up = false;
		snprintf(h->down_reason, sizeof(h->down_reason),
			 "its libvirt health check hung for more than %us (a daemon that does not "
			 "answer)",
			 sec);
		mgr_event_host_locked(h, was);
	}
	pthread_mutex_unlock(&mgr.lock);
	tlog(LOG_WARNING, TLOG_F(.host = host_id),
	     "host %u: libvirt health check hung for more than %us", host_id, sec);
}

/* Checks past the timeout stop counting against health_threads: their hosts are marked. */
static void mark_hung(void)
{
	uint32_t sec = check_timeout(), *ids, n = 0;
	uint64_t now = mgr_mono_sec();

	pthread_mutex_lock(&lock);
	ids = calloc(n_running + 1, sizeof(*ids));
	for (uint32_t i = 0; ids && i < n_running; i++) {
		if (!running[i].hung && now - running[i].started >= sec) {
			running[i].hung = true;
			running[i].budget = false;
			ids[n++] = running[i].host_id;
		}
	}
	pthread_mutex_unlock(&lock);
	for (uint32_t i = 0; i < n; i++)
		hung(ids[i], sec);
	free(ids);
}

/* Starts host_id's check on a thread of its own; false if it cannot now (skipped). */
static bool start_check(uint32_t host_id, bool up, uint32_t n_hosts)
{
	const uint32_t budget = mgr_conf.libvirt.health_threads;
	pthread_attr_t attr;
	pthread_t t;
	uint32_t in_budget = 0;
	bool started = false;

	pthread_mutex_lock(&lock);
	for (uint32_t i = 0; i < n_running; i++) {
		if (running[i].host_id == host_id) {
			/* Its last check has not ended (a daemon that does not answer). */
			pthread_mutex_unlock(&lock);
			return false;
		}
		in_budget += running[i].budget;
	}
	/* An up host's check is a cheap IsAlive: never refused for want of a slot. */
	if (stopping || (!up && in_budget >= budget) || n_running >= n_hosts + budget) {
		pthread_mutex_unlock(&lock);
		return false;
	}
	if (n_running == cap_running) {
		uint32_t n = cap_running ? cap_running * 2 : 8;
		struct run *a = realloc(running, n * sizeof(*a));
		if (a == NULL) {
			pthread_mutex_unlock(&lock);
			return false;
		}
		running = a;
		cap_running = n;
	}
	/* An up host's check that finds the connection lost reconnects, and may hang: it is
	 * marked hung all the same past the timeout (mark_hung looks at every check). */
	running[n_running++] = (struct run){ host_id, !up, false, mgr_mono_sec() };
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, check_one, (void *)(uintptr_t)host_id) == 0)
		started = true;
	else
		n_running--;
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&lock);
	return started;
}

static void check_all(void)
{
	uint32_t *ids, n = 0, n_hosts;
	bool *up;

	mark_hung();
	pthread_mutex_lock(&mgr.lock);
	n_hosts = mgr.n_hosts;
	ids = calloc(n_hosts + 1, sizeof(*ids));
	up = calloc(n_hosts + 1, sizeof(*up));
	for (uint32_t i = 0; ids && up && i < n_hosts; i++) {
		up[n] = mgr.hosts[i]->up;
		ids[n++] = mgr.hosts[i]->id;
	}
	pthread_mutex_unlock(&mgr.lock);
	/* By id, without mgr.lock: a host deleted meanwhile is skipped (mgr_host_check). */
	for (uint32_t i = 0; i < n; i++)
		if (!start_check(ids[i], up[i], n_hosts))
			skipped(ids[i]);
	free(ids);
	free(up);
}

int mgr_health_start(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ended, &ca);
	pthread_condattr_destroy(&ca);
	stopping = false;
	return mgr_ticker_start(&ticker, &mgr_conf.libvirt.health_sec, check_all);
}

bool mgr_health_stop(void)
{
	struct timespec until;
	bool all;

	mgr_ticker_stop(&ticker);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += STOP_WAIT_SEC;
	pthread_mutex_lock(&lock);
	while (n_running && pthread_cond_timedwait(&ended, &lock, &until) != ETIMEDOUT)
		;
	all = n_running == 0;
	if (!all)
		tlog(LOG_WARNING, NULL, "%u host checks still waiting on libvirt after %us",
		     n_running, STOP_WAIT_SEC);
	stopping = true;
	pthread_mutex_unlock(&lock);
	return all;
}
