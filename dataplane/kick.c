/* SPDX-License-Identifier: BSD-3-Clause */
/* Waking the control thread between its ticks (kick.h). */
#include <errno.h>
#include <sys/eventfd.h>

#include "kick.h"

struct dp_kick dp_control_kick = { .fd = -1 };

int dp_kick_init(struct dp_kick *k)
{
	k->pending = 0;
	k->kicks = 0;
	k->writes = 0;
	k->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return k->fd < 0 ? -errno : 0;
}

void dp_kick_fini(struct dp_kick *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

uint64_t dp_kick_take(struct dp_kick *k)
{
	uint64_t n = 0;

	if (read(k->fd, &n, sizeof(n)) != sizeof(n))
		n = 0; /* EAGAIN: nothing written (the tick took it) */
	dp_kick_clear(k);
	k->kicks++;
	return n;
}
