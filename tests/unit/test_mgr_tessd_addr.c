/* SPDX-License-Identifier: BSD-3-Clause */
/* Hosts' tessd addresses: unix:// (or a bare path) and ssh://[user@]host[:port]/path. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tessd_addr.h"

static void test_forms(void **state)
{
	struct mgr_tessd_addr a;
	char why[256];

	(void)state;
	assert_int_equal(mgr_tessd_addr_parse("/run/tessera/tessd.sock", &a, why, sizeof(why)), 0);
	assert_false(a.ssh);
	assert_string_equal(a.path, "/run/tessera/tessd.sock");
	assert_int_equal(mgr_tessd_addr_parse("unix:///run/t.sock", &a, why, sizeof(why)), 0);
	assert_false(a.ssh);
	assert_string_equal(a.path, "/run/t.sock");
	assert_int_equal(
		mgr_tessd_addr_parse("ssh://host7.example.com/run/t.sock", &a, why, sizeof(why)),
		0);
	assert_true(a.ssh);
	assert_string_equal(a.user, "");
	assert_string_equal(a.host, "host7.example.com");
	assert_int_equal(a.port, 0);
	assert_string_equal(a.path, "/run/t.sock");
	assert_int_equal(
		mgr_tessd_addr_parse("ssh://root@10.0.0.2:2222/run/t.sock", &a, why, sizeof(why)),
		0);
	assert_string_equal(a.user, "root");
	assert_string_equal(a.host, "10.0.0.2");
	assert_int_equal(a.port, 2222);
	assert_int_equal(
		mgr_tessd_addr_parse("ssh://ops@[fd00::2]:22/run/t.sock", &a, why, sizeof(why)), 0);
	assert_string_equal(a.host, "fd00::2");
	assert_int_equal(a.port, 22);
	assert_int_equal(mgr_tessd_addr_check("", why, sizeof(why)), 0);
	/* What ssh:// refuses (':', '%') a local path may have: no ssh reads it. */
	assert_int_equal(mgr_tessd_addr_parse("unix:///run/a:b%c.sock", &a, why, sizeof(why)), 0);
	assert_int_equal(
		mgr_tessd_addr_parse("ssh://h/run/tess-d_1.0+x/t.sock", &a, why, sizeof(why)), 0);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"run/t.sock",                    /* relative */
		"unix://run/t.sock",             /* unix:// then a relative path */
		"tcp://h:1/x",                   /* unknown scheme */
		"ssh://h",                       /* no path */
		"ssh:///x",                      /* no host */
		"ssh://-oProxyCommand=x/t.sock", /* an option for ssh */
		"ssh://-x@h/t.sock",             /* the same through the user */
		"ssh://@h/t.sock",               /* empty user */
		"ssh://h:/t.sock",               /* empty port */
		"ssh://h:0/t.sock",
		"ssh://h:65536/t.sock",
		"ssh://h:22x/t.sock",
		"ssh://h;rm/t.sock", /* not a host name */
		"ssh://[zz::1]/t.sock",
		"ssh://[::1/t.sock",
		"ssh://h/",
		"ssh://h/a b",          /* a space in the path */
		"ssh://h/run/a:b.sock", /* ssh's -L would split it */
		"ssh://h/run/t%h.sock", /* ssh's -L would expand it to /run/th.sock */
		"ssh://h/run/t%%.sock",
		"ssh://h/run/[x].sock",
		"ssh://h/run/t\\.sock",
		("/0123456789012345678901234567890123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"), /* longer than sun_path */
	};
	struct mgr_tessd_addr a;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (mgr_tessd_addr_parse(bad[i], &a, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' was taken", bad[i]);
		assert_non_null(strstr(why, "tessd address"));
		assert_int_equal(mgr_tessd_addr_check(bad[i], why, sizeof(why)), EINVAL);
	}
}

/* Whether two addresses name one tessd, as the host and router checks ask: keys equal. */
static bool same(const char *a, const char *b)
{
	char x[MGR_TESSD_KEY_LEN], y[MGR_TESSD_KEY_LEN];

	mgr_tessd_key_of(a, x);
	mgr_tessd_key_of(b, y);
	return strcmp(x, y) == 0;
}

/* One tessd, however its address is written ("" for none, and nothing else). */
static void test_same(void **state)
{
	char key[MGR_TESSD_KEY_LEN] = "x";

	(void)state;
	assert_true(same("/run/t.sock", "unix:///run/t.sock"));
	assert_true(same("", ""));
	assert_true(same("ssh://h/run/t.sock", "ssh://h/run/t.sock"));
	assert_false(same("/run/t.sock", "/run/u.sock"));
	assert_false(same("", "/run/t.sock"));
	assert_false(same("ssh://h/run/t.sock", "/run/t.sock"));
	assert_false(same("ssh://h/run/t.sock", "ssh://h:2222/run/t.sock"));
	assert_false(same("ssh://a@h/run/t.sock", "ssh://b@h/run/t.sock"));
	/* An IPv4 host may be bracketed as an IPv6 one: the same host. */
	assert_true(same("ssh://u@[10.0.0.1]:22/t.sock", "ssh://u@10.0.0.1:22/t.sock"));
	assert_false(same("ssh://u@[10.0.0.1]/t.sock", "ssh://u@10.0.0.2/t.sock"));
	/* No tessd, and one the schema refuses: no key. */
	mgr_tessd_key_of("", key);
	assert_string_equal(key, "");
	key[0] = 'x';
	mgr_tessd_key_of("bad", key);
	assert_string_equal(key, "");
}

/* The one spelling that tunnels and the events relay find a tessd by. */
static void test_key(void **state)
{
	static const char *const pairs[][2] = {
		{ "/run/t.sock", "unix:///run/t.sock" },
		{ "unix:///run/t.sock", "unix:///run/t.sock" },
		{ "ssh://h/run/t.sock", "ssh://@[h]:0/run/t.sock" },
		{ "ssh://root@10.0.0.1:2222/t.sock", "ssh://root@[10.0.0.1]:2222/t.sock" },
		{ "ssh://root@[10.0.0.1]:2222/t.sock", "ssh://root@[10.0.0.1]:2222/t.sock" },
		{ "ssh://[fe80::1]/t.sock", "ssh://@[fe80::1]:0/t.sock" },
	};
	char key[MGR_TESSD_KEY_LEN], longest[600];
	(void)state;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		assert_int_equal(mgr_tessd_addr_key(pairs[i][0], key), 0);
		assert_string_equal(key, pairs[i][1]);
	}
	assert_int_equal(mgr_tessd_addr_key("", key), -EINVAL);
	assert_int_equal(mgr_tessd_addr_key("tcp://h/x", key), -EINVAL);
	/* Each part at its longest still fits, whole. */
	snprintf(longest, sizeof(longest), "ssh://%.32s@%.255s:65535/%.106s",
		 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu",
		 "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
		 "hhhh"
		 "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
		 "hhhh"
		 "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
		 "hhhh",
		 "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
		 "ppp"
		 "pppppppppppppppppppppppppppppppppppppppppppppppppppppppp");
	assert_int_equal(mgr_tessd_addr_key(longest, key), 0);
	assert_int_equal(strlen(key), strlen(longest) + 2); /* the brackets */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
