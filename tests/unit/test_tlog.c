/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log's encoders (dataplane/tlog_fmt.c): the stderr line with its fields as key=value,
 * journald's native datagram (KEY=value, and the binary length form for a value with a
 * newline), cuts that keep fields whole, and the level names; then a real datagram through
 * $TESS_JOURNAL_SOCKET with the level filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tlog.h"

static void test_line(void **state)
{
	char b[256];
	size_t n;

	(void)state;
	n = tlog_format_line(b, sizeof(b), "tessmgrd", LOG_INFO, NULL, "ready\n");
	assert_string_equal(b, "tessmgrd: ready\n");
	assert_int_equal(n, strlen(b));
	n = tlog_format_line(b, sizeof(b), "tessmgrd", LOG_WARNING,
			     TLOG_F(.tenant = 3, .desktop = 17, .job = 9), "desktop 17: gone");
	assert_string_equal(b, "tessmgrd: warning: desktop 17: gone [tenant=3 desktop=17 job=9]\n");
	assert_int_equal(n, strlen(b));
	tlog_format_line(b, sizeof(b), "tessd", LOG_DEBUG,
			 TLOG_F(.tenant_name = "acme", .port = "vm1"), "x");
	assert_string_equal(b, "tessd: debug: x [tenant=acme port=vm1]\n");
	/* The id wins over the name; no field: no brackets. */
	tlog_format_line(b, sizeof(b), "t", LOG_ERR, TLOG_F(.tenant = 2, .tenant_name = "a"), "e");
	assert_string_equal(b, "t: err: e [tenant=2]\n");
	tlog_format_line(b, sizeof(b), "t", LOG_NOTICE, TLOG_F(.tenant = 0), "n");
	assert_string_equal(b, "t: n\n");
}

static void test_line_cut(void **state)
{
	char b[24], msg[100];

	(void)state;
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	/* Too long: the message cut, the fields dropped, the line still ends. */
	size_t n = tlog_format_line(b, sizeof(b), "t", LOG_INFO, TLOG_F(.host = 1), msg);
	assert_int_equal(n, sizeof(b) - 1);
	assert_int_equal(b[n - 1], '\n');
	assert_int_equal(b[n], '\0');
	assert_memory_equal(b, "t: mmm", 6);
	/* The message fits, its fields not: dropped whole, never half. */
	n = tlog_format_line(b, sizeof(b), "t", LOG_INFO, TLOG_F(.desktop = 123456), "0123456789");
	assert_string_equal(b, "t: 0123456789\n");
	assert_int_equal(tlog_format_line(b, 0, "t", LOG_INFO, NULL, "x"), 0);
}

static void test_journal(void **state)
{
	char b[512];
	const char want[] = "MESSAGE=desktop 4: started\nPRIORITY=6\nSYSLOG_IDENTIFIER=tessmgrd\n"
			    "TESS_TENANT=2\nTESS_HOST=1\nTESS_DESKTOP=4\n";
	size_t n;

	(void)state;
	n = tlog_format_journal(b, sizeof(b), "tessmgrd", LOG_INFO,
				TLOG_F(.tenant = 2, .host = 1, .desktop = 4), "desktop 4: started");
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(b, want, n);
	n = tlog_format_journal(b, sizeof(b), "tessd", LOG_DEBUG, TLOG_F(.port = "p0"), "x\n");
	assert_int_equal(n,
			 strlen("MESSAGE=x\nPRIORITY=7\nSYSLOG_IDENTIFIER=tessd\nTESS_PORT=p0\n"));
	assert_memory_equal(b, "MESSAGE=x\nPRIORITY=7\nSYSLOG_IDENTIFIER=tessd\nTESS_PORT=p0\n", n);
}

