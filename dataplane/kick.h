/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Waking the control thread between its ticks. A worker that handed it
 * something (a punted packet) kicks: the control thread's event loop wakes
 * on an eventfd and runs the modules' kick op, instead of the handover
 * waiting up to a tick. A shared flag makes it one write(2) per wake-up of
 * the control thread, never one per packet; a failed write is ignored (the
 * tick still comes, and clears the flag).
 */
#ifndef TESS_KICK_H
#define TESS_KICK_H

#include <stdint.h>
#include <unistd.h>

struct dp_kick {
	int fd;           /* eventfd, non-blocking */
	uint32_t pending; /* 1 from the first kick until the control side takes it */
	uint64_t kicks;   /* control side: wake-ups taken (dp_kick_take) */
	uint64_t writes;  /* kicks that wrote the eventfd (a test's view of the flag) */
};

/* The control thread's (main.c watches its fd). */
extern struct dp_kick dp_control_kick;

int dp_kick_init(struct dp_kick *k); /* 0 or -errno */
void dp_kick_fini(struct dp_kick *k);

/*
 * Any thread. The fence orders the caller's handover (a ring enqueue)
 * before the flag's load, against dp_kick_clear's exchange before the
 * drain: either this sees the flag cleared and writes, or the drain sees
 * the handover (a store-load pair: only a full fence does it).
 */
static inline void dp_kick(struct dp_kick *k)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&k->pending, __ATOMIC_RELAXED))
		return;
	if (__atomic_exchange_n(&k->pending, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	__atomic_fetch_add(&k->writes, 1, __ATOMIC_RELAXED);
	if (write(k->fd, &one, sizeof(one)) != sizeof(one))
		return; /* ignored: the tick drains anyway */
}

/* Workers: the control thread has something to drain. */
static inline void dp_kick_control(void)
{
	dp_kick(&dp_control_kick);
}

/* Control side, before draining: a handover from now on kicks again. */
static inline void dp_kick_clear(struct dp_kick *k)
{
	__atomic_exchange_n(&k->pending, 0, __ATOMIC_SEQ_CST);
}

/*
 * Control side, on the eventfd's event: reads (resets) it and clears the
 * flag; the eventfd's counter read (kicks written since the last take), 0
 * if none.
 */
uint64_t dp_kick_take(struct dp_kick *k);

#endif
