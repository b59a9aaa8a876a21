/* SPDX-License-Identifier: BSD-3-Clause */
/* The schema engine: types, ranges, defaults, arrays, paths, encode/decode. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg_schema.h"

struct item {
	char name[8];
	int16_t delta;
};

struct inner {
	uint16_t port;
	char host[16];
};

struct doc {
	bool flag;
	uint8_t small;
	int32_t signed_v;
	uint64_t big;
	double ratio;
	char word[6];
	char mode[6];
	struct inner inner;
	struct item *items;
	uint32_t n_items;
	uint32_t *nums;
	uint32_t n_nums;
	uint16_t even;
};

static int check_even(const void *val, char *why, size_t len)
{
	if (*(const uint16_t *)val % 2) {
		snprintf(why, len, "must be even");
		return EDOM;
	}
	return 0;
}

static const char *const modes[] = { "fast", "safe", NULL };
static const struct cfg_node name_n = {
	.type = CFG_STRING, .str = { .min_len = 1, .max_len = 7, .charset = CFG_NAME_CHARSET }
};
static const struct cfg_node delta_n = { .type = CFG_INT, .i = { -100, 100 } };
static const struct cfg_field item_f[] = {
	CFG_FIELD(struct item, name, "name", &name_n, true, NULL),
	CFG_FIELD(struct item, delta, "delta", &delta_n, false, "-1"),
	{ 0 },
};
static const struct cfg_node item_n = { .type = CFG_OBJECT,
					.obj = { .fields = item_f, .size = sizeof(struct item) } };
static const struct cfg_node items_n = {
	.type = CFG_ARRAY, .arr = { .item = &item_n, .max = 4, .item_size = sizeof(struct item) }
};
static const struct cfg_node num_n = { .type = CFG_INT, .i = { 0, UINT32_MAX } };
static const struct cfg_node nums_n = {
	.type = CFG_ARRAY, .arr = { .item = &num_n, .min = 1, .max = 3, .item_size = 4 }
};
static const struct cfg_field inner_f[] = {
	CFG_FIELD(struct inner, port, "port",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 65535 } }), false, "80"),
	CFG_FIELD(struct inner, host, "host",
		  (&(const struct cfg_node){ .type = CFG_STRING, .str = { .max_len = 15 } }), false,
		  "\"localhost\""),
	{ 0 },
};
static const struct cfg_node inner_n = {
	.type = CFG_OBJECT,
	.obj = { .fields = inner_f, .size = sizeof(struct inner) },
};
static const struct cfg_field doc_f[] = {
	CFG_FIELD(struct doc, flag, "flag", &(const struct cfg_node){ .type = CFG_BOOL }, false,
		  "true"),
	CFG_FIELD(struct doc, small, "small",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 255 } }), false, NULL),
	CFG_FIELD(struct doc, signed_v, "signed",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { INT32_MIN, INT32_MAX } }),
		  false, "-5"),
	CFG_FIELD(struct doc, big, "big",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, INT64_MAX } }), false,
		  NULL),
	CFG_FIELD(struct doc, ratio, "ratio",
		  (&(const struct cfg_node){ .type = CFG_NUMBER, .num = { 0.5, 16 } }), false,
		  "1.0"),
	CFG_FIELD(struct doc, word, "word",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 2, .max_len = 5 } }),
		  true, NULL),
	CFG_FIELD(struct doc, mode, "mode",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = 5, .choices = modes } }),
		  false, "\"safe\""),
	CFG_FIELD(struct doc, inner, "inner", &inner_n, false, "{}"),
	CFG_ARRAY_FIELD(struct doc, items, n_items, "items", &items_n, false, "[]"),
	CFG_ARRAY_FIELD(struct doc, nums, n_nums, "nums", &nums_n, false, "[7]"),
	CFG_FIELD(struct doc, even, "even",
		  (&(const struct cfg_node){
			  .type = CFG_INT, .i = { 0, 1000 }, .check = check_even }),
		  false, "2"),
	{ 0 },
};
static const struct cfg_node doc_n = { .type = CFG_OBJECT,
				       .obj = { .fields = doc_f, .size = sizeof(struct doc) } };

/* Decodes text; returns rc and leaves the first error in *e. */
static int decode(const char *text, struct doc *d, struct cfg_errs *errs)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
	int rc;

	assert_non_null(j);
	cfg_errs_init(errs);
	rc = cfg_decode(&doc_n, j, d, NULL, errs);
	json_decref(j);
	return rc;
}