static void test_journal_multiline(void **state)
{
	const char msg[] = "line one\nline two\n"; /* the last newline dropped, the other kept */
	const unsigned char head[] = { 'M', 'E', 'S', 'S', 'A', 'G', 'E', '\n',
				       17,  0,   0,   0,   0,   0,   0,   0 };
	char b[256];
	size_t n;

	(void)state;
	n = tlog_format_journal(b, sizeof(b), "t", LOG_ERR, TLOG_F(.port = "a\nb"), msg);
	assert_memory_equal(b, head, sizeof(head));
	assert_memory_equal(b + sizeof(head), "line one\nline two\n", 18);
	const char *rest = b + sizeof(head) + 18;
	assert_memory_equal(rest, "PRIORITY=3\nSYSLOG_IDENTIFIER=t\nTESS_PORT\n", 41);
	const unsigned char three[8] = { 3 };
	assert_memory_equal(rest + 41, three, 8);
	assert_memory_equal(rest + 49, "a\nb\n", 4);
	assert_int_equal(n, sizeof(head) + 18 + 41 + 8 + 4);
}

static void test_journal_cut(void **state)
{
	char b[64];
	size_t n;

	(void)state;
	/* A field that does not fit is left out whole. */
	n = tlog_format_journal(b, sizeof(b), "t", LOG_INFO, TLOG_F(.port = "a-long-port-name"),
				"hello");
	assert_int_equal(n, strlen("MESSAGE=hello\nPRIORITY=6\nSYSLOG_IDENTIFIER=t\n"));
	assert_int_equal(tlog_format_journal(b, 8, "t", LOG_INFO, NULL, "hello"), 0);
}

static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(tlog_level_parse("err"), LOG_ERR);
	assert_int_equal(tlog_level_parse("error"), LOG_ERR);
	assert_int_equal(tlog_level_parse("WARNING"), LOG_WARNING);
	assert_int_equal(tlog_level_parse("warn"), LOG_WARNING);
	assert_int_equal(tlog_level_parse("notice"), LOG_NOTICE);
	assert_int_equal(tlog_level_parse("info"), LOG_INFO);
	assert_int_equal(tlog_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(tlog_level_parse("verbose"), -1);
	assert_int_equal(tlog_level_parse(""), -1);
	assert_string_equal(tlog_level_name(LOG_CRIT), "err");
	assert_string_equal(tlog_level_name(LOG_DEBUG), "debug");
	tlog_set_level(99);
	assert_int_equal(tlog_get_level(), LOG_DEBUG);
	tlog_set_level(LOG_NOTICE);
	assert_true(tlog_enabled(LOG_WARNING));
	assert_false(tlog_enabled(LOG_INFO));
}

/* The journal output end to end: a datagram on our socket, lines under the level dropped. */
static void test_journal_socket(void **state)
{
	char path[] = "/tmp/tlog-test-XXXXXX", sock[64], b[512];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/j", path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setenv("TESS_JOURNAL_SOCKET", sock, 1);
	tlog_init("unit");
	assert_int_equal(tlog_get_output(), TLOG_STDERR); /* no $JOURNAL_STREAM */
	tlog_set_output(TLOG_JOURNAL);
	tlog_set_level(LOG_INFO);
	tlog(LOG_DEBUG, NULL, "not sent");
	tlog(LOG_NOTICE, TLOG_F(.job = 5), "job %u: done", 5u);
	n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
	const char want[] = "MESSAGE=job 5: done\nPRIORITY=5\nSYSLOG_IDENTIFIER=unit\nTESS_JOB=5\n";
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(b, want, sizeof(want) - 1);
	assert_true(recv(fd, b, sizeof(b), MSG_DONTWAIT) < 0);
	close(fd);
	unlink(sock);
	rmdir(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),           cmocka_unit_test(test_line_cut),
		cmocka_unit_test(test_journal),        cmocka_unit_test(test_journal_multiline),
		cmocka_unit_test(test_journal_cut),    cmocka_unit_test(test_levels),
		cmocka_unit_test(test_journal_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
