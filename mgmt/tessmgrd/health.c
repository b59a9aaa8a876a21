/* SPDX-License-Identifier: BSD-3-Clause */
#include "health.h"

#include <stdlib.h>

#include "mgr.h"
#include "ticker.h"

static struct mgr_ticker ticker;

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

int mgr_health_start(void)
{
	return mgr_ticker_start(&ticker, &mgr_conf.libvirt.health_sec, check_all);
}

void mgr_health_stop(void)
{
	mgr_ticker_stop(&ticker);
}
