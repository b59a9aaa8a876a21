/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's session table (session.h): expiry on idle and absolute time
 * (the clock passed in), the capacity and what frees room, the CSRF token's
 * comparison, ending one session and revoking many.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"
#include "token.h"

static struct mgr_token tok(const char *principal, const char *role, const char *tenant)
{
	struct mgr_token t = { 0 };

	snprintf(t.principal, sizeof(t.principal), "%s", principal);
	snprintf(t.role, sizeof(t.role), "%s", role);
	snprintf(t.tenant, sizeof(t.tenant), "%s", tenant);
	return t;
}

static void limits(uint32_t idle, uint32_t max_sec, uint32_t max)
{
	mgr_sessions_init(&(struct mgr_session_limits){ idle, max_sec, max });
}

static void test_new_and_get(void **state)
{
	struct mgr_token who = tok("alice", "tenant", "acme");
	char cookie[MGR_SESSION_LEN], other[MGR_SESSION_LEN];
	struct mgr_session s, got;

	(void)state;
	limits(60, 600, 10);
	assert_int_equal(mgr_session_new(&who, 0, 1000, cookie, &s), 0);
	assert_int_equal(strlen(cookie), 43);
	assert_int_equal(strlen(s.csrf), 43);
	assert_string_not_equal(cookie, s.csrf);
	assert_int_equal(mgr_session_get(cookie, 1001, &got), 0);
	assert_string_equal(got.who.principal, "alice");
	assert_string_equal(got.who.tenant, "acme");
	assert_string_equal(got.csrf, s.csrf);
	/* Another session is another cookie and another CSRF token. */
	assert_int_equal(mgr_session_new(&who, 0, 1000, other, &got), 0);
	assert_string_not_equal(cookie, other);
	assert_string_not_equal(s.csrf, got.csrf);
	/* Unknown, cut or lengthened cookies find nothing. */
	assert_int_equal(mgr_session_get(NULL, 1001, &got), -ENOENT);
	assert_int_equal(mgr_session_get("", 1001, &got), -ENOENT);
	char cut[MGR_SESSION_LEN];
	snprintf(cut, sizeof(cut), "%.42s", cookie);
	assert_int_equal(mgr_session_get(cut, 1001, &got), -ENOENT);
	cut[41] = cut[41] == 'A' ? 'B' : 'A';
	cut[42] = cookie[42];
	cut[43] = '\0';
	assert_int_equal(mgr_session_get(cut, 1001, &got), -ENOENT);
	assert_int_equal(mgr_sessions_count(1001), 2);
	mgr_sessions_fini();
}

static void test_idle_expiry(void **state)
{
	struct mgr_token who = tok("ops", "provider", "");
	char cookie[MGR_SESSION_LEN];
	struct mgr_session s;

	(void)state;
	limits(60, 600, 10);
	assert_int_equal(mgr_session_new(&who, 0, 1000, cookie, &s), 0);
	/* Each use starts the idle time again: used every 59 s, it lives on. */
	for (uint64_t t = 1059; t < 1400; t += 59)
		assert_int_equal(mgr_session_get(cookie, t, &s), 0);
	assert_int_equal(mgr_sessions_count(1400), 1);
	/* 60 s unused: expired, and gone (a second look finds nothing). */
	assert_int_equal(mgr_session_get(cookie, 1354 + 60, &s), -ETIMEDOUT);
	assert_int_equal(mgr_session_get(cookie, 1354 + 61, &s), -ENOENT);
	assert_int_equal(mgr_sessions_count(1415), 0);
	mgr_sessions_fini();
}

static void test_absolute_expiry(void **state)
{
	struct mgr_token who = tok("ops", "provider", "");
	char cookie[MGR_SESSION_LEN];
	struct mgr_session s;

	(void)state;
	limits(60, 300, 10);
	assert_int_equal(mgr_session_new(&who, 0, 1000, cookie, &s), 0);
	for (uint64_t t = 1050; t < 1300; t += 50)
		assert_int_equal(mgr_session_get(cookie, t, &s), 0);
	/* Used all along, it still ends max_sec after its login. */
	assert_int_equal(mgr_session_get(cookie, 1300, &s), -ETIMEDOUT);
	mgr_sessions_fini();
}