static void expect_error(const char *text, const char *path, const char *msg_part, int code)
{
	struct cfg_errs e;
	struct doc d;

	assert_true(decode(text, &d, &e) < 0);
	assert_true(e.n >= 1);
	if (strcmp(e.e[0].path, path) != 0 || strstr(e.e[0].msg, msg_part) == NULL)
		fail_msg("for %s expected '%s: ...%s...', got '%s: %s'", text, path, msg_part,
			 e.e[0].path, e.e[0].msg);
	assert_int_equal(e.e[0].code, code);
	/* A failed decode leaves nothing allocated and the struct zeroed. */
	assert_null(d.items);
	assert_null(d.nums);
}

static void test_schema_is_consistent(void **state)
{
	struct cfg_errs e;

	(void)state;
	cfg_errs_init(&e);
	assert_int_equal(cfg_schema_check(&doc_n, &e), 0);
}

static void test_defaults(void **state)
{
	struct cfg_errs e;
	struct doc d;

	(void)state;
	assert_int_equal(decode("{\"word\": \"hi\"}", &d, &e), 0);
	assert_true(d.flag);
	assert_int_equal(d.small, 0);
	assert_int_equal(d.signed_v, -5);
	assert_true(d.ratio == 1.0);
	assert_string_equal(d.mode, "safe");
	assert_int_equal(d.inner.port, 80);
	assert_string_equal(d.inner.host, "localhost");
	assert_int_equal(d.n_items, 0);
	assert_int_equal(d.n_nums, 1);
	assert_int_equal(d.nums[0], 7);
	assert_int_equal(d.even, 2);
	cfg_free(&doc_n, &d);
	assert_null(d.nums);
}

static void test_full_roundtrip(void **state)
{
	const char *text = "{\"flag\": false, \"small\": 255, \"signed\": -2147483648, "
			   "\"big\": 9223372036854775807, \"ratio\": 16, \"word\": \"abcde\", "
			   "\"mode\": \"fast\", \"inner\": {\"port\": 65535, \"host\": \"h\"}, "
			   "\"items\": [{\"name\": \"x\", \"delta\": -100}, {\"name\": \"y\"}], "
			   "\"nums\": [0, 4294967295, 3], \"even\": 1000}";
	struct cfg_errs e;
	struct doc d, c;
	json_t *enc;

	(void)state;
	assert_int_equal(decode(text, &d, &e), 0);
	assert_int_equal(d.small, 255);
	assert_int_equal(d.signed_v, INT32_MIN);
	assert_true(d.big == INT64_MAX);
	assert_int_equal(d.items[0].delta, -100);
	assert_int_equal(d.items[1].delta, -1);
	assert_true(d.nums[1] == UINT32_MAX);
	enc = cfg_encode(&doc_n, &d);
	assert_int_equal(json_integer_value(json_object_get(enc, "signed")), INT32_MIN);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(enc, "items"), 0), "delta")),
			 -100);
	json_decref(enc);
	assert_int_equal(cfg_clone(&doc_n, &c, &d), 0);
	assert_ptr_not_equal(c.items, d.items);
	assert_string_equal(c.items[1].name, "y");
	assert_true(c.nums[1] == UINT32_MAX);
	assert_string_equal(c.inner.host, "h");
	cfg_free(&doc_n, &d);
	cfg_free(&doc_n, &c);
}

