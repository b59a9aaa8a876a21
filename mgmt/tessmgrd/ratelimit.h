/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Failed-login counters (login.c): per key (a client address, or a user),
 * so many failures in a window. A fixed table: a key lives in one of
 * MGR_RL_WAYS slots picked by SipHash under a random secret, so nobody can
 * aim names at another key's slots. A key still inside its window with
 * failures is never evicted: with all its slots live, a new key is refused
 * (fails closed) rather than dropping someone's count. Times are monotonic
 * seconds, passed in (the unit tests move them).
 */
#ifndef TESS_MGR_RATELIMIT_H
#define TESS_MGR_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define MGR_RL_WAYS   8 /* slots probed from a key's hash */
#define MGR_RL_KEYLEN 136

struct mgr_rl_slot {
	char key[MGR_RL_KEYLEN]; /* "" free */
	uint64_t start;          /* of its window */
	uint32_t count;          /* failures within it */
};

struct mgr_rl {
	pthread_mutex_t lock;
	uint64_t k0, k1; /* SipHash key */
	uint32_t n;      /* slots */
	struct mgr_rl_slot *slot;
};

/* A table of n slots (>= MGR_RL_WAYS) under a random secret: 0 or -errno. */
int mgr_rl_init(struct mgr_rl *t, uint32_t n);
void mgr_rl_fini(struct mgr_rl *t);
/*
 * Counts an attempt of key at now, before it is checked (so attempts in
 * flight count): 0 if it was under max within window; else the seconds
 * until it may try again, nothing counted. A key not in the table whose
 * slots are all live gets the window: the table cannot count it, so it is
 * refused.
 */
uint32_t mgr_rl_take(struct mgr_rl *t, const char *key, uint64_t now, uint32_t window,
		     uint32_t max);
/* Takes back an attempt counted by mgr_rl_take (it did not fail). */
void mgr_rl_undo(struct mgr_rl *t, const char *key, uint64_t now, uint32_t window);
/* Forgets key's failures (a success). */
void mgr_rl_clear(struct mgr_rl *t, const char *key, uint64_t now, uint32_t window);
/* SipHash-2-4 of len bytes under (k0, k1). */
uint64_t mgr_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

#endif