static void test_capacity(void **state)
{
	struct mgr_token who = tok("alice", "tenant", "acme");
	char c[100][MGR_SESSION_LEN], more[MGR_SESSION_LEN];
	struct mgr_session s;

	(void)state;
	limits(60, 600, 100);
	/* Past the first allocation (64): the table grows to its limit. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(mgr_session_new(&who, 0, 1000, c[i], &s), 0);
	assert_int_equal(mgr_session_new(&who, 0, 1001, more, &s), -ENOSPC);
	for (int i = 0; i < 100; i++)
		assert_int_equal(mgr_session_get(c[i], 1050, &s), 0);
	/* An ended session makes room, for one. */
	assert_true(mgr_session_end(c[7]));
	assert_false(mgr_session_end(c[7]));
	assert_int_equal(mgr_session_new(&who, 0, 1055, more, &s), 0);
	assert_int_equal(mgr_session_new(&who, 0, 1055, c[7], &s), -ENOSPC);
	/* A use older than one recorded since (another thread's clock reading) expires none. */
	assert_int_equal(mgr_session_get(more, 1054, &s), 0);
	/* Expired sessions make room when the table is full: 99 unused since 1050. */
	assert_int_equal(mgr_session_new(&who, 0, 1110, c[7], &s), 0);
	assert_int_equal(mgr_sessions_count(1110), 2);
	assert_int_equal(mgr_session_get(more, 1111, &s), 0);
	assert_int_equal(mgr_session_get(c[0], 1111, &s), -ENOENT);
	mgr_sessions_fini();
}

static void test_csrf_compare(void **state)
{
	struct mgr_token who = tok("alice", "tenant", "acme");
	char cookie[MGR_SESSION_LEN], bad[MGR_SESSION_LEN + 1];
	struct mgr_session s;

	(void)state;
	limits(60, 600, 10);
	assert_int_equal(mgr_session_new(&who, 0, 1000, cookie, &s), 0);
	assert_true(mgr_session_csrf_ok(&s, s.csrf));
	assert_false(mgr_session_csrf_ok(&s, NULL));
	assert_false(mgr_session_csrf_ok(&s, ""));
	assert_false(mgr_session_csrf_ok(&s, cookie)); /* the cookie is not the token */
	/* Any one character different, at either end or inside; a prefix; one more. */
	for (size_t i = 0; i < MGR_SESSION_LEN - 1; i++) {
		snprintf(bad, sizeof(bad), "%s", s.csrf);
		bad[i] = bad[i] == 'x' ? 'y' : 'x';
		assert_false(mgr_session_csrf_ok(&s, bad));
	}
	snprintf(bad, sizeof(bad), "%.42s", s.csrf);
	assert_false(mgr_session_csrf_ok(&s, bad));
	snprintf(bad, sizeof(bad), "%sA", s.csrf);
	assert_false(mgr_session_csrf_ok(&s, bad));
	mgr_sessions_fini();
}

static bool of_tenant(const struct mgr_session *s, void *arg)
{
	return strcmp(s->who.tenant, arg) == 0;
}

static bool of_user(const struct mgr_session *s, void *arg)
{
	return s->user_id == *(const uint32_t *)arg;
}