static void test_type_errors(void **state)
{
	(void)state;
	expect_error("{\"word\": 5}", "/word", "expected string, got integer", EINVAL);
	expect_error("{\"word\": \"ab\", \"flag\": 1}", "/flag", "expected boolean", EINVAL);
	expect_error("{\"word\": \"ab\", \"small\": 1.5}", "/small", "expected integer, got number",
		     EINVAL);
	expect_error("{\"word\": \"ab\", \"ratio\": \"1\"}", "/ratio", "expected number", EINVAL);
	expect_error("{\"word\": \"ab\", \"inner\": []}", "/inner", "expected object, got array",
		     EINVAL);
	expect_error("{\"word\": \"ab\", \"items\": {}}", "/items", "expected array, got object",
		     EINVAL);
	expect_error("{\"word\": \"ab\", \"nums\": [1, null]}", "/nums/1", "got null", EINVAL);
}

static void test_range_errors(void **state)
{
	(void)state;
	expect_error("{\"word\": \"ab\", \"small\": 256}", "/small", "out of range (0 to 255)",
		     ERANGE);
	expect_error("{\"word\": \"ab\", \"small\": -1}", "/small", "out of range", ERANGE);
	expect_error("{\"word\": \"ab\", \"signed\": 2147483648}", "/signed", "out of range",
		     ERANGE);
	expect_error("{\"word\": \"ab\", \"ratio\": 0.25}", "/ratio", "out of range", ERANGE);
	expect_error("{\"word\": \"a\"}", "/word", "length 1 is out of range (2 to 5", ERANGE);
	expect_error("{\"word\": \"abcdef\"}", "/word", "length 6", ERANGE);
	expect_error("{\"word\": \"ab\", \"nums\": []}", "/nums", "has 0 items, allowed 1 to 3",
		     ERANGE);
	expect_error("{\"word\": \"ab\", \"items\": [{\"name\":\"a\"},{\"name\":\"a\"},"
		     "{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"}]}",
		     "/items", "has 5 items", ERANGE);
	expect_error("{\"word\": \"ab\", \"inner\": {\"port\": 0}}", "/inner/port", "out of range",
		     ERANGE);
}

static void test_string_rules(void **state)
{
	(void)state;
	expect_error("{\"word\": \"ab\", \"mode\": \"slow\"}", "/mode",
		     "'slow' is not one of: fast, safe", EINVAL);
	expect_error("{\"word\": \"ab\", \"items\": [{\"name\": \"a b\"}]}", "/items/0/name",
		     "character ' ' is not allowed", EINVAL);
	expect_error("{\"word\": \"a\\u0000b\"}", "/word", "NUL", EINVAL);
	expect_error("{\"word\": \"a\\tb\"}", "/word", "byte 0x09", EINVAL);
	/* Names are path components: "." and ".." are refused, other dots are fine (1.14). */
	expect_error("{\"word\": \"ab\", \"items\": [{\"name\": \".\"}]}", "/items/0/name",
		     "'.' is not allowed as a name", EINVAL);
	expect_error("{\"word\": \"ab\", \"items\": [{\"name\": \"..\"}]}", "/items/0/name",
		     "'..' is not allowed as a name", EINVAL);
	assert_true(cfg_name_is_dots(".."));
	assert_false(cfg_name_is_dots("..."));
	assert_false(cfg_name_is_dots(".a"));
}

static void test_keys(void **state)
{
	struct cfg_errs e;
	struct doc d;

	(void)state;
	expect_error("{}", "/word", "missing required key", EINVAL);
	expect_error("{\"word\": \"ab\", \"wrod\": 1}", "/wrod", "unknown key", EINVAL);
	expect_error("{\"word\": \"ab\", \"items\": [{\"name\": \"a\", \"x\": 1}]}", "/items/0/x",
		     "unknown key", EINVAL);
	expect_error("{\"word\": \"ab\", \"items\": [{}]}", "/items/0/name", "missing required",
		     EINVAL);
	/* JSON Pointer escaping of odd keys. */
	expect_error("{\"word\": \"ab\", \"a/b~c\": 1}", "/a~1b~0c", "unknown key", EINVAL);
	/* Several errors are all reported. */
	assert_true(decode("{\"x\": 1, \"y\": 2, \"small\": 300}", &d, &e) < 0);
	assert_int_equal(e.n, 4);
}

