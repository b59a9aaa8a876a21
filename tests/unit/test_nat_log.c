/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT44 logging: the records' ring (wrap-around, full) and the lines made of them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nat_log.h"
#include "nat_log_file.h"

static struct nat_log_ring *ring_new(uint32_t size)
{
	struct nat_log_ring *q = calloc(1, nat_log_ring_bytes(size));

	assert_non_null(q);
	nat_log_ring_init(q, size);
	return q;
}

static struct nat_log_rec rec(uint64_t i)
{
	return (struct nat_log_rec){ .tsc = i, .inside = (uint32_t)i, .event = NAT_LOG_CREATE };
}

/* Many times round a small ring: every record comes out once, in order. */
static void ring_wraps(void **state)
{
	struct nat_log_ring *q = ring_new(16);
	struct nat_log_rec out[16];
	uint64_t put = 0, got = 0;

	(void)state;
	for (int round = 0; round < 1000; round++) {
		uint32_t k = (uint32_t)(round % 13) + 1;

		for (uint32_t i = 0; i < k; i++) {
			struct nat_log_rec r = rec(put);

			assert_true(nat_log_put(q, &r));
			put++;
		}
		assert_int_equal(nat_log_backlog(q), put - got);
		for (uint32_t n; (n = nat_log_take(q, out, 5)) > 0;)
			for (uint32_t i = 0; i < n; i++)
				assert_int_equal(out[i].tsc, got++);
	}
	assert_int_equal(got, put);
	assert_int_equal(q->lost, 0);
	assert_true(q->head > 16 * 100); /* the indexes went round many times */
	free(q);
}

/* A full ring refuses (counted lost), keeps what it has, and takes again once read. */
static void ring_full_counts_loss(void **state)
{
	struct nat_log_ring *q = ring_new(16);
	struct nat_log_rec out[32];

	(void)state;
	for (uint64_t i = 0; i < 20; i++) {
		struct nat_log_rec r = rec(i);

		assert_int_equal(nat_log_put(q, &r), i < 16);
	}
	assert_int_equal(q->lost, 4);
	assert_int_equal(nat_log_backlog(q), 16);
	assert_int_equal(nat_log_take(q, out, 3), 3);
	assert_int_equal(out[0].tsc, 0);
	for (uint64_t i = 0; i < 3; i++) {
		struct nat_log_rec r = rec(100 + i);

		assert_true(nat_log_put(q, &r));
	}
	assert_false(nat_log_put(q, &(struct nat_log_rec){ 0 }));
	assert_int_equal(q->lost, 5);
	assert_int_equal(nat_log_take(q, out, 32), 16);
	assert_int_equal(out[12].tsc, 15);
	assert_int_equal(out[13].tsc, 100);
	assert_int_equal(out[15].tsc, 102);
	free(q);
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void format_session(void **state)
{
	struct nat_log_rec r = { .inside = ip("10.0.0.5"),
				 .in_port = htons(40000),
				 .outside = ip("203.0.113.1"),
				 .out_port = htons(1024),
				 .remote = ip("8.8.8.8"),
				 .remote_port = htons(53),
				 .event = NAT_LOG_CREATE,
				 .proto = IPPROTO_UDP };
	/* 2026-12-02T16:40:01.123Z */
	struct nat_log_names nm = { .unix_ms = 1796229601123ull, .inst = "acme", .vrf = "red" };
	char buf[NAT_LOG_LINE_MAX];
	size_t n = nat_log_format(buf, &r, &nm);

	(void)state;
	assert_string_equal(buf, "2026-12-02T16:40:01.123Z C udp acme red 10.0.0.5:40000 "
				 "203.0.113.1:1024 8.8.8.8:53\n");
	assert_int_equal(n, strlen(buf));
	r.event = NAT_LOG_DELETE;
	r.proto = IPPROTO_TCP;
	nm.unix_ms += 61001;
	nm.dur_ms = 12345;
	nat_log_format(buf, &r, &nm);
	assert_string_equal(buf, "2026-12-02T16:41:02.124Z D tcp acme red 10.0.0.5:40000 "
				 "203.0.113.1:1024 8.8.8.8:53 12.345\n");
	r.proto = IPPROTO_ICMP;
	nm.dur_ms = 7;
	nat_log_format(buf, &r, &nm);
	assert_non_null(strstr(buf, " D icmp acme red "));
	assert_non_null(strstr(buf, " 0.007\n"));
}

static void format_block(void **state)
{
	struct nat_log_rec r = { .inside = ip("10.0.0.10"),
				 .outside = ip("203.0.113.2"),
				 .out_port = htons(1536),
				 .out_last = 2047,
				 .event = NAT_LOG_ALLOC };
	struct nat_log_names nm = { .unix_ms = 0, .inst = "bravo", .vrf = "vrf-b" };
	char buf[NAT_LOG_LINE_MAX];

	(void)state;
	nat_log_format(buf, &r, &nm);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z A - bravo vrf-b 10.0.0.10 "
				 "203.0.113.2:1536-2047\n");
	r.event = NAT_LOG_FREE;
	nat_log_format(buf, &r, &nm);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z F - bravo vrf-b 10.0.0.10 "
				 "203.0.113.2:1536-2047\n");
}

