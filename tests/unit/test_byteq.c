/* SPDX-License-Identifier: BSD-3-Clause */
/* The bounded byte queue of event streams: a slow reader that never drains
 * fully must not make it grow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "byteq.h"

#define LIMIT (256u << 10)

static void test_slow_reader_bounded(void **state)
{
	struct byteq q = { 0 };
	char line[200];
	size_t max_cap = 0, drops = 0;

	(void)state;
	memset(line, 'x', sizeof(line));
	/* Fill near the limit, then append 100k events while reading a bit less
	 * than is written: it never drains fully, as a slow reader. */
	for (unsigned i = 0; i < 100000; i++) {
		if (byteq_push_line(&q, line, sizeof(line), LIMIT) == -ENOSPC)
			drops++;
		byteq_consume(&q, i % 2 ? sizeof(line) : 150);
		assert_true(byteq_pending(&q) <= LIMIT);
		assert_true(byteq_pending(&q) > 0);
		if (q.cap > max_cap)
			max_cap = q.cap;
	}
	assert_true(drops > 0);
	assert_true(max_cap <= LIMIT);
	byteq_free(&q);
}

static void test_whole_lines_fifo(void **state)
{
	struct byteq q = { 0 };

	(void)state;
	assert_int_equal(byteq_push_line(&q, "ab", 2, 8), 0);
	assert_int_equal(byteq_push_line(&q, "cde", 3, 8), 0);
	/* All or nothing: "fg\n" would pass 8 unread bytes. */
	assert_int_equal(byteq_push_line(&q, "fg", 2, 8), -ENOSPC);
	assert_int_equal(byteq_pending(&q), 7);
	assert_memory_equal(byteq_data(&q), "ab\ncde\n", 7);
	byteq_consume(&q, 3);
	assert_int_equal(byteq_push_line(&q, "fg", 2, 8), 0);
	assert_memory_equal(byteq_data(&q), "cde\nfg\n", 7);
	byteq_consume(&q, 100);
	assert_int_equal(byteq_pending(&q), 0);
	/* No limit: answers of any size. */
	static char big[100000];
	assert_int_equal(byteq_push(&q, big, sizeof(big), SIZE_MAX), 0);
	assert_int_equal(byteq_push(&q, "z", 1, SIZE_MAX), 0);
	assert_int_equal(byteq_pending(&q), sizeof(big) + 1);
	byteq_consume(&q, sizeof(big) + 1);
	assert_null(q.buf); /* a large drained buffer is given back */
	byteq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_reader_bounded),
		cmocka_unit_test(test_whole_lines_fifo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