static void test_check_callback(void **state)
{
	(void)state;
	expect_error("{\"word\": \"ab\", \"even\": 3}", "/even", "must be even", EDOM);
}

static void test_base_path(void **state)
{
	json_t *j = json_loads("{\"word\": 1}", 0, NULL);
	struct cfg_errs e;
	struct doc d;

	(void)state;
	cfg_errs_init(&e);
	assert_true(cfg_decode(&doc_n, j, &d, "/params", &e) < 0);
	assert_string_equal(e.e[0].path, "/params/word");
	json_decref(j);
	cfg_errs_init(&e);
	assert_true(cfg_decode(&doc_n, NULL, &d, "/params", &e) < 0);
}

static void test_error_overflow(void **state)
{
	struct cfg_errs e;

	(void)state;
	cfg_errs_init(&e);
	for (int i = 0; i < CFG_MAX_ERRS + 5; i++)
		cfg_err_add(&e, EINVAL, "/x", "error %d", i);
	assert_int_equal(e.n, CFG_MAX_ERRS + 5);
	assert_string_equal(e.e[CFG_MAX_ERRS - 1].msg, "error 15");
}

struct bad {
	char s[4];
	uint8_t u;
};

/* Compound literals need file scope to be constant. */
static const struct cfg_field f1[] = {
	/* max_len 4 does not fit char[4] with its NUL */
	CFG_FIELD(struct bad, s, "s",
		  (&(const struct cfg_node){ .type = CFG_STRING, .str = { .max_len = 4 } }), false,
		  NULL),
	{ 0 },
};
static const struct cfg_field f2[] = {
	CFG_FIELD(struct bad, u, "u",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 256 } }), false, NULL),
	{ 0 },
};
static const struct cfg_field f3[] = {
	CFG_FIELD(struct bad, u, "u", (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 10 } }),
		  false, "11"),
	{ 0 },
};

static void test_schema_check_catches_bugs(void **state)
{
	const struct cfg_field *fs[] = { f1, f2, f3 };
	struct cfg_errs e;

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct cfg_node n = { .type = CFG_OBJECT,
				      .obj = { .fields = fs[i], .size = sizeof(struct bad) } };
		cfg_errs_init(&e);
		assert_true(cfg_schema_check(&n, &e) < 0);
	}
}

static void test_utf8_trim(void **state)
{
	char a[] = "ab\xc3\xa9";       /* "abé": complete */
	char b[] = "ab\xc3";           /* cut inside é */
	char c[] = "x\xe2\x82";        /* cut inside a 3-byte character */
	char d[] = "\xf0\x9f\x98\x80"; /* complete 4-byte character */

	(void)state;
	cfg_utf8_trim(a);
	cfg_utf8_trim(b);
	cfg_utf8_trim(c);
	cfg_utf8_trim(d);
	assert_string_equal(a, "ab\xc3\xa9");
	assert_string_equal(b, "ab");
	assert_string_equal(c, "x");
	assert_int_equal(strlen(d), 4);
}

/* Errors about long non-ASCII keys stay valid UTF-8, so they can be sent as JSON. */
static void test_long_unicode_key_error_is_valid_utf8(void **state)
{
	char key[1024] = "";
	json_t *j, *msg;
	struct cfg_errs e;
	struct doc d;

	(void)state;
	for (int i = 0; i < 300; i++)
		strcat(key, "\xc3\xa9");
	j = json_pack("{s:s, s:i}", "word", "ab", key, 1);
	assert_non_null(j);
	cfg_errs_init(&e);
	assert_true(cfg_decode(&doc_n, j, &d, "/params", &e) < 0);
	msg = json_pack("{s:s, s:s}", "path", e.e[0].path, "msg", e.e[0].msg);
	assert_non_null(msg);
	json_decref(msg);
	json_decref(j);
}

