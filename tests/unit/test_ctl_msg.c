/* SPDX-License-Identifier: BSD-3-Clause */
/* The control protocol codec: request parsing, responses, depth limit, line framing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_msg.h"

static int parse(const char *text, struct ctl_request *req, struct ctl_error *err)
{
	memset(err, 0, sizeof(*err));
	return ctl_request_parse(text, strlen(text), 32, req, err);
}

static void test_depth(void **state)
{
	(void)state;
	assert_int_equal(ctl_json_depth("1", 1), 0);
	assert_int_equal(ctl_json_depth("{}", 2), 1);
	assert_int_equal(ctl_json_depth("[[{}],[]]", 9), 3);
	/* Brackets inside strings, with escaped quotes, do not count. */
	const char *s = "{\"a\": \"[[[{{{\\\"[[[\", \"b\": [1]}";
	assert_int_equal(ctl_json_depth(s, strlen(s)), 2);
}

static void test_good_request(void **state)
{
	struct ctl_request req;
	struct ctl_error err;

	(void)state;
	assert_int_equal(parse("{\"id\": 7, \"method\": \"xconnect.add\", \"params\": "
			       "{\"a\": \"p0\"}}",
			       &req, &err),
			 0);
	assert_string_equal(req.method, "xconnect.add");
	assert_int_equal(json_integer_value(req.id), 7);
	assert_string_equal(json_string_value(json_object_get(req.params, "a")), "p0");
	ctl_request_clear(&req);

	/* id may be a string or absent; params default to {}. */
	assert_int_equal(parse("{\"id\": \"x1\", \"method\": \"status\"}", &req, &err), 0);
	assert_string_equal(json_string_value(req.id), "x1");
	assert_int_equal(json_object_size(req.params), 0);
	ctl_request_clear(&req);
	assert_int_equal(parse("{\"method\": \"status\"}", &req, &err), 0);
	assert_true(json_is_null(req.id));
	ctl_request_clear(&req);
}

static void expect_bad(const char *text, int code, const char *path, const char *msg_part,
		       bool id_kept)
{
	struct ctl_request req;
	struct ctl_error err;

	assert_int_equal(parse(text, &req, &err), -code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.path, path);
	if (strstr(err.message, msg_part) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", text, err.message, msg_part);
	assert_int_equal(!json_is_null(req.id), id_kept);
	ctl_request_clear(&req);
}

static void test_bad_requests(void **state)
{
	char deep[200] = "{\"method\": \"x\", \"params\": ";

	(void)state;
	expect_bad("{\"method\": ", EBADMSG, "", "malformed JSON", false);
	expect_bad("not json", EBADMSG, "", "malformed", false);
	expect_bad("{\"method\": \"a\", \"method\": \"b\"}", EBADMSG, "", "duplicate", false);
	expect_bad("[1]", EINVAL, "", "JSON object", false);
	expect_bad("{\"id\": 1.5, \"method\": \"x\"}", EINVAL, "/id", "integer, a string or null",
		   false);
	expect_bad("{\"id\": 3}", EINVAL, "/method", "non-empty string", true);
	expect_bad("{\"id\": 3, \"method\": 5}", EINVAL, "/method", "string", true);
	expect_bad("{\"id\": 3, \"method\": \"\"}", EINVAL, "/method", "non-empty", true);
	expect_bad("{\"id\": 3, \"method\": \"x\", \"params\": [1]}", EINVAL, "/params",
		   "must be an object", true);
	expect_bad("{\"id\": 3, \"method\": \"x\", \"extra\": 1}", EINVAL, "/extra", "unknown key",
		   true);
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	expect_bad(deep, E2BIG, "", "41 levels deep, the limit is 32", false);
}

static void test_responses(void **state)
{
	struct ctl_error err = { 0 }, got;
	json_t *id = json_integer(9), *r, *msg, *res;
	char *text;
	size_t len;

	(void)state;
	msg = ctl_response_ok(id, json_pack("{s:i}", "x", 1));
	text = ctl_msg_encode(msg, &len);
	assert_int_equal(text[len - 1], '\n');
	assert_null(memchr(text, '\n', len - 1));
	assert_int_equal(ctl_response_parse(text, len - 1, 9, &res, &got), 0);
	assert_int_equal(json_integer_value(json_object_get(res, "x")), 1);
	json_decref(res);
	/* An answer to another request is refused. */
	assert_int_equal(ctl_response_parse(text, len - 1, 10, &res, &got), -EPROTO);
	free(text);
	json_decref(msg);

	ctl_error_set(&err, ENOENT, "/params/a", "no port named '%s'", "zz");
	msg = ctl_response_error(id, &err);
	text = ctl_msg_encode(msg, &len);
	assert_int_equal(ctl_response_parse(text, len, 9, &res, &got), -ENOENT);
	assert_null(res);
	assert_int_equal(got.code, ENOENT);
	assert_string_equal(got.path, "/params/a");
	assert_string_equal(got.message, "no port named 'zz'");
	free(text);
	json_decref(msg);

	r = ctl_request_new(4, "status", NULL);
	assert_string_equal(json_string_value(json_object_get(r, "method")), "status");
	assert_true(json_is_object(json_object_get(r, "params")));
	json_decref(r);
	json_decref(id);

	assert_int_equal(ctl_response_parse("{\"id\": 1}", 9, 1, &res, &got), -EBADMSG);
	assert_int_equal(ctl_response_parse("garbage", 7, 1, &res, &got), -EBADMSG);
}

static void test_error_from_cfg(void **state)
{
	struct cfg_errs errs;
	struct ctl_error err;

	(void)state;
	cfg_errs_init(&errs);
	cfg_err_add(&errs, ERANGE, "/params/mtu", "too big");
	cfg_err_add(&errs, EINVAL, "/params/x", "second");
	ctl_error_from_cfg(&err, &errs);
	assert_int_equal(err.code, ERANGE);
	assert_string_equal(err.path, "/params/mtu");
	assert_string_equal(err.message, "too big");
}

static void feed(struct ctl_linebuf *lb, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		size_t avail;
		char *sp = ctl_linebuf_space(lb, &avail);
		size_t n = len < avail ? len : avail;

		assert_true(avail > 0);
		memcpy(sp, s, n);
		ctl_linebuf_commit(lb, n);
		s += n;
		len -= n;
	}
}

