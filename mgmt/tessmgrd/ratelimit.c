/* SPDX-License-Identifier: BSD-3-Clause */
/* Failed-login counters: see ratelimit.h. */
#include "ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t mgr_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const uint8_t *in = data, *end = in + len - len % 8;
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t m, b = (uint64_t)len << 56;

	for (; in != end; in += 8) {
		m = le64(in);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < len % 8; i++)
		b |= (uint64_t)in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int mgr_rl_init(struct mgr_rl *t, uint32_t n)
{
	uint64_t k[2];

	if (n < MGR_RL_WAYS)
		return -EINVAL;
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
		return -errno;
	t->slot = calloc(n, sizeof(*t->slot));
	if (t->slot == NULL)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->k0 = k[0];
	t->k1 = k[1];
	t->n = n;
	return 0;
}

void mgr_rl_fini(struct mgr_rl *t)
{
	if (t->slot == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slot);
	t->slot = NULL;
}

static bool live(const struct mgr_rl_slot *s, uint64_t now, uint32_t window)
{
	return s->key[0] && s->count > 0 && now - s->start < window;
}

/*
 * key's slot (under t->lock), its window restarted if over; with make, a new
 * one in a free, ended or failure-less slot (the oldest such), else NULL.
 */
static struct mgr_rl_slot *rl_slot(struct mgr_rl *t, const char *key, uint64_t now, uint32_t window,
				   bool make)
{
	uint32_t h = (uint32_t)mgr_siphash(t->k0, t->k1, key, strlen(key));
	struct mgr_rl_slot *victim = NULL;

	for (uint32_t i = 0; i < MGR_RL_WAYS; i++) {
		struct mgr_rl_slot *s = &t->slot[(h + i) % t->n];
		if (strcmp(s->key, key) == 0) {
			if (now - s->start >= window) {
				s->count = 0; /* its window is over: a new one */
				s->start = now;
			}
			return s;
		}
		if (!live(s, now, window) &&
		    (victim == NULL || s->key[0] == '\0' || s->start < victim->start))
			victim = s;
	}
	if (!make || victim == NULL)
		return NULL;
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	victim->start = now;
	victim->count = 0;
	return victim;
}

uint32_t mgr_rl_take(struct mgr_rl *t, const char *key, uint64_t now, uint32_t window, uint32_t max)
{
	uint32_t wait = 0;

	pthread_mutex_lock(&t->lock);
	struct mgr_rl_slot *s = rl_slot(t, key, now, window, true);
	if (s == NULL)
		wait = window; /* no room to count it: refused (fail closed) */
	else if (s->count >= max)
		wait = (uint32_t)(s->start + window - now);
	else
		s->count++;
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void mgr_rl_undo(struct mgr_rl *t, const char *key, uint64_t now, uint32_t window)
{
	pthread_mutex_lock(&t->lock);
	struct mgr_rl_slot *s = rl_slot(t, key, now, window, false);
	if (s && s->count > 0)
		s->count--;
	pthread_mutex_unlock(&t->lock);
}

void mgr_rl_clear(struct mgr_rl *t, const char *key, uint64_t now, uint32_t window)
{
	pthread_mutex_lock(&t->lock);
	struct mgr_rl_slot *s = rl_slot(t, key, now, window, false);
	if (s)
		s->count = 0;
	pthread_mutex_unlock(&t->lock);
}