/* The longest line there can be (longest names, addresses, ports, duration) fits. */
static void format_longest_fits(void **state)
{
	static const char name[] = "abcdefghijklmnopqrstuvwxyz01234"; /* 31: TESS_NAME_LEN - 1 */
	struct nat_log_rec r = { .inside = UINT32_MAX,
				 .in_port = UINT16_MAX,
				 .outside = UINT32_MAX,
				 .out_port = UINT16_MAX,
				 .remote = UINT32_MAX,
				 .remote_port = UINT16_MAX,
				 .event = NAT_LOG_DELETE,
				 .proto = IPPROTO_ICMP };
	struct nat_log_names nm = { .unix_ms = 253402300799999ull, /* 9999-12-31T23:59:59.999 */
				    .dur_ms = UINT64_MAX,
				    .inst = name,
				    .vrf = name };
	char buf[NAT_LOG_LINE_MAX];
	size_t n = nat_log_format(buf, &r, &nm);

	(void)state;
	assert_int_equal(n, strlen(buf));
	assert_true(n < NAT_LOG_LINE_MAX);
	assert_int_equal(buf[n - 1], '\n');
	assert_non_null(strstr(buf, " 18446744073709551.615\n"));
}

/* The end of logging: one line, no names or addresses. */
static void format_end(void **state)
{
	struct nat_log_rec r = { .event = NAT_LOG_END };
	struct nat_log_names nm = { .unix_ms = 1764693601123ull, .inst = "x", .vrf = "y" };
	char buf[NAT_LOG_LINE_MAX];

	(void)state;
	nat_log_format(buf, &r, &nm);
	assert_string_equal(buf, "2025-12-02T16:40:01.123Z E - - - stopped\n");
}