static void test_linebuf(void **state)
{
	struct ctl_linebuf lb;
	const char *line;
	bool over;
	size_t len;

	(void)state;
	assert_int_equal(ctl_linebuf_init(&lb, 64), 0);
	feed(&lb, "{\"a\"");
	assert_null(ctl_linebuf_next(&lb, &len, &over));
	assert_false(over);
	feed(&lb, ":1}\n{\"b\":2}\n{\"c\"");
	line = ctl_linebuf_next(&lb, &len, &over);
	assert_non_null(line);
	assert_int_equal(len, 7);
	assert_memory_equal(line, "{\"a\":1}", 7);
	line = ctl_linebuf_next(&lb, &len, &over);
	assert_memory_equal(line, "{\"b\":2}", 7);
	assert_null(ctl_linebuf_next(&lb, &len, &over));
	feed(&lb, ":3}\n");
	line = ctl_linebuf_next(&lb, &len, &over);
	assert_memory_equal(line, "{\"c\":3}", 7);
	assert_null(ctl_linebuf_next(&lb, &len, &over));
	assert_false(over);
	ctl_linebuf_free(&lb);

	/* Exactly max bytes is fine; one more without a newline is an overflow. */
	char big[80];
	assert_int_equal(ctl_linebuf_init(&lb, 64), 0);
	memset(big, 'x', 64);
	big[64] = '\n';
	big[65] = '\0';
	feed(&lb, big);
	line = ctl_linebuf_next(&lb, &len, &over);
	assert_non_null(line);
	assert_int_equal(len, 64);
	big[64] = 'x';
	big[65] = '\0';
	feed(&lb, big);
	assert_null(ctl_linebuf_next(&lb, &len, &over));
	assert_true(over);
	size_t avail;
	ctl_linebuf_space(&lb, &avail);
	assert_int_equal(avail, 0);
	ctl_linebuf_free(&lb);

	/* A long line arriving in many pieces. */
	assert_int_equal(ctl_linebuf_init(&lb, 1 << 20), 0);
	for (int i = 0; i < 1000; i++)
		feed(&lb, "0123456789");
	assert_null(ctl_linebuf_next(&lb, &len, &over));
	feed(&lb, "\n");
	line = ctl_linebuf_next(&lb, &len, &over);
	assert_int_equal(len, 10000);
	ctl_linebuf_free(&lb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth),          cmocka_unit_test(test_good_request),
		cmocka_unit_test(test_bad_requests),   cmocka_unit_test(test_responses),
		cmocka_unit_test(test_error_from_cfg), cmocka_unit_test(test_linebuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
