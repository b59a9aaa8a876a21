/* SPDX-License-Identifier: BSD-3-Clause */
#include "session.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

/*
 * Slots in one array, found by a scan of their keys (the cookies' digests, 32
 * bytes each, packed apart from the records): at the default 10,000 sessions a
 * scan reads 320 KB, some microseconds, less than a request's other work. A
 * free slot has an all-zero key (a SHA-256 that is never one of a cookie).
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mgr_session_limits lim;
static uint8_t (*keys)[MGR_TOKEN_DIGEST];
static struct mgr_session *recs;
static uint32_t n_slots;
static uint64_t seq; /* of the last login */

static const uint8_t zero[MGR_TOKEN_DIGEST];

void mgr_sessions_init(const struct mgr_session_limits *l)
{
	mgr_sessions_fini();
	pthread_mutex_lock(&lock);
	lim = *l;
	pthread_mutex_unlock(&lock);
}

void mgr_sessions_fini(void)
{
	pthread_mutex_lock(&lock);
	if (recs)
		explicit_bzero(recs, n_slots * sizeof(*recs)); /* the CSRF tokens */
	free(keys);
	free(recs);
	keys = NULL;
	recs = NULL;
	n_slots = 0;
	pthread_mutex_unlock(&lock);
}

/* now may be a little older than a use recorded by another thread since it was read. */
static bool expired(const struct mgr_session *s, uint64_t now)
{
	return (now > s->last_used && now - s->last_used >= lim.idle_sec) ||
	       (now > s->created && now - s->created >= lim.max_sec);
}

static void drop_slot(uint32_t i)
{
	memset(keys[i], 0, MGR_TOKEN_DIGEST);
	explicit_bzero(&recs[i], sizeof(recs[i]));
}

/* The slot of a digest, or n_slots. */
static uint32_t find(const uint8_t d[MGR_TOKEN_DIGEST])
{
	for (uint32_t i = 0; i < n_slots; i++)
		if (memcmp(keys[i], d, MGR_TOKEN_DIGEST) == 0)
			return i;
	return n_slots;
}

/* A free slot (the table grows by doubling up to lim.max), or n_slots with none. */
static uint32_t free_slot(uint64_t now)
{
	uint32_t i = find(zero);

	if (i < n_slots)
		return i;
	if (n_slots >= lim.max) {
		/* Full: what has expired goes, then the first freed slot serves. */
		for (uint32_t k = 0; k < n_slots; k++)
			if (expired(&recs[k], now))
				drop_slot(k);
		return find(zero);
	}
	uint32_t n = n_slots ? n_slots * 2 : 64;
	if (n > lim.max)
		n = lim.max;
	void *k = realloc(keys, (size_t)n * sizeof(*keys));
	if (k == NULL)
		return n_slots;
	keys = k;
	void *r = realloc(recs, (size_t)n * sizeof(*recs));
	if (r == NULL)
		return n_slots;
	recs = r;
	memset(keys + n_slots, 0, (size_t)(n - n_slots) * sizeof(*keys));
	memset(recs + n_slots, 0, (size_t)(n - n_slots) * sizeof(*recs));
	i = n_slots;
	n_slots = n;
	return i;
}

static bool same_principal(const struct mgr_session *a, const struct mgr_token *who,
			   uint32_t user_id)
{
	if (a->user_id || user_id)
		return a->user_id == user_id;
	return strcmp(a->who.principal, who->principal) == 0 &&
	       strcmp(a->who.role, who->role) == 0 && strcmp(a->who.tenant, who->tenant) == 0;
}

/* Ends who's oldest sessions until fewer than lim.per_principal are alive (under lock). */
static void cap_principal(const struct mgr_token *who, uint32_t user_id, uint64_t now)
{
	for (;;) {
		uint32_t n = 0, oldest = n_slots;

		for (uint32_t i = 0; i < n_slots; i++) {
			if (memcmp(keys[i], zero, MGR_TOKEN_DIGEST) == 0 ||
			    !same_principal(&recs[i], who, user_id))
				continue;
			if (expired(&recs[i], now)) {
				drop_slot(i);
				continue;
			}
			n++;
			if (oldest == n_slots || recs[i].seq < recs[oldest].seq)
				oldest = i;
		}
		if (lim.per_principal == 0 || n < lim.per_principal)
			return;
		drop_slot(oldest);
	}
}