/* The field of an object description named key. */
static json_t *field_of(const json_t *obj, const char *key)
{
	size_t i;
	json_t *f;

	json_array_foreach (json_object_get(obj, "fields"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "key")), key) == 0)
			return f;
	fail_msg("no field '%s' in the description", key);
	return NULL;
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);

	assert_non_null(want);
	if (!json_equal(got, want))
		fail_msg("got %s, want %s", g, want_text);
	free(g);
	json_decref(want);
}

static void test_schema_json(void **state)
{
	json_t *d = cfg_schema_json(&doc_n), *f;
	size_t i;

	(void)state;
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "type")), "object");
	/* Fields keep the schema's order. */
	assert_int_equal(json_array_size(json_object_get(d, "fields")), 11);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(d, "fields"), 0), "key")),
			    "flag");
	assert_json(field_of(d, "flag"),
		    "{\"key\": \"flag\", \"type\": \"boolean\", \"required\": false, "
		    "\"default\": true}");
	/* No default in the schema: the zero value a decode leaves. */
	assert_json(field_of(d, "small"), "{\"key\": \"small\", \"type\": \"integer\", \"min\": 0, "
					  "\"max\": 255, \"required\": false, \"default\": 0}");
	assert_json(field_of(d, "big"),
		    "{\"key\": \"big\", \"type\": \"integer\", \"min\": 0, "
		    "\"max\": 9223372036854775807, \"required\": false, \"default\": 0}");
	assert_json(field_of(d, "ratio"),
		    "{\"key\": \"ratio\", \"type\": \"number\", \"min\": 0.5, \"max\": 16.0, "
		    "\"required\": false, \"default\": 1.0}");
	assert_json(field_of(d, "word"),
		    "{\"key\": \"word\", \"type\": \"string\", \"min_length\": 2, "
		    "\"max_length\": 5, \"required\": true}");
	assert_json(field_of(d, "mode"),
		    "{\"key\": \"mode\", \"type\": \"string\", \"min_length\": 0, "
		    "\"max_length\": 5, \"choices\": [\"fast\", \"safe\"], \"required\": false, "
		    "\"default\": \"safe\"}");
	assert_json(field_of(d, "inner"),
		    "{\"key\": \"inner\", \"type\": \"object\", \"required\": false, "
		    "\"default\": {}, \"fields\": ["
		    "{\"key\": \"port\", \"type\": \"integer\", \"min\": 1, \"max\": 65535, "
		    "\"required\": false, \"default\": 80},"
		    "{\"key\": \"host\", \"type\": \"string\", \"min_length\": 0, "
		    "\"max_length\": 15, \"required\": false, \"default\": \"localhost\"}]}");
	assert_json(field_of(d, "items"),
		    "{\"key\": \"items\", \"type\": \"array\", \"min_items\": 0, "
		    "\"max_items\": 4, \"required\": false, \"default\": [], \"items\": "
		    "{\"type\": \"object\", \"fields\": ["
		    "{\"key\": \"name\", \"type\": \"string\", \"min_length\": 1, "
		    "\"max_length\": 7, \"charset\": \"" CFG_NAME_CHARSET "\", "
		    "\"required\": true},"
		    "{\"key\": \"delta\", \"type\": \"integer\", \"min\": -100, \"max\": 100, "
		    "\"required\": false, \"default\": -1}]}}");
	assert_json(field_of(d, "nums"),
		    "{\"key\": \"nums\", \"type\": \"array\", \"min_items\": 1, \"max_items\": 3, "
		    "\"required\": false, \"default\": [7], \"items\": "
		    "{\"type\": \"integer\", \"min\": 0, \"max\": 4294967295}}");

	/* Every published default decodes to what leaving the key out gives. */
	json_t *explicit = json_object();
	json_array_foreach (json_object_get(d, "fields"), i, f) {
		const char *key = json_string_value(json_object_get(f, "key"));
		json_t *def = json_object_get(f, "default");
		if (json_is_true(json_object_get(f, "required")))
			json_object_set_new(explicit, key, json_string("hi"));
		else
			json_object_set(explicit, key, def);
	}
	struct doc a, b;
	json_t *implicit = json_pack("{s:s}", "word", "hi");
	assert_int_equal(cfg_decode(&doc_n, explicit, &a, NULL, NULL), 0);
	assert_int_equal(cfg_decode(&doc_n, implicit, &b, NULL, NULL), 0);
	json_t *ea = cfg_encode(&doc_n, &a), *eb = cfg_encode(&doc_n, &b);
	assert_true(json_equal(ea, eb));
	json_decref(ea);
	json_decref(eb);
	cfg_free(&doc_n, &a);
	cfg_free(&doc_n, &b);
	json_decref(explicit);
	json_decref(implicit);
	json_decref(d);
}

