/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_err_set: a message longer than its buffer is cut at a whole UTF-8
 * character, so that the answer's and events' JSON can carry it (jansson
 * refuses a string that is not UTF-8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "mgr.h"

/* A message of pad ASCII bytes and then chars, set through mgr_err_set. */
static void set(struct mgr_err *e, size_t pad, const char *chars)
{
	char text[1024];

	memset(text, 'x', pad);
	snprintf(text + pad, sizeof(text) - pad, "%s", chars);
	mgr_err_set(e, 409, "/a", "%s", text);
}

static void assert_json_ok(const struct mgr_err *e)
{
	json_t *o = json_pack("{s:s}", "error", e->msg);

	assert_non_null(o);
	json_decref(o);
}

static void test_cut_at_a_whole_character(void **state)
{
	const size_t room = sizeof(((struct mgr_err *)0)->msg) - 1;
	struct mgr_err e = { 0 };

	(void)state;
	/* A 2-byte character whose second byte does not fit: it goes whole. */
	set(&e, room - 1, "\xc3\xa9\xc3\xa9");
	assert_int_equal(strlen(e.msg), room - 1);
	assert_json_ok(&e);
	/* A 3-byte one with one byte, a 4-byte one with three bytes left. */
	set(&e, room - 1, "\xe2\x82\xac");
	assert_int_equal(strlen(e.msg), room - 1);
	assert_json_ok(&e);
	set(&e, room - 3, "\xf0\x9f\x98\x80");
	assert_int_equal(strlen(e.msg), room - 3);
	assert_json_ok(&e);
	/* One that fits exactly stays. */
	set(&e, room - 2, "\xc3\xa9\xc3\xa9");
	assert_int_equal(strlen(e.msg), room);
	assert_json_ok(&e);
	/* Short messages are untouched. */
	set(&e, 3, "\xc3\xa9");
	assert_string_equal(e.msg, "xxx\xc3\xa9");
	assert_string_equal(e.path, "/a");
	assert_int_equal(e.status, 409);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_at_a_whole_character),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
