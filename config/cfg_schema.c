/* SPDX-License-Identifier: BSD-3-Clause */
#include "cfg_schema.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_utf8_trim(char *s)
{
	size_t n = strlen(s), i = n;

	/* Back up over continuation bytes to the last lead byte, then check it is complete. */
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t want = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (n - (i - 1) < want)
		s[i - 1] = '\0';
}

/* A JSON Pointer being built while walking a document. */
struct path {
	char buf[CFG_PATH_MAX];
	size_t len;
};

static size_t path_push_key(struct path *p, const char *key)
{
	size_t saved = p->len;
	char esc[CFG_PATH_MAX];
	size_t n = 0;

	/* RFC 6901: "~" -> "~0", "/" -> "~1" */
	for (const char *c = key; *c && n + 3 < sizeof(esc); c++) {
		if (*c == '~' || *c == '/') {
			esc[n++] = '~';
			esc[n++] = *c == '~' ? '0' : '1';
		} else {
			esc[n++] = *c;
		}
	}
	esc[n] = '\0';
	cfg_utf8_trim(esc); /* a long key may have been cut mid-character */
	int w = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "/%s", esc);
	if (w > 0)
		p->len = p->len + (size_t)w < sizeof(p->buf) ? p->len + (size_t)w
							     : sizeof(p->buf) - 1;
	return saved;
}

static size_t path_push_index(struct path *p, size_t i)
{
	char key[24];

	snprintf(key, sizeof(key), "%zu", i);
	return path_push_key(p, key);
}

static void path_pop(struct path *p, size_t saved)
{
	p->len = saved;
	p->buf[saved] = '\0';
}

static const char *path_str(const struct path *p)
{
	return p->len ? p->buf : "/";
}

void cfg_errs_init(struct cfg_errs *errs)
{
	memset(errs, 0, sizeof(*errs));
}

void cfg_err_add(struct cfg_errs *errs, int code, const char *path, const char *fmt, ...)
{
	if (errs == NULL)
		return;
	if (errs->n < CFG_MAX_ERRS) {
		struct cfg_err *e = &errs->e[errs->n];
		va_list ap;

		e->code = code;
		snprintf(e->path, sizeof(e->path), "%s", path && *path ? path : "/");
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		cfg_utf8_trim(e->path);
		cfg_utf8_trim(e->msg);
	}
	errs->n++;
}

void cfg_errs_print(const struct cfg_errs *errs, const char *prefix, void *stream)
{
	unsigned kept = errs->n < CFG_MAX_ERRS ? errs->n : CFG_MAX_ERRS;

	for (unsigned i = 0; i < kept; i++)
		fprintf(stream, "%s%s: %s\n", prefix, errs->e[i].path, errs->e[i].msg);
	if (errs->n > kept)
		fprintf(stream, "%s(%u more errors)\n", prefix, errs->n - kept);
}

static const char *type_name(enum cfg_type t)
{
	switch (t) {
	case CFG_BOOL:
		return "boolean";
	case CFG_INT:
		return "integer";
	case CFG_NUMBER:
		return "number";
	case CFG_STRING:
		return "string";
	case CFG_OBJECT:
		return "object";
	case CFG_ARRAY:
		return "array";
	case CFG_ENUM:
		return "enum";
	case CFG_IP4:
		return "ipv4";
	case CFG_PREFIX4:
		return "ipv4_prefix";
	case CFG_MAC:
		return "mac";
	case CFG_REF:
		return "reference";
	}
	return "?";
}