static void test_revoke(void **state)
{
	struct mgr_token a = tok("alice", "tenant", "acme"), b = tok("bob", "tenant", "bravo");
	struct mgr_token u = tok("carol", "user", "acme");
	char ca[3][MGR_SESSION_LEN], cb[MGR_SESSION_LEN], cu[2][MGR_SESSION_LEN];
	struct mgr_session s;
	uint32_t uid = 7;

	(void)state;
	limits(60, 600, 10);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_session_new(&a, 0, 1000, ca[i], &s), 0);
	assert_int_equal(mgr_session_new(&b, 0, 1000, cb, &s), 0);
	u.user_id = uid;
	for (int i = 0; i < 2; i++)
		assert_int_equal(mgr_session_new(&u, uid, 1000, cu[i], &s), 0);
	assert_int_equal(mgr_session_drop_if(of_user, &uid), 2);
	assert_int_equal(mgr_session_get(cu[0], 1001, &s), -ENOENT);
	assert_int_equal(mgr_session_get(cu[1], 1001, &s), -ENOENT);
	assert_int_equal(mgr_session_drop_if(of_tenant, "acme"), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_session_get(ca[i], 1001, &s), -ENOENT);
	assert_int_equal(mgr_session_get(cb, 1001, &s), 0);
	assert_int_equal(mgr_session_drop_if(of_tenant, "acme"), 0);
	assert_int_equal(mgr_sessions_count(1001), 1);
	mgr_sessions_fini();
}

static void test_per_principal(void **state)
{
	struct mgr_token a = tok("alice", "tenant", "acme"), b = tok("bob", "tenant", "acme");
	struct mgr_token u = tok("carol", "user", "acme");
	char ca[4][MGR_SESSION_LEN], cb[MGR_SESSION_LEN], cu[3][MGR_SESSION_LEN];
	struct mgr_session s;

	(void)state;
	mgr_sessions_init(&(struct mgr_session_limits){ 60, 600, 100, 3 });
	/* A 4th login of alice ends her oldest, in the same second too; bob keeps his. */
	assert_int_equal(mgr_session_new(&b, 0, 1000, cb, &s), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mgr_session_new(&a, 0, 1000, ca[i], &s), 0);
	assert_int_equal(mgr_session_get(ca[0], 1001, &s), -ENOENT);
	for (int i = 1; i < 4; i++)
		assert_int_equal(mgr_session_get(ca[i], 1001, &s), 0);
	assert_int_equal(mgr_session_get(cb, 1001, &s), 0);
	/* A user is its id: another user of the same name elsewhere is another principal. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_session_new(&u, 7, 1002, cu[i], &s), 0);
	assert_int_equal(mgr_session_new(&u, 8, 1002, cb, &s), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_session_get(cu[i], 1003, &s), 0);
	assert_int_equal(mgr_sessions_count(1003), 3 + 1 + 3 + 1);
	mgr_sessions_fini();
}

/*
 * A stream's checks are no use of the session; a console its user types in is: the idle
 * time starts again, never past max_sec, and an expired session does not come back.
 */
static void test_alive_and_use(void **state)
{
	struct mgr_token who = tok("alice", "tenant", "acme");
	char cookie[MGR_SESSION_LEN];
	uint8_t d[MGR_TOKEN_DIGEST];
	struct mgr_session s;

	(void)state;
	limits(60, 150, 10);
	assert_int_equal(mgr_session_new(&who, 0, 1000, cookie, &s), 0);
	mgr_token_digest(cookie, d);
	/* Checks alone: it still ends 60 s after its login. */
	assert_true(mgr_session_alive(d, 1030, false));
	assert_true(mgr_session_alive(d, 1059, false));
	assert_false(mgr_session_alive(d, 1060, false));
	assert_false(mgr_session_alive(d, 1061, true)); /* use does not bring it back */
	assert_true(mgr_session_end(cookie));
	assert_false(mgr_session_alive(d, 1001, false));
	/* Used: 60 s after its last use, at most max_sec after its login. */
	assert_int_equal(mgr_session_new(&who, 0, 2000, cookie, &s), 0);
	mgr_token_digest(cookie, d);
	assert_true(mgr_session_alive(d, 2050, true));
	assert_true(mgr_session_alive(d, 2100, true));
	assert_true(mgr_session_alive(d, 2149, false));
	assert_false(mgr_session_alive(d, 2150, true));
	mgr_sessions_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_get),     cmocka_unit_test(test_idle_expiry),
		cmocka_unit_test(test_absolute_expiry), cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_csrf_compare),    cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_per_principal),   cmocka_unit_test(test_alive_and_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