static void test_defaults_struct(void **state)
{
	struct doc d, want;
	struct cfg_errs e;

	(void)state;
	assert_int_equal(cfg_defaults(&doc_n, &d), 0);
	/* The defaults plus the required key encode like a decode of the required key alone. */
	snprintf(d.word, sizeof(d.word), "hi");
	assert_int_equal(decode("{\"word\": \"hi\"}", &want, &e), 0);
	json_t *a = cfg_encode(&doc_n, &d), *b = cfg_encode(&doc_n, &want);
	assert_true(json_equal(a, b));
	assert_true(d.flag);
	assert_int_equal(d.n_nums, 1);
	json_decref(a);
	json_decref(b);
	cfg_free(&doc_n, &d);
	cfg_free(&doc_n, &want);
}

/* ---- typed leaves and references ---- */

struct host {
	char name[8];
};

struct net {
	uint8_t kind;
	uint32_t gw;
	struct cfg_prefix4 subnet;
	struct cfg_mac mac;
	char host[8]; /* a reference to hosts[] */
	struct host *hosts;
	uint32_t n_hosts;
	char (*uses)[8]; /* references too */
	uint32_t n_uses;
};

static const char *const kinds[] = { "lan", "wan", "dmz", NULL };
static const struct cfg_node kind_n = { .type = CFG_ENUM,
					.str = { .max_len = 3, .choices = kinds } };
static const struct cfg_node gw_n = { .type = CFG_IP4,
				      .str = { .max_len = 15, .charset = "0123456789." } };
static const struct cfg_node subnet_n = { .type = CFG_PREFIX4,
					  .str = { .min_len = 9, .max_len = 18 } };
static const struct cfg_node mac_n = { .type = CFG_MAC, .str = { .min_len = 17, .max_len = 17 } };
static const struct cfg_node host_ref_n = {
	.type = CFG_REF,
	.str = { .max_len = 7, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/hosts", .key = "name", .what = "host" },
};
static const struct cfg_field host_f[] = {
	CFG_FIELD(struct host, name, "name", &name_n, true, NULL),
	{ 0 },
};
static const struct cfg_node host_n = { .type = CFG_OBJECT,
					.obj = { .fields = host_f, .size = sizeof(struct host) } };
static const struct cfg_field net_f[] = {
	CFG_FIELD(struct net, kind, "kind", &kind_n, false, "\"lan\""),
	CFG_FIELD(struct net, gw, "gw", &gw_n, false, "\"\""),
	CFG_FIELD(struct net, subnet, "subnet", &subnet_n, true, NULL),
	CFG_FIELD(struct net, mac, "mac", &mac_n, false, "\"02:00:00:00:00:01\""),
	CFG_FIELD(struct net, host, "host", &host_ref_n, false, "\"\""),
	CFG_ARRAY_FIELD(struct net, hosts, n_hosts, "hosts",
			(&(const struct cfg_node){ .type = CFG_ARRAY,
						   .arr = { .item = &host_n,
							    .max = 1 << 20,
							    .item_size = sizeof(struct host) } }),
			false, "[]"),
	CFG_ARRAY_FIELD(struct net, uses, n_uses, "uses",
			(&(const struct cfg_node){
				.type = CFG_ARRAY,
				.arr = { .item = &host_ref_n, .max = 1 << 20, .item_size = 8 } }),
			false, "[]"),
	{ 0 },
};
static const struct cfg_node net_n = { .type = CFG_OBJECT,
				       .obj = { .fields = net_f, .size = sizeof(struct net) } };

static int decode_net(const char *text, struct net *n, struct cfg_errs *errs)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	cfg_errs_init(errs);
	rc = cfg_decode(&net_n, j, n, NULL, errs);
	json_decref(j);
	return rc;
}

