/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's "listen" (issue 15): IPv4 and IPv6 addresses, with or without a
 * port, what is loopback (plain HTTP is served there only), and the
 * address:port form of messages and URLs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listen.h"

static void check(const char *text, int family, bool has_port, uint16_t port, bool loopback,
		  const char *shown)
{
	struct mgr_listen l;
	char why[256] = "", buf[96];

	assert_int_equal(mgr_listen_parse(text, &l, why, sizeof(why)), 0);
	assert_int_equal(l.sa.ss_family, family);
	assert_int_equal(l.len, family == AF_INET ? sizeof(struct sockaddr_in)
						  : sizeof(struct sockaddr_in6));
	assert_int_equal(l.has_port, has_port);
	assert_int_equal(l.port, port);
	assert_int_equal(mgr_listen_is_loopback(&l), loopback);
	mgr_listen_format(&l, 8470, buf, sizeof(buf));
	assert_string_equal(buf, shown);
}

static void test_good(void **state)
{
	(void)state;
	check("127.0.0.1", AF_INET, false, 0, true, "127.0.0.1:8470");
	check("127.9.8.7:80", AF_INET, true, 80, true, "127.9.8.7:8470");
	check("0.0.0.0", AF_INET, false, 0, false, "0.0.0.0:8470");
	check("192.0.2.1:0", AF_INET, true, 0, false, "192.0.2.1:8470");
	check("::1", AF_INET6, false, 0, true, "[::1]:8470");
	check("[::1]", AF_INET6, false, 0, true, "[::1]:8470");
	check("[::1]:65535", AF_INET6, true, 65535, true, "[::1]:8470");
	check("::", AF_INET6, false, 0, false, "[::]:8470");
	check("[::]:8443", AF_INET6, true, 8443, false, "[::]:8470");
	check("2001:DB8::5", AF_INET6, false, 0, false, "[2001:db8::5]:8470");
	/* IPv4-mapped: the IPv4 address (libmicrohttpd's IPv6 sockets are IPv6-only). */
	check("::ffff:127.0.0.1", AF_INET, false, 0, true, "127.0.0.1:8470");
	check("[::FFFF:127.1.2.3]:80", AF_INET, true, 80, true, "127.1.2.3:8470");
	check("::ffff:10.0.0.1", AF_INET, false, 0, false, "10.0.0.1:8470");
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"",           "1.2.3",       "1.2.3.4.5",       "256.0.0.1",
		"127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "127.0.0.1:-1",
		"[::1",       "[::1]8",      "[::1]:",          "[127.0.0.1]",
		"[]",         "::1::2",      "[::1]:99999",     ":::",
		"localhost",  "1.2.3.4:5:6",
	};
	struct mgr_listen l;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (mgr_listen_parse(bad[i], &l, why, sizeof(why)) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(why, bad[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
