/* SPDX-License-Identifier: BSD-3-Clause */
#include "health.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "mgr.h"

static pthread_t thread;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond; /* on the monotonic clock: a clock step moves no check */
static bool stopping, started;

static void check_all(void)
{
	uint32_t *ids, n = 0;

	pthread_mutex_lock(&mgr.lock);
	ids = calloc(mgr.n_hosts + 1, sizeof(*ids));
	for (uint32_t i = 0; ids && i < mgr.n_hosts; i++)
		ids[n++] = mgr.hosts[i]->id;
	pthread_mutex_unlock(&mgr.lock);
	/* By id, without mgr.lock: a host deleted meanwhile is skipped. */
	for (uint32_t i = 0; i < n; i++)
		mgr_host_check(ids[i]);
	free(ids);
}

static void *loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&stop_lock);
	while (!stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += mgr_conf.libvirt.health_sec;
		pthread_cond_timedwait(&stop_cond, &stop_lock, &until);
		if (stopping)
			break;
		pthread_mutex_unlock(&stop_lock);
		check_all();
		pthread_mutex_lock(&stop_lock);
	}
	pthread_mutex_unlock(&stop_lock);
	return NULL;
}

int mgr_health_start(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&stop_cond, &ca);
	pthread_condattr_destroy(&ca);
	stopping = false;
	if (pthread_create(&thread, NULL, loop, NULL) != 0)
		return -EAGAIN;
	started = true;
	return 0;
}

void mgr_health_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&stop_lock);
	stopping = true;
	pthread_cond_signal(&stop_cond);
	pthread_mutex_unlock(&stop_lock);
	pthread_join(thread, NULL);
	started = false;
}