int mgr_session_new(const struct mgr_token *who, uint32_t user_id, uint64_t now,
		    char cookie[MGR_SESSION_LEN], struct mgr_session *out)
{
	struct mgr_session s = {
		.who = *who, .user_id = user_id, .created = now, .last_used = now
	};
	uint8_t d[MGR_TOKEN_DIGEST];
	int rc;

	s.expires = time(NULL) + (time_t)lim.max_sec;
	if ((rc = mgr_token_new(cookie, MGR_SESSION_LEN)) < 0 ||
	    (rc = mgr_token_new(s.csrf, MGR_SESSION_LEN)) < 0)
		return rc;
	mgr_token_digest(cookie, d);
	pthread_mutex_lock(&lock);
	cap_principal(who, user_id, now);
	uint32_t i = free_slot(now);
	if (i == n_slots) {
		pthread_mutex_unlock(&lock);
		explicit_bzero(cookie, MGR_SESSION_LEN);
		explicit_bzero(&s, sizeof(s));
		return -ENOSPC;
	}
	memcpy(keys[i], d, sizeof(d));
	s.seq = ++seq;
	recs[i] = s;
	pthread_mutex_unlock(&lock);
	*out = s;
	explicit_bzero(&s, sizeof(s));
	return 0;
}

int mgr_session_get(const char *cookie, uint64_t now, struct mgr_session *out)
{
	uint8_t d[MGR_TOKEN_DIGEST];
	int rc = 0;

	if (cookie == NULL || strlen(cookie) != MGR_SESSION_LEN - 1)
		return -ENOENT;
	mgr_token_digest(cookie, d);
	pthread_mutex_lock(&lock);
	uint32_t i = find(d);
	if (i == n_slots) {
		rc = -ENOENT;
	} else if (expired(&recs[i], now)) {
		drop_slot(i);
		rc = -ETIMEDOUT;
	} else {
		if (now > recs[i].last_used)
			recs[i].last_used = now;
		*out = recs[i];
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

bool mgr_session_alive(const uint8_t *digest, uint64_t now, bool used)
{
	pthread_mutex_lock(&lock);
	uint32_t i = find(digest);
	bool alive = i < n_slots && !expired(&recs[i], now);
	if (alive && used && now > recs[i].last_used)
		recs[i].last_used = now;
	pthread_mutex_unlock(&lock);
	return alive;
}

bool mgr_session_csrf_ok(const struct mgr_session *s, const char *header)
{
	unsigned char diff = 0;

	/* The length is no secret (always 43); the characters are compared all. */
	if (header == NULL || strlen(header) != MGR_SESSION_LEN - 1)
		return false;
	for (size_t i = 0; i < MGR_SESSION_LEN - 1; i++)
		diff |= (unsigned char)(header[i] ^ s->csrf[i]);
	return diff == 0;
}

bool mgr_session_end(const char *cookie)
{
	uint8_t d[MGR_TOKEN_DIGEST];
	bool found = false;

	if (cookie == NULL || strlen(cookie) != MGR_SESSION_LEN - 1)
		return false;
	mgr_token_digest(cookie, d);
	pthread_mutex_lock(&lock);
	uint32_t i = find(d);
	if (i < n_slots) {
		drop_slot(i);
		found = true;
	}
	pthread_mutex_unlock(&lock);
	return found;
}

unsigned mgr_session_drop_if(bool (*drop)(const struct mgr_session *s, void *arg), void *arg)
{
	unsigned n = 0;

	pthread_mutex_lock(&lock);
	for (uint32_t i = 0; i < n_slots; i++) {
		if (memcmp(keys[i], zero, sizeof(zero)) != 0 && drop(&recs[i], arg)) {
			drop_slot(i);
			n++;
		}
	}
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned mgr_sessions_count(uint64_t now)
{
	unsigned n = 0;

	pthread_mutex_lock(&lock);
	for (uint32_t i = 0; i < n_slots; i++)
		if (memcmp(keys[i], zero, sizeof(zero)) != 0 && !expired(&recs[i], now))
			n++;
	pthread_mutex_unlock(&lock);
	return n;
}
