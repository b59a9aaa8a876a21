/* SPDX-License-Identifier: BSD-3-Clause */
#include "health.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mgr.h"
#include "ticker.h"

static struct mgr_ticker ticker;

/* The checks in flight, by host id (at most libvirt.health_threads), under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended;
static uint32_t *running, n_running, cap_running;
static bool stopping;

/* At shutdown, how long checks in flight are waited for (a hung one would be for ever). */
#define STOP_WAIT_SEC 5

static void set_running(uint32_t host_id, bool on)
{
	struct mgr_host *h;

	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	if (h)
		h->check_running = on;
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
		if (running[i] == host_id) {
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

/* Starts host_id's check on a thread of its own; false if it cannot now (skipped). */
static bool start_check(uint32_t host_id)
{
	pthread_attr_t attr;
	pthread_t t;
	bool started = false;

	pthread_mutex_lock(&lock);
	for (uint32_t i = 0; i < n_running; i++) {
		if (running[i] == host_id) {
			/* Its last check has not ended (a daemon that does not answer). */
			pthread_mutex_unlock(&lock);
			return false;
		}
	}
	if (stopping || n_running >= mgr_conf.libvirt.health_threads) {
		pthread_mutex_unlock(&lock);
		return false;
	}
	if (n_running == cap_running) {
		uint32_t n = cap_running ? cap_running * 2 : 8,
			 *a = realloc(running, n * sizeof(*a));
		if (a == NULL) {
			pthread_mutex_unlock(&lock);
			return false;
		}
		running = a;
		cap_running = n;
	}
	running[n_running++] = host_id;
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
	uint32_t *ids, n = 0;

	pthread_mutex_lock(&mgr.lock);
	ids = calloc(mgr.n_hosts + 1, sizeof(*ids));
	for (uint32_t i = 0; ids && i < mgr.n_hosts; i++)
		ids[n++] = mgr.hosts[i]->id;
	pthread_mutex_unlock(&mgr.lock);
	/* By id, without mgr.lock: a host deleted meanwhile is skipped (mgr_host_check). */
	for (uint32_t i = 0; i < n; i++)
		if (!start_check(ids[i]))
			skipped(ids[i]);
	free(ids);
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
		fprintf(stderr, "tessmgrd: %u host checks still waiting on libvirt after %us\n",
			n_running, STOP_WAIT_SEC);
	stopping = true;
	pthread_mutex_unlock(&lock);
	return all;
}
