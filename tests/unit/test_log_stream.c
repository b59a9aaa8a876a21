/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd's rte_log stream under the journal (dataplane/log_api.c): two threads log at once,
 * each with its own level and fields; every datagram is one message whole, with its own
 * thread's priority and fields, never two threads' messages merged nor one cut.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_log.h>

#include "log.h"
#include "tlog.h"

#define PER_THREAD 400
#define PAD        2000 /* a long message: a buffered stream would cut or merge it */

static int log_type;

struct writer {
	char letter;
	uint32_t rte_level;
	uint32_t job;
};

static void *write_lines(void *arg)
{
	const struct writer *w = arg;
	static char pads[2][PAD + 1];
	char *pad = pads[w->letter == 'z'];

	memset(pad, w->letter, PAD);
	dp_log_fields = TLOG_F(.job = w->job);
	for (int i = 0; i < PER_THREAD; i++) {
		rte_log(w->rte_level, log_type, "%c %d %s\n", w->letter, i, pad);
		usleep(200); /* the journal's queue is 10 datagrams: most lines get read */
	}
	dp_log_fields = NULL;
	return NULL;
}

/* Which writer a datagram is (0 or 1) and its line number, after checking it whole; -1. */
static int check(const char *d, size_t n, const struct writer *ws, int *seq)
{
	for (int k = 0; k < 2; k++) {
		char head[32], job[32], prio[32];
		const char *p;
		snprintf(head, sizeof(head), "%c ", ws[k].letter);
		snprintf(job, sizeof(job), "TESS_JOB=%u\n", ws[k].job);
		snprintf(prio, sizeof(prio), "PRIORITY=%u\n", ws[k].rte_level - 1);
		p = memmem(d, n, head, strlen(head));
		if (p == NULL)
			continue;
		if (!memmem(d, n, job, strlen(job)) || !memmem(d, n, prio, strlen(prio)))
			return -1; /* another thread's fields or level */
		*seq = atoi(p + 2);
		p = memchr(p + 2, ' ', (size_t)(d + n - p - 2));
		if (p == NULL || (size_t)(d + n - p) < PAD + 2)
			return -1; /* cut */
		for (size_t i = 1; i <= PAD; i++)
			if (p[i] != ws[k].letter)
				return -1; /* merged */
		if (p[PAD + 1] == ws[k].letter || memchr(d, ws[1 - k].letter, n) != NULL)
			return -1; /* more than one message */
		p = memmem(d, n, "MESSAGE", 7);
		if (memmem(p + 7, (size_t)(d + n - p - 7), "MESSAGE", 7) != NULL)
			return -1;
		return k;
	}
	return -1;
}

static void test_two_threads_whole_datagrams(void **state)
{
	/* Letters that no field name or value holds. */
	struct writer ws[2] = { { 'x', RTE_LOG_WARNING, 1 }, { 'z', RTE_LOG_INFO, 2 } };
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/log-stream-XXXXXX", env[64];
	bool seen[2][PER_THREAD] = { { false } };
	static char d[8192];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
	pthread_t t[2];
	struct stat st;
	int fd, got = 0, bufsize = 4 << 20;
	uint64_t dropped;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/j", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	/* stderr "is the journal" ($JOURNAL_STREAM names it): dp_log_init takes the stream. */
	assert_int_equal(fstat(2, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	setenv("TESS_JOURNAL_SOCKET", a.sun_path, 1);
	assert_int_equal(dp_log_init(), 0);
	assert_int_equal(tlog_get_output(), TLOG_JOURNAL);
	log_type = rte_log_register_type_and_pick_level("unit.stream", RTE_LOG_DEBUG);
	assert_true(log_type >= 0);
	assert_int_equal(rte_log_set_level(log_type, RTE_LOG_DEBUG), 0);
	rte_log_set_global_level(RTE_LOG_DEBUG);
	dropped = tlog_dropped();
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, write_lines, &ws[k]), 0);
	/* Read while they write: the socket's queue is short, what overflows is counted. */
	for (;;) {
		ssize_t n = recv(fd, d, sizeof(d), 0);
		int seq = -1, k;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* 300 ms without a datagram: both are done */
		assert_true(n > 0);
		if (memmem(d, (size_t)n, "lines dropped", 13))
			continue; /* tlog's own count of what the full queue lost */
		k = check(d, (size_t)n, ws, &seq);
		if (k < 0)
			fail_msg("not one whole message (%zd bytes): ...%.*s", n,
				 (int)(n < 200 ? n : 200), d);
		assert_true(seq >= 0 && seq < PER_THREAD && !seen[k][seq]);
		seen[k][seq] = true;
		got++;
	}
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_join(t[k], NULL), 0);
	print_message("%d datagrams whole, %llu dropped (the queue full)\n", got,
		      (unsigned long long)(tlog_dropped() - dropped));
	/* Every line either arrived whole or was counted as dropped. */
	assert_true(got > 0);
	assert_int_equal((uint64_t)got + (tlog_dropped() - dropped), 2 * PER_THREAD);
	rte_openlog_stream(NULL);
	close(fd);
	unlink(a.sun_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads_whole_datagrams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