static void test_typed_leaves_decode_to_binary(void **state)
{
	struct cfg_errs errs;
	struct net n;
	json_t *back;

	(void)state;
	assert_int_equal(cfg_schema_check(&net_n, &errs), 0);
	assert_int_equal(decode_net("{\"kind\": \"dmz\", \"gw\": \"10.0.0.1\", "
				    "\"subnet\": \"10.0.0.0/24\", \"mac\": \"02:AB:cd:00:00:09\"}",
				    &n, &errs),
			 0);
	assert_int_equal(n.kind, 2);
	assert_int_equal(n.gw, 0x0a000001);
	assert_int_equal(n.subnet.ip, 0x0a000000);
	assert_int_equal(n.subnet.len, 24);
	assert_int_equal(n.mac.b[1], 0xab);
	assert_int_equal(n.mac.b[5], 9);
	/* Back to text, canonical (lower-case MAC); an unset optional address is "". */
	back = cfg_encode(&net_n, &n);
	assert_string_equal(json_string_value(json_object_get(back, "kind")), "dmz");
	assert_string_equal(json_string_value(json_object_get(back, "gw")), "10.0.0.1");
	assert_string_equal(json_string_value(json_object_get(back, "subnet")), "10.0.0.0/24");
	assert_string_equal(json_string_value(json_object_get(back, "mac")), "02:ab:cd:00:00:09");
	json_decref(back);
	cfg_free(&net_n, &n);
	assert_int_equal(decode_net("{\"subnet\": \"1.2.3.4/32\"}", &n, &errs), 0);
	assert_int_equal(n.kind, 0);
	assert_int_equal(n.gw, 0);
	back = cfg_encode(&net_n, &n);
	assert_string_equal(json_string_value(json_object_get(back, "gw")), "");
	json_decref(back);
	cfg_free(&net_n, &n);
}

