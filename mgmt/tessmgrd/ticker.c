/* SPDX-License-Identifier: BSD-3-Clause */
#include "ticker.h"

#include <errno.h>
#include <time.h>

static void *loop(void *arg)
{
	struct mgr_ticker *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += *t->period_sec;
		pthread_cond_timedwait(&t->cond, &t->lock, &until);
		if (t->stopping)
			break;
		pthread_mutex_unlock(&t->lock);
		t->fn();
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int mgr_ticker_start(struct mgr_ticker *t, const uint32_t *period_sec, void (*fn)(void))
{
	pthread_condattr_t ca;

	t->period_sec = period_sec;
	t->fn = fn;
	t->stopping = false;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t->thread, NULL, loop, t) != 0)
		return -EAGAIN;
	t->started = true;
	return 0;
}

void mgr_ticker_stop(struct mgr_ticker *t)
{
	if (!t->started)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->started = false;
}
