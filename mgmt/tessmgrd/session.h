/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Browser sessions (POST /v1/login): a random 256-bit cookie value names a
 * principal (a token's, or a user's) for idle_sec since its last use and
 * max_sec since the login at most. The table keeps the SHA-256 of each
 * cookie, never the cookie, and a CSRF token that cookie-authenticated
 * mutating requests must repeat in a header. In memory only: a restart logs
 * everyone out. Times are seconds on the monotonic clock, passed in (the
 * unit tests move them).
 */
#ifndef TESS_MGR_SESSION_H
#define TESS_MGR_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "mgr_config.h"

#define MGR_SESSION_LEN 44 /* a cookie value or CSRF token: 43 base64url characters, NUL */

struct mgr_session {
	struct mgr_token who; /* the principal; a token's digest, zero for a user's */
	uint32_t user_id;     /* a user's id (users.h), 0 for a token's */
	char csrf[MGR_SESSION_LEN];
	uint64_t created, last_used; /* monotonic seconds */
	uint64_t seq;                /* the order of logins (the oldest of a principal ends) */
	time_t expires;              /* wall clock: the login plus max_sec */
};

struct mgr_session_limits {
	uint32_t idle_sec, max_sec, max;
	/* Alive at once for one principal (0: no limit): a new one ends its oldest, so one
	 * principal (a token's logins are free) cannot fill the table for everyone. */
	uint32_t per_principal;
};

/* Sets the limits (an empty table; again at a restart). */
void mgr_sessions_init(const struct mgr_session_limits *l);
void mgr_sessions_fini(void);
/*
 * A new session of who (user_id for a user, else 0) at now: its cookie
 * value in cookie, its record in *out; with per_principal of who's alive, the
 * oldest of them ends. 0, -ENOSPC with max sessions alive
 * (expired ones are dropped first), or -errno of the random source.
 */
int mgr_session_new(const struct mgr_token *who, uint32_t user_id, uint64_t now,
		    char cookie[MGR_SESSION_LEN], struct mgr_session *out);
/*
 * The session of a cookie value, used now (its idle time starts again):
 * 0 with *out; -ENOENT if unknown; -ETIMEDOUT if expired (then removed).
 */
int mgr_session_get(const char *cookie, uint64_t now, struct mgr_session *out);
/*
 * Whether the session of a cookie's digest (mgr_token_digest) is alive at
 * now; if so and used, its idle time starts again (a console it opened that
 * its user types in; a stream that only sends to it is no use of it).
 */
bool mgr_session_alive(const uint8_t *digest, uint64_t now, bool used);
/* Whether header (NULL: none) is the session's CSRF token, compared in constant time. */
bool mgr_session_csrf_ok(const struct mgr_session *s, const char *header);
/* Ends the session of a cookie value: whether there was one. */
bool mgr_session_end(const char *cookie);
/* Ends every session for which drop() is true (called under the table's lock): how many. */
unsigned mgr_session_drop_if(bool (*drop)(const struct mgr_session *s, void *arg), void *arg);
/* Sessions alive (expired ones not counted) at now. */
unsigned mgr_sessions_count(uint64_t now);

#endif