static void test_typed_leaves_refuse_bad_text(void **state)
{
	static const struct {
		const char *doc, *path, *msg;
	} bad[] = {
		{ "{\"subnet\": \"10.0.0.0/24\", \"kind\": \"wifi\"}", "/kind",
		  "'wifi' is not one of: lan, wan, dmz" },
		{ "{\"subnet\": \"10.0.0.0/24\", \"gw\": \"10.0.0.256\"}", "/gw",
		  "'10.0.0.256' is not an IPv4 address" },
		{ "{\"subnet\": \"10.0.0.0/33\"}", "/subnet", "is not an IPv4 prefix" },
		{ "{\"subnet\": \"10.0.0.100\"}", "/subnet", "is not an IPv4 prefix" },
		{ "{\"subnet\": \"10.0.0.0/24\", \"mac\": \"02:00:00:00:00\"}", "/mac",
		  "must be 17 characters long" },
		{ "{\"subnet\": \"10.0.0.0/24\", \"mac\": \"02-00-00-00-00-01\"}", "/mac",
		  "is not a MAC address" },
		{ "{\"subnet\": 24}", "/subnet", "expected string, got integer" },
		{ "{\"subnet\": \"\"}", "/subnet", "length 0 is out of range" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cfg_errs errs;
		struct net n;
		assert_true(decode_net(bad[i].doc, &n, &errs) < 0);
		assert_string_equal(errs.e[0].path, bad[i].path);
		if (strstr(errs.e[0].msg, bad[i].msg) == NULL)
			fail_msg("%s: '%s' lacks '%s'", bad[i].doc, errs.e[0].msg, bad[i].msg);
	}
}

static void test_references_checked_by_the_engine(void **state)
{
	struct cfg_errs errs;
	struct net n;

	(void)state;
	assert_int_equal(decode_net("{\"subnet\": \"10.0.0.0/24\", \"host\": \"b\", "
				    "\"hosts\": [{\"name\": \"a\"}, {\"name\": \"b\"}], "
				    "\"uses\": [\"a\", \"zz\", \"b\", \"\"]}",
				    &n, &errs),
			 0);
	cfg_errs_init(&errs);
	assert_int_equal(cfg_check_refs(&net_n, &n, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.e[0].code, ENOENT);
	assert_string_equal(errs.e[0].path, "/uses/1");
	assert_string_equal(errs.e[0].msg, "no host named 'zz'");
	/* One item not yet in the document, checked against it. */
	struct net item = { 0 };
	snprintf(item.host, sizeof(item.host), "c");
	cfg_errs_init(&errs);
	assert_int_equal(cfg_check_item_refs(&net_n, &n, &net_n, &item, "/new", &errs), -EINVAL);
	assert_string_equal(errs.e[0].path, "/new/host");
	snprintf(item.host, sizeof(item.host), "a");
	cfg_errs_init(&errs);
	assert_int_equal(cfg_check_item_refs(&net_n, &n, &net_n, &item, "/new", &errs), 0);
	cfg_free(&net_n, &n);
}

/* 200,000 references into 100,000 names: indexed once, so O(n log n), not O(n m). */
static void test_many_references(void **state)
{
	enum { HOSTS = 100000, USES = 200000 };
	struct net n = { 0 };
	struct cfg_errs errs;

	(void)state;
	n.hosts = calloc(HOSTS, sizeof(*n.hosts));
	n.uses = calloc(USES, sizeof(*n.uses));
	assert_non_null(n.hosts);
	assert_non_null(n.uses);
	n.n_hosts = HOSTS;
	n.n_uses = USES;
	for (uint32_t i = 0; i < HOSTS; i++)
		snprintf(n.hosts[i].name, sizeof(n.hosts[i].name), "h%u", i);
	for (uint32_t i = 0; i < USES; i++)
		snprintf(n.uses[i], sizeof(n.uses[i]), "h%u", (i * 7919u) % HOSTS);
	snprintf(n.uses[USES - 1], sizeof(n.uses[0]), "x1");
	cfg_errs_init(&errs);
	assert_int_equal(cfg_check_refs(&net_n, &n, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.e[0].msg, "no host named 'x1'");
	cfg_free(&net_n, &n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_is_consistent),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_roundtrip),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_range_errors),
		cmocka_unit_test(test_string_rules),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_check_callback),
		cmocka_unit_test(test_base_path),
		cmocka_unit_test(test_error_overflow),
		cmocka_unit_test(test_schema_check_catches_bugs),
		cmocka_unit_test(test_utf8_trim),
		cmocka_unit_test(test_long_unicode_key_error_is_valid_utf8),
		cmocka_unit_test(test_schema_json),
		cmocka_unit_test(test_defaults_struct),
		cmocka_unit_test(test_typed_leaves_decode_to_binary),
		cmocka_unit_test(test_typed_leaves_refuse_bad_text),
		cmocka_unit_test(test_references_checked_by_the_engine),
		cmocka_unit_test(test_many_references),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