/* Not an assertion: what an enqueue costs (the worker's part of logging), for the record. */
static void enqueue_cost(void **state)
{
	enum { N = 1 << 22, SIZE = 1 << 12 };
	struct nat_log_ring *q = ring_new(SIZE);
	struct nat_log_rec out[SIZE], r = rec(1);
	struct timespec a, b;
	uint64_t taken = 0;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (uint32_t i = 0; i < N; i++) {
		r.tsc = i;
		nat_log_put(q, &r);
		if ((i & (SIZE - 1)) == SIZE - 1)
			taken += nat_log_take(q, out, SIZE); /* a consumer keeping up */
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(taken, N);
	printf("# nat log: %.1f ns per record (enqueue, and a batched take)\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / N);
	free(q);
}

/* ---- the file (nat_log_file.c), on a temp dir ---- */

static char tmp[64];

static int tmp_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/natlogfix-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

static const char *at(const char *name)
{
	static char p[4][128];
	static unsigned i;

	snprintf(p[++i % 4], sizeof(p[0]), "%s/%s", tmp, name);
	return p[i % 4];
}

static off_t size_of(const char *name)
{
	struct stat st;

	return stat(at(name), &st) == 0 ? st.st_size : -1;
}

/* n lines of 50 bytes ("line NNNN" padded). */
static size_t lines50(char *buf, unsigned first, unsigned n)
{
	char l[51]; /* and its NUL, not copied */

	for (unsigned i = 0; i < n; i++) {
		snprintf(l, sizeof(l), "line %04u %039u\n", first + i, 0);
		memcpy(buf + 50 * i, l, 50);
	}
	return 50 * (size_t)n;
}

static void file_at(struct nat_log_file *f, const char *name)
{
	nat_log_file_init(f);
	assert_int_equal(nat_log_file_set(f, tmp, at(name)), 0);
}

/* Rotation at a small size (an internal limit: the config's minimum is 1 MiB). */
static void file_rotates_whole_lines(void **state)
{
	struct nat_log_file f;
	uint64_t rec = 0, lost = 0;
	char buf[50 * 40];

	(void)state;
	file_at(&f, "r.log");
	for (unsigned b = 0; b < 4; b++)
		nat_log_file_write(&f, buf, lines50(buf, 10 * b, 10), 220, 2, &rec, &lost);
	assert_int_equal(rec, 40);
	assert_int_equal(lost, 0);
	assert_int_equal(f.rotations, 9); /* 4 lines a file: 10 files made */
	assert_int_equal(size_of("r.log"), 200);
	assert_int_equal(size_of("r.log.1"), 200);
	assert_int_equal(size_of("r.log.2"), 200);
	assert_int_equal(size_of("r.log.3"), -1);
	nat_log_file_close(&f);
}

/* path.1 a non-empty directory: the rotation fails once a flush, the lines go past it. */
static void file_rotation_failure_returns(void **state)
{
	struct nat_log_file f;
	uint64_t rec = 0, lost = 0;
	char buf[50 * 10];

	(void)state;
	assert_int_equal(mkdir(at("x.log.1"), 0700), 0);
	assert_int_equal(mkdir(at("x.log.1/keep"), 0700), 0);
	file_at(&f, "x.log");
	nat_log_file_write(&f, buf, lines50(buf, 0, 10), 100, 1, &rec, &lost);
	nat_log_file_write(&f, buf, lines50(buf, 10, 10), 100, 1, &rec, &lost);
	assert_int_equal(rec, 20);
	assert_int_equal(lost, 0);
	assert_int_equal(f.rotations, 0);
	assert_int_equal(f.write_errors, 2); /* one each flush, not a loop */
	assert_int_equal(size_of("x.log"), 1000);
	nat_log_file_close(&f);
}

/* A write cut short (RLIMIT_FSIZE): the part written is taken back, the lines counted lost. */
static void file_short_write_leaves_no_part(void **state)
{
	struct nat_log_file f;
	uint64_t rec = 0, lost = 0;
	struct rlimit old, lim;
	char buf[50 * 10];

	(void)state;
	file_at(&f, "s.log");
	nat_log_file_write(&f, buf, lines50(buf, 0, 2), 1 << 20, 2, &rec, &lost);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 225;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	nat_log_file_write(&f, buf, lines50(buf, 2, 3), 1 << 20, 2, &rec, &lost);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(rec, 2);
	assert_int_equal(lost, 3);
	assert_int_equal(f.write_errors, 1);
	assert_int_equal(size_of("s.log"), 100);
	nat_log_file_write(&f, buf, lines50(buf, 5, 1), 1 << 20, 2, &rec, &lost);
	assert_int_equal(size_of("s.log"), 150); /* whole lines after it */
	assert_int_equal(rec, 3);
	nat_log_file_close(&f);
}

static void refused(const char *name)
{
	struct nat_log_file f;
	uint64_t rec = 0, lost = 0;
	char buf[50];

	file_at(&f, name);
	nat_log_file_write(&f, buf, lines50(buf, 0, 1), 1 << 20, 2, &rec, &lost);
	assert_int_equal(rec, 0);
	assert_int_equal(lost, 1);
	assert_int_equal(f.write_errors, 1);
	nat_log_file_close(&f);
}

/* A FIFO (no block), a hard link, a symbolic link, a link among the directories: refused. */
static void file_open_refuses_what_is_not_its_own(void **state)
{
	struct nat_log_file f;
	uint64_t rec = 0, lost = 0;
	struct stat st;
	char buf[50];
	int fd;

	(void)state;
	assert_int_equal(mkfifo(at("fifo.log"), 0600), 0);
	refused("fifo.log");
	assert_true((fd = open(at("victim"), O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	assert_int_equal(link(at("victim"), at("hard.log")), 0);
	refused("hard.log");
	assert_int_equal(symlink(at("victim"), at("sym.log")), 0);
	refused("sym.log");
	assert_int_equal(mkdir(at("real"), 0700), 0);
	assert_int_equal(symlink(at("real"), at("sub")), 0);
	refused("sub/n.log");
	assert_int_equal(size_of("victim"), 0);
	assert_int_equal(size_of("real/n.log"), -1);
	assert_int_equal(chmod(at("real"), 0777), 0);
	refused("real/n.log");

	/* Its own file, group-readable: made 0600. */
	assert_true((fd = open(at("own.log"), O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	file_at(&f, "own.log");
	nat_log_file_write(&f, buf, lines50(buf, 0, 1), 1 << 20, 2, &rec, &lost);
	assert_int_equal(rec, 1);
	assert_int_equal(stat(at("own.log"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	nat_log_file_close(&f);
	assert_int_equal(nat_log_file_set(&f, tmp, "/etc/shadow"), -EINVAL);

	/* Allowed "/" (everything): the directories walked from the root. */
	assert_int_equal(nat_log_file_set(&f, "/", at("real2.log")), 0);
	assert_int_equal(chmod(at("real"), 0700), 0);
	assert_int_equal(nat_log_file_set(&f, "/", at("real/r.log")), 0);
	rec = 0;
	nat_log_file_write(&f, buf, lines50(buf, 0, 1), 1 << 20, 2, &rec, &lost);
	assert_int_equal(rec, 1);
	assert_int_equal(size_of("real/r.log"), 50);
	nat_log_file_close(&f);
}

/* A batch begun after now was taken (the drain) is not due; one begun long enough ago is. */
static void flush_due_is_signed(void **state)
{
	(void)state;
	assert_false(nat_log_flush_due(1000, 1005, 100));
	assert_false(nat_log_flush_due(1000, 0, 100));
	assert_false(nat_log_flush_due(1099, 1000, 100));
	assert_true(nat_log_flush_due(1100, 1000, 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_wraps),
		cmocka_unit_test(ring_full_counts_loss),
		cmocka_unit_test(format_session),
		cmocka_unit_test(format_block),
		cmocka_unit_test(format_longest_fits),
		cmocka_unit_test(enqueue_cost),
		cmocka_unit_test_setup_teardown(file_rotates_whole_lines, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(file_rotation_failure_returns, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(file_short_write_leaves_no_part, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(file_open_refuses_what_is_not_its_own, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(flush_due_is_signed),
		cmocka_unit_test(format_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
