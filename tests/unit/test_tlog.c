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
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
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
	/* A VRF's and a group's lines (DP_VRF_FIELDS, the vswitch's). */
	tlog_format_line(b, sizeof(b), "tessd", LOG_ERR,
			 TLOG_F(.tenant_name = "acme", .vrf = "blue"), "VRF blue: x");
	assert_string_equal(b, "tessd: err: VRF blue: x [tenant=acme vrf=blue]\n");
	tlog_format_line(b, sizeof(b), "tessd", LOG_INFO, TLOG_F(.group = "g1"), "y");
	assert_string_equal(b, "tessd: y [group=g1]\n");
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

/* The ident does not fit: the message is what is cut, never read past its end. */
static void test_line_cut_short_msg(void **state)
{
	char b[8], *msg = malloc(2); /* on the heap: ASan sees a read past it */

	(void)state;
	assert_non_null(msg);
	memcpy(msg, "x", 2);
	size_t n = tlog_format_line(b, sizeof(b), "a-long-ident", LOG_INFO, NULL, msg);
	assert_int_equal(n, 2);
	assert_string_equal(b, "x\n");
	free(msg);
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
	n = tlog_format_journal(b, sizeof(b), "tessd", LOG_INFO,
				TLOG_F(.tenant_name = "acme", .vrf = "blue", .group = "g1"), "v");
	assert_int_equal(n,
			 strlen("MESSAGE=v\nPRIORITY=6\nSYSLOG_IDENTIFIER=tessd\nTESS_TENANT=acme\n"
				"TESS_VRF=blue\nTESS_GROUP=g1\n"));
	assert_memory_equal(b,
			    "MESSAGE=v\nPRIORITY=6\nSYSLOG_IDENTIFIER=tessd\nTESS_TENANT=acme\n"
			    "TESS_VRF=blue\nTESS_GROUP=g1\n",
			    n);
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

/* A journal of the test's own: a datagram socket in a fresh directory, tlog's output at
 * level info. */
struct journal {
	char dir[32], sock[64];
	int fd;
};

static void journal_open(struct journal *j)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(j->dir, sizeof(j->dir), "/tmp/tlog-test-XXXXXX");
	assert_non_null(mkdtemp(j->dir));
	snprintf(j->sock, sizeof(j->sock), "%s/j", j->dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", j->sock);
	j->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(j->fd >= 0);
	assert_int_equal(bind(j->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setenv("TESS_JOURNAL_SOCKET", j->sock, 1);
	unsetenv("JOURNAL_STREAM"); /* run under systemd, stderr may be the journal */
	assert_int_equal(tlog_init("unit"), 0);
	assert_int_equal(tlog_get_output(), TLOG_STDERR); /* no $JOURNAL_STREAM */
	tlog_set_output(TLOG_JOURNAL);
	tlog_set_level(LOG_INFO);
}

static void journal_close(struct journal *j)
{
	close(j->fd);
	unlink(j->sock);
	rmdir(j->dir);
}

/* The journal output end to end: a datagram on our socket, lines under the level dropped. */
static void test_journal_socket(void **state)
{
	struct journal j;
	char b[512];
	ssize_t n;

	(void)state;
	journal_open(&j);
	tlog(LOG_DEBUG, NULL, "not sent");
	tlog(LOG_NOTICE, TLOG_F(.job = 5), "job %u: done", 5u);
	n = recv(j.fd, b, sizeof(b), MSG_DONTWAIT);
	const char want[] = "MESSAGE=job 5: done\nPRIORITY=5\nSYSLOG_IDENTIFIER=unit\nTESS_JOB=5\n";
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(b, want, sizeof(want) - 1);
	assert_true(recv(j.fd, b, sizeof(b), MSG_DONTWAIT) < 0);
	journal_close(&j);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * A journal that never reads: its queue fills (net.unix.max_dgram_qlen, 10 by default), and
 * the lines after it are dropped and counted, never waited for. Then, read, the next line
 * goes through followed by "N lines dropped".
 */
static void test_journal_full_does_not_block(void **state)
{
	struct journal j;
	char b[512];
	int got = 0;
	const int lines = 200;

	(void)state;
	journal_open(&j);
	uint64_t before = tlog_dropped();
	alarm(10); /* blocked for good: the test fails (killed) rather than hangs */
	double t0 = now();
	for (int i = 0; i < lines; i++)
		tlog(LOG_INFO, NULL, "line %d", i);
	double took = now() - t0;
	alarm(0);
	assert_true(took < 1.0);
	while (recv(j.fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		got++;
	uint64_t dropped = tlog_dropped() - before;
	assert_true(got > 0 && got < lines);
	assert_int_equal(dropped, (uint64_t)(lines - got));
	/* Room again: the line, then how many were lost. */
	tlog(LOG_INFO, NULL, "after");
	ssize_t n = recv(j.fd, b, sizeof(b) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	b[n] = '\0';
	assert_non_null(strstr(b, "MESSAGE=after\n"));
	n = recv(j.fd, b, sizeof(b) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	b[n] = '\0';
	char want[64];
	snprintf(want, sizeof(want), "MESSAGE=%llu lines dropped", (unsigned long long)dropped);
	assert_non_null(strstr(b, want));
	assert_non_null(strstr(b, "PRIORITY=4\n"));
	assert_int_equal(tlog_dropped() - before, dropped); /* said once */
	assert_true(recv(j.fd, b, sizeof(b), MSG_DONTWAIT) < 0);
	tlog_set_output(TLOG_STDERR);
	journal_close(&j);
}

/* A $TESS_JOURNAL_SOCKET too long for sun_path is an error, not the real journal. */
static void test_journal_path_too_long(void **state)
{
	char p[200];

	(void)state;
	memset(p, 'j', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	setenv("TESS_JOURNAL_SOCKET", p, 1);
	assert_int_equal(tlog_init("unit"), -ENAMETOOLONG);
	unsetenv("TESS_JOURNAL_SOCKET");
	assert_int_equal(tlog_init("unit"), 0);
}

/*
 * A stderr line longer than the pipe holds, its write cut by a signal (no SA_RESTART): the
 * rest is written too. The reader waits until the writer is blocked in write, interrupts
 * it, then reads everything.
 */
static int pipe_rd;
static pthread_t writer;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *slow_reader(void *arg)
{
	size_t *total = arg;
	char b[8192];
	ssize_t n;

	usleep(200 * 1000);
	pthread_kill(writer, SIGUSR1);
	usleep(100 * 1000);
	while ((n = read(pipe_rd, b, sizeof(b))) > 0)
		*total += (size_t)n;
	return NULL;
}

static void test_stderr_whole_line(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	char msg[4000];
	int p[2], saved = dup(2);
	size_t total = 0;
	pthread_t rd;

	(void)state;
	memset(msg, 's', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	assert_int_equal(pipe(p), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0); /* no SA_RESTART */
	pipe_rd = p[0];
	writer = pthread_self();
	dup2(p[1], 2);
	close(p[1]);
	assert_int_equal(pthread_create(&rd, NULL, slow_reader, &total), 0);
	tlog_set_output(TLOG_STDERR);
	tlog_set_level(LOG_INFO);
	/* Two lines: the pipe holds 4096 bytes, the first line fills most of it. */
	tlog(LOG_INFO, TLOG_F(.host = 1), "%s", msg);
	tlog(LOG_INFO, TLOG_F(.host = 2), "%s", msg);
	dup2(saved, 2);
	close(saved);
	pthread_join(rd, NULL);
	close(p[0]);
	sigaction(SIGUSR1, &old, NULL);
	/* "unit: " + msg + " [host=N]\n", twice */
	assert_int_equal(total, 2 * (6 + strlen(msg) + 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_cut),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_journal_multiline),
		cmocka_unit_test(test_journal_cut),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_journal_socket),
		cmocka_unit_test(test_line_cut_short_msg),
		cmocka_unit_test(test_journal_full_does_not_block),
		cmocka_unit_test(test_journal_path_too_long),
		cmocka_unit_test(test_stderr_whole_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
