/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A thread that calls fn every *period_sec seconds until stopped: the
 * resource manager's sampling and the hosts' health checks. The period is
 * read before each wait, on the monotonic clock (a clock step moves no
 * tick), and stop wakes the wait at once.
 */
#ifndef TESS_MGR_TICKER_H
#define TESS_MGR_TICKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct mgr_ticker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping, started;
	const uint32_t *period_sec;
	void (*fn)(void);
};

int mgr_ticker_start(struct mgr_ticker *t, const uint32_t *period_sec, void (*fn)(void));
void mgr_ticker_stop(struct mgr_ticker *t);

#endif