static const char *json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static void store_int(void *dst, size_t size, int64_t v)
{
	switch (size) {
	case 1: {
		uint8_t x = (uint8_t)v;
		memcpy(dst, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(dst, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(dst, &x, 4);
		break;
	}
	default:
		memcpy(dst, &v, 8);
	}
}

static int64_t load_int(const void *src, size_t size, bool is_signed)
{
	switch (size) {
	case 1: {
		uint8_t x;
		memcpy(&x, src, 1);
		return is_signed ? (int8_t)x : x;
	}
	case 2: {
		uint16_t x;
		memcpy(&x, src, 2);
		return is_signed ? (int16_t)x : x;
	}
	case 4: {
		uint32_t x;
		memcpy(&x, src, 4);
		return is_signed ? (int32_t)x : (int64_t)x;
	}
	default: {
		int64_t x;
		memcpy(&x, src, 8);
		return x;
	}
	}
}

static int decode_value(const struct cfg_node *n, const json_t *j, void *dst, size_t size,
			struct path *p, struct cfg_errs *errs);

static bool check_string(const struct cfg_node *n, const json_t *j, struct path *p,
			 struct cfg_errs *errs)
{
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);

	if (strlen(s) != len) {
		cfg_err_add(errs, EINVAL, path_str(p), "string contains a NUL character");
		return false;
	}
	/* A closed set of words: saying which are allowed beats any length rule. */
	if (n->str.choices) {
		char list[CFG_MSG_MAX] = "";
		size_t used = 0;

		for (const char *const *c = n->str.choices; *c; c++) {
			if (strcmp(*c, s) == 0)
				return true;
			int w = snprintf(list + used, sizeof(list) - used, "%s%s",
					 c == n->str.choices ? "" : ", ", *c);
			if (w > 0 && used + (size_t)w < sizeof(list))
				used += (size_t)w;
		}
		cfg_err_add(errs, EINVAL, path_str(p), "'%s' is not one of: %s", s, list);
		return false;
	}
	if (len < n->str.min_len || len > n->str.max_len) {
		if (n->str.min_len == n->str.max_len)
			cfg_err_add(errs, ERANGE, path_str(p), "must be %u characters long",
				    n->str.max_len);
		else
			cfg_err_add(errs, ERANGE, path_str(p),
				    "length %zu is out of range (%u to %u characters)", len,
				    n->str.min_len, n->str.max_len);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok =
			n->str.charset ? strchr(n->str.charset, c) != NULL : c >= 0x20 && c != 0x7f;
		if (!ok) {
			if (c >= 0x20 && c < 0x7f)
				cfg_err_add(errs, EINVAL, path_str(p),
					    "character '%c' is not allowed here", c);
			else
				cfg_err_add(errs, EINVAL, path_str(p),
					    "byte 0x%02x is not allowed here", c);
			return false;
		}
	}
	if (n->str.charset && strcmp(n->str.charset, CFG_NAME_CHARSET) == 0 &&
	    cfg_name_is_dots(s)) {
		cfg_err_add(errs, EINVAL, path_str(p), "'%s' is not allowed as a name", s);
		return false;
	}
	return true;
}

bool cfg_name_is_dots(const char *s)
{
	return strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

static int decode_array(const struct cfg_field *f, const json_t *j, void *parent, struct path *p,
			struct cfg_errs *errs)
{
	const struct cfg_node *n = f->node;
	void **slot = (void **)((char *)parent + f->off);
	uint32_t *count = (uint32_t *)((char *)parent + f->count_off);
	size_t len = json_array_size(j);
	unsigned before = errs ? errs->n : 0;
	int rc = 0;

	if (len < n->arr.min || len > n->arr.max) {
		cfg_err_add(errs, ERANGE, path_str(p), "has %zu items, allowed %u to %u", len,
			    n->arr.min, n->arr.max);
		return -ERANGE;
	}
	*slot = NULL;
	*count = 0;
	if (len == 0)
		return 0;
	char *items = calloc(len, n->arr.item_size);
	if (items == NULL) {
		cfg_err_add(errs, ENOMEM, path_str(p), "out of memory");
		return -ENOMEM;
	}
	/* Publish before decoding items so that cfg_free can undo a partial decode. */
	*slot = items;
	*count = (uint32_t)len;
	for (size_t i = 0; i < len; i++) {
		size_t saved = path_push_index(p, i);
		int r = decode_value(n->arr.item, json_array_get(j, i),
				     items + i * n->arr.item_size, n->arr.item_size, p, errs);
		path_pop(p, saved);
		if (r < 0 && rc == 0)
			rc = r;
	}
	if (rc == 0 && errs && errs->n != before)
		rc = -EINVAL;
	return rc;
}

static int decode_field(const struct cfg_field *f, const json_t *v, void *parent, struct path *p,
			struct cfg_errs *errs)
{
	json_t *def = NULL;
	int rc;

	if (v == NULL) {
		if (f->required) {
			cfg_err_add(errs, EINVAL, path_str(p), "missing required key");
			return -EINVAL;
		}
		if (f->def == NULL)
			return 0; /* zero value */
		def = json_loads(f->def, JSON_DECODE_ANY, NULL);
		if (def == NULL) {
			cfg_err_add(errs, EINVAL, path_str(p), "schema default is not JSON");
			return -EINVAL;
		}
		v = def;
	}
	if (f->node->type == CFG_ARRAY) {
		if (!json_is_array(v)) {
			cfg_err_add(errs, EINVAL, path_str(p), "expected array, got %s",
				    json_type_name(v));
			rc = -EINVAL;
		} else {
			rc = decode_array(f, v, parent, p, errs);
		}
	} else {
		rc = decode_value(f->node, v, (char *)parent + f->off, f->size, p, errs);
	}
	json_decref(def);
	return rc;
}

static int decode_object(const struct cfg_node *n, const json_t *j, void *dst, struct path *p,
			 struct cfg_errs *errs)
{
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach ((json_t *)j, key, v) {
		const struct cfg_field *f = n->obj.fields;
		while (f->key && strcmp(f->key, key) != 0)
			f++;
		if (f->key == NULL) {
			size_t saved = path_push_key(p, key);
			cfg_err_add(errs, EINVAL, path_str(p), "unknown key");
			path_pop(p, saved);
			rc = -EINVAL;
		}
	}
	for (const struct cfg_field *f = n->obj.fields; f->key; f++) {
		size_t saved = path_push_key(p, f->key);
		int r = decode_field(f, json_object_get(j, f->key), dst, p, errs);
		path_pop(p, saved);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

/* A typed leaf from its checked string s (not empty): -EINVAL with the error added. */
static int decode_typed(const struct cfg_node *n, const char *s, void *dst, size_t size,
			struct path *p, struct cfg_errs *errs)
{
	switch (n->type) {
	case CFG_ENUM:
		for (const char *const *c = n->str.choices; *c; c++)
			if (strcmp(*c, s) == 0) {
				store_int(dst, size, c - n->str.choices);
				return 0;
			}
		break; /* check_string said which are allowed */
	case CFG_IP4:
		if (cfg_parse_ip4(s, dst) == 0)
			return 0;
		cfg_err_add(errs, EINVAL, path_str(p), "'%s' is not an IPv4 address", s);
		return -EINVAL;
	case CFG_PREFIX4:
		if (cfg_parse_prefix4(s, dst) == 0)
			return 0;
		cfg_err_add(errs, EINVAL, path_str(p), "'%s' is not an IPv4 prefix (a.b.c.d/len)",
			    s);
		return -EINVAL;
	case CFG_MAC:
		if (cfg_parse_mac(s, dst) == 0)
			return 0;
		cfg_err_add(errs, EINVAL, path_str(p),
			    "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", s);
		return -EINVAL;
	case CFG_REF:
		memcpy(dst, s, strlen(s) + 1);
		return 0;
	default:
		break;
	}
	return -EINVAL;
}

static int decode_value(const struct cfg_node *n, const json_t *j, void *dst, size_t size,
			struct path *p, struct cfg_errs *errs)
{
	int rc = 0;

	switch (n->type) {
	case CFG_BOOL:
		if (!json_is_boolean(j))
			goto type_err;
		*(bool *)dst = json_is_true(j);
		break;
	case CFG_INT: {
		if (!json_is_integer(j))
			goto type_err;
		json_int_t v = json_integer_value(j);
		if (v < n->i.min || v > n->i.max) {
			cfg_err_add(errs, ERANGE, path_str(p),
				    "%" JSON_INTEGER_FORMAT " is out of range (%" PRId64
				    " to %" PRId64 ")",
				    v, n->i.min, n->i.max);
			return -ERANGE;
		}
		store_int(dst, size, v);
		break;
	}
	case CFG_NUMBER: {
		if (!json_is_number(j))
			goto type_err;
		double v = json_number_value(j);
		if (!(v >= n->num.min && v <= n->num.max)) {
			cfg_err_add(errs, ERANGE, path_str(p), "%g is out of range (%g to %g)", v,
				    n->num.min, n->num.max);
			return -ERANGE;
		}
		memcpy(dst, &v, sizeof(v));
		break;
	}
	case CFG_STRING:
		if (!json_is_string(j))
			goto type_err;
		if (!check_string(n, j, p, errs))
			return -EINVAL;
		memcpy(dst, json_string_value(j), json_string_length(j) + 1);
		break;
	case CFG_OBJECT:
		if (!json_is_object(j))
			goto type_err;
		rc = decode_object(n, j, dst, p, errs);
		break;
	case CFG_ARRAY:
		/* Arrays are only reachable through fields (they need a count slot). */
		cfg_err_add(errs, EINVAL, path_str(p), "schema error: nested array");
		return -EINVAL;
	case CFG_ENUM:
	case CFG_IP4:
	case CFG_PREFIX4:
	case CFG_MAC:
	case CFG_REF:
		if (!json_is_string(j))
			goto type_err;
		if (json_string_length(j) == 0 && n->str.min_len == 0) {
			memset(dst, 0, size); /* optional, and not given */
			break;
		}
		if (!check_string(n, j, p, errs))
			return -EINVAL;
		if (decode_typed(n, json_string_value(j), dst, size, p, errs) < 0)
			return -EINVAL;
		break;
	}
	if (rc == 0 && n->check) {
		char why[CFG_MSG_MAX] = "invalid value";
		int code = n->check(dst, why, sizeof(why));
		if (code) {
			cfg_err_add(errs, code, path_str(p), "%s", why);
			rc = -code;
		}
	}
	return rc;

type_err:
	/* Typed leaves are JSON strings. */
	cfg_err_add(errs, EINVAL, path_str(p), "expected %s, got %s",
		    n->type >= CFG_ENUM ? "string" : type_name(n->type), json_type_name(j));
	return -EINVAL;
}

int cfg_decode(const struct cfg_node *schema, const json_t *json, void *dst, const char *base,
	       struct cfg_errs *errs)
{
	struct path p = { .len = 0 };
	struct cfg_errs local;
	int rc;

	if (errs == NULL) {
		errs = &local;
		cfg_errs_init(errs);
	}
	unsigned before = errs->n;
	if (base && *base) {
		snprintf(p.buf, sizeof(p.buf), "%s", base);
		p.len = strlen(p.buf);
	}
	memset(dst, 0, schema->obj.size);
	if (json == NULL) {
		cfg_err_add(errs, EINVAL, path_str(&p), "expected object, got nothing");
		return -EINVAL;
	}
	rc = decode_value(schema, json, dst, schema->obj.size, &p, errs);
	if (rc == 0 && errs->n != before)
		rc = -EINVAL;
	if (rc < 0) {
		cfg_free(schema, dst);
		memset(dst, 0, schema->obj.size);
		if (errs->n > before)
			rc = before < CFG_MAX_ERRS ? -errs->e[before].code : -EINVAL;
	}
	return rc;
}

int cfg_defaults(const struct cfg_node *schema, void *dst)
{
	struct path p = { .len = 0 };
	struct cfg_errs errs;

	cfg_errs_init(&errs);
	memset(dst, 0, schema->obj.size);
	for (const struct cfg_field *f = schema->obj.fields; f->key; f++) {
		if (f->required)
			continue;
		size_t saved = path_push_key(&p, f->key);
		decode_field(f, NULL, dst, &p, &errs);
		path_pop(&p, saved);
	}
	if (errs.n) {
		cfg_free(schema, dst);
		memset(dst, 0, schema->obj.size);
		return -EINVAL;
	}
	return 0;
}

static json_t *encode_value(const struct cfg_node *n, const void *src, size_t size);

static json_t *encode_object(const struct cfg_node *n, const void *src)
{
	json_t *o = json_object();

	for (const struct cfg_field *f = n->obj.fields; o && f->key; f++) {
		const char *fsrc = (const char *)src + f->off;
		json_t *v;

		if (f->node->type == CFG_ARRAY) {
			const char *items = *(char *const *)fsrc;
			uint32_t cnt = *(const uint32_t *)((const char *)src + f->count_off);
			v = json_array();
			for (uint32_t i = 0; v && i < cnt; i++)
				json_array_append_new(
					v, encode_value(f->node->arr.item,
							items + i * f->node->arr.item_size,
							f->node->arr.item_size));
		} else {
			v = encode_value(f->node, fsrc, f->size);
		}
		json_object_set_new(o, f->key, v);
	}
	return o;
}

static json_t *encode_value(const struct cfg_node *n, const void *src, size_t size)
{
	switch (n->type) {
	case CFG_BOOL:
		return json_boolean(*(const bool *)src);
	case CFG_INT:
		return json_integer(load_int(src, size, n->i.min < 0));
	case CFG_NUMBER: {
		double v;
		memcpy(&v, src, sizeof(v));
		return json_real(v);
	}
	case CFG_STRING:
		return json_string((const char *)src);
	case CFG_OBJECT:
		return encode_object(n, src);
	case CFG_ARRAY:
		break;
	case CFG_ENUM: {
		int64_t v = load_int(src, size, false), k = 0;
		for (const char *const *c = n->str.choices; *c; c++, k++)
			if (k == v)
				return json_string(*c);
		return json_null();
	}
	case CFG_IP4:
	case CFG_PREFIX4:
	case CFG_MAC: {
		static const uint8_t zero[sizeof(struct cfg_prefix4)];
		char buf[CFG_PREFIX_STRLEN];
		if (n->str.min_len == 0 && memcmp(src, zero, size) == 0)
			return json_string(""); /* optional, not set */
		if (n->type == CFG_IP4)
			return json_string(cfg_fmt_ip4(*(const uint32_t *)src, buf, sizeof(buf)));
		if (n->type == CFG_PREFIX4)
			return json_string(cfg_fmt_prefix4(src, buf, sizeof(buf)));
		return json_string(cfg_fmt_mac(src, buf, sizeof(buf)));
	}
	case CFG_REF:
		return json_string((const char *)src);
	}
	return json_null();
}

json_t *cfg_encode(const struct cfg_node *schema, const void *src)
{
	return encode_value(schema, src, schema->obj.size);
}

void cfg_free(const struct cfg_node *schema, void *obj)
{
	if (schema->type != CFG_OBJECT || obj == NULL)
		return;
	for (const struct cfg_field *f = schema->obj.fields; f->key; f++) {
		char *fdst = (char *)obj + f->off;

		if (f->node->type == CFG_OBJECT) {
			cfg_free(f->node, fdst);
		} else if (f->node->type == CFG_ARRAY) {
			char **slot = (char **)fdst;
			uint32_t *cnt = (uint32_t *)((char *)obj + f->count_off);
			if (f->node->arr.item->type == CFG_OBJECT)
				for (uint32_t i = 0; *slot && i < *cnt; i++)
					cfg_free(f->node->arr.item,
						 *slot + i * f->node->arr.item_size);
			free(*slot);
			*slot = NULL;
			*cnt = 0;
		}
	}
}

int cfg_clone(const struct cfg_node *schema, void *dst, const void *src)
{
	json_t *j = cfg_encode(schema, src);
	int rc;

	if (j == NULL)
		return -ENOMEM;
	rc = cfg_decode(schema, j, dst, NULL, NULL);
	json_decref(j);
	return rc;
}

static void check_node(const struct cfg_node *n, size_t size, struct path *p,
		       struct cfg_errs *errs);

static void check_field(const struct cfg_field *f, struct path *p, struct cfg_errs *errs)
{
	const struct cfg_node *n = f->node;

	if (n->type == CFG_ARRAY) {
		if (f->size != sizeof(void *))
			cfg_err_add(errs, EINVAL, path_str(p), "array slot is not a pointer");
		if (n->arr.item->type == CFG_ARRAY)
			cfg_err_add(errs, EINVAL, path_str(p), "nested arrays are not supported");
		if (n->arr.min > n->arr.max)
			cfg_err_add(errs, EINVAL, path_str(p), "array bounds reversed");
		check_node(n->arr.item, n->arr.item_size, p, errs);
	} else {
		check_node(n, f->size, p, errs);
	}
	if (f->def) {
		/* The default must decode through the field's own rules. */
		_Alignas(max_align_t) char scratch[4096];
		json_t *j = json_loads(f->def, JSON_DECODE_ANY, NULL);
		if (j == NULL) {
			cfg_err_add(errs, EINVAL, path_str(p), "default is not JSON");
		} else if (n->type != CFG_ARRAY && f->size <= sizeof(scratch)) {
			struct cfg_errs e;
			cfg_errs_init(&e);
			memset(scratch, 0, sizeof(scratch));
			if (decode_value(n, j, scratch, f->size, p, &e) < 0 || e.n)
				cfg_err_add(errs, EINVAL, path_str(p),
					    "default does not validate: %s", e.e[0].msg);
			if (n->type == CFG_OBJECT)
				cfg_free(n, scratch);
		}
		json_decref(j);
	}
}

static void check_node(const struct cfg_node *n, size_t size, struct path *p, struct cfg_errs *errs)
{
	switch (n->type) {
	case CFG_BOOL:
		if (size != sizeof(bool))
			cfg_err_add(errs, EINVAL, path_str(p), "bool slot has size %zu", size);
		break;
	case CFG_INT: {
		bool sign = n->i.min < 0;
		int64_t hi = size == 8 ? INT64_MAX
			     : sign    ? (INT64_C(1) << (size * 8 - 1)) - 1
				       : (INT64_C(1) << (size * 8)) - 1;
		int64_t lo = size == 8 ? INT64_MIN : sign ? -(INT64_C(1) << (size * 8 - 1)) : 0;
		if (size != 1 && size != 2 && size != 4 && size != 8)
			cfg_err_add(errs, EINVAL, path_str(p), "int slot has size %zu", size);
		else if (n->i.min > n->i.max || n->i.min < lo || n->i.max > hi)
			cfg_err_add(errs, EINVAL, path_str(p), "int range does not fit its slot");
		break;
	}
	case CFG_NUMBER:
		if (size != sizeof(double))
			cfg_err_add(errs, EINVAL, path_str(p), "number slot has size %zu", size);
		break;
	case CFG_STRING:
		if (n->str.max_len >= size || n->str.min_len > n->str.max_len)
			cfg_err_add(errs, EINVAL, path_str(p), "string max_len %u >= slot size %zu",
				    n->str.max_len, size);
		for (const char *const *c = n->str.choices; c && *c; c++)
			if (strlen(*c) > n->str.max_len)
				cfg_err_add(errs, EINVAL, path_str(p),
					    "choice '%s' exceeds max_len", *c);
		break;
	case CFG_OBJECT:
		if (n->obj.size != size)
			cfg_err_add(errs, EINVAL, path_str(p), "object size %zu != slot size %zu",
				    n->obj.size, size);
		for (const struct cfg_field *f = n->obj.fields; f->key; f++) {
			size_t saved = path_push_key(p, f->key);
			if (f->off + (f->node->type == CFG_ARRAY ? sizeof(void *) : f->size) >
			    n->obj.size)
				cfg_err_add(errs, EINVAL, path_str(p), "field outside its struct");
			check_field(f, p, errs);
			path_pop(p, saved);
		}
		break;
	case CFG_ARRAY:
		cfg_err_add(errs, EINVAL, path_str(p), "array outside a field");
		break;
	case CFG_ENUM: {
		int64_t n_choices = 0;
		for (const char *const *c = n->str.choices; c && *c; c++)
			n_choices++;
		if (n_choices == 0)
			cfg_err_add(errs, EINVAL, path_str(p), "enum without choices");
		if (size != 1 && size != 2 && size != 4)
			cfg_err_add(errs, EINVAL, path_str(p), "enum slot has size %zu", size);
		break;
	}
	case CFG_IP4:
	case CFG_PREFIX4:
	case CFG_MAC: {
		size_t want = n->type == CFG_IP4       ? sizeof(uint32_t)
			      : n->type == CFG_PREFIX4 ? sizeof(struct cfg_prefix4)
						       : sizeof(struct cfg_mac);
		if (size != want)
			cfg_err_add(errs, EINVAL, path_str(p), "%s slot has size %zu, not %zu",
				    type_name(n->type), size, want);
		break;
	}
	case CFG_REF:
		if (n->str.max_len >= size)
			cfg_err_add(errs, EINVAL, path_str(p),
				    "reference max_len %u >= slot size %zu", n->str.max_len, size);
		if (n->ref.table == NULL || n->ref.key == NULL || n->ref.what == NULL)
			cfg_err_add(errs, EINVAL, path_str(p), "reference without table/key/what");
		break;
	}
}

int cfg_schema_check(const struct cfg_node *schema, struct cfg_errs *errs)
{
	struct path p = { .len = 0 };
	unsigned before = errs->n;

	if (schema->type != CFG_OBJECT) {
		cfg_err_add(errs, EINVAL, "/", "top-level schema must be an object");
		return -EINVAL;
	}
	check_node(schema, schema->obj.size, &p, errs);
	return errs->n == before ? 0 : -EINVAL;
}

static json_t *describe_node(const struct cfg_node *n);

static json_t *describe_fields(const struct cfg_node *n)
{
	json_t *fields = json_array();
	void *zero = calloc(1, n->obj.size ? n->obj.size : 1);
	/* What a missing key without a default decodes to: the encoding of a zeroed struct. */
	json_t *zeros = zero ? encode_object(n, zero) : NULL;

	free(zero);
	if (fields == NULL || zeros == NULL)
		goto fail;
	for (const struct cfg_field *f = n->obj.fields; f->key; f++) {
		json_t *d = describe_node(f->node);

		if (d == NULL || json_array_append_new(fields, d) < 0)
			goto fail;
		json_object_set_new(d, "key", json_string(f->key));
		json_object_set_new(d, "required", json_boolean(f->required));
		if (f->required)
			continue;
		json_t *def = f->def ? json_loads(f->def, JSON_DECODE_ANY, NULL)
				     : json_incref(json_object_get(zeros, f->key));
		if (def == NULL || json_object_set_new(d, "default", def) < 0)
			goto fail;
	}
	json_decref(zeros);
	return fields;
fail:
	json_decref(zeros);
	json_decref(fields);
	return NULL;
}

/* One case per node type: a new leaf type adds its own. */
static json_t *describe_node(const struct cfg_node *n)
{
	json_t *d = json_pack("{s:s}", "type", type_name(n->type)), *sub;

	if (d == NULL)
		return NULL;
	switch (n->type) {
	case CFG_BOOL:
		break;
	case CFG_INT:
		json_object_set_new(d, "min", json_integer(n->i.min));
		json_object_set_new(d, "max", json_integer(n->i.max));
		break;
	case CFG_NUMBER:
		json_object_set_new(d, "min", json_real(n->num.min));
		json_object_set_new(d, "max", json_real(n->num.max));
		break;
	case CFG_STRING:
		json_object_set_new(d, "min_length", json_integer(n->str.min_len));
		json_object_set_new(d, "max_length", json_integer(n->str.max_len));
		if (n->str.charset)
			json_object_set_new(d, "charset", json_string(n->str.charset));
		if (n->str.choices) {
			json_t *c = json_array();
			for (const char *const *w = n->str.choices; c && *w; w++)
				json_array_append_new(c, json_string(*w));
			json_object_set_new(d, "choices", c);
		}
		break;
	case CFG_OBJECT:
		sub = describe_fields(n);
		if (sub == NULL || json_object_set_new(d, "fields", sub) < 0)
			goto fail;
		break;
	case CFG_ARRAY:
		sub = describe_node(n->arr.item);
		if (sub == NULL || json_object_set_new(d, "items", sub) < 0)
			goto fail;
		json_object_set_new(d, "min_items", json_integer(n->arr.min));
		json_object_set_new(d, "max_items", json_integer(n->arr.max));
		break;
	case CFG_ENUM: {
		json_t *c = json_array();
		for (const char *const *w = n->str.choices; c && *w; w++)
			json_array_append_new(c, json_string(*w));
		json_object_set_new(d, "choices", c);
		break;
	}
	case CFG_IP4:
	case CFG_PREFIX4:
	case CFG_MAC:
		json_object_set_new(d, "optional", json_boolean(n->str.min_len == 0));
		break;
	case CFG_REF:
		json_object_set_new(d, "table", json_string(n->ref.table));
		json_object_set_new(d, "key", json_string(n->ref.key));
		json_object_set_new(d, "optional", json_boolean(n->str.min_len == 0));
		break;
	}
	return d;
fail:
	json_decref(d);
	return NULL;
}

json_t *cfg_schema_json(const struct cfg_node *schema)
{
	return describe_node(schema);
}
