/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Declarative JSON schemas that both validate a document and decode it into
 * C structs (and encode it back). The startup config and every API request
 * go through the same engine, so every error names a JSON path and a reason
 * in the same way.
 */
#ifndef TESS_CFG_SCHEMA_H
#define TESS_CFG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CFG_PATH_MAX 256
#define CFG_MSG_MAX  256
#define CFG_MAX_ERRS 16

/*
 * Leaves are decoded into binary fields: what the code uses, checked once
 * here. Typed leaves are JSON strings that also obey str (lengths, charset);
 * with str.min_len 0, "" is allowed and decodes to zero (and zero encodes
 * as "").
 */
enum cfg_type {
	CFG_BOOL,
	CFG_INT,
	CFG_NUMBER,
	CFG_STRING,
	CFG_OBJECT,
	CFG_ARRAY,
	CFG_ENUM,    /* one of str.choices, stored as its index in an integer of the field's size */
	CFG_IP4,     /* "a.b.c.d", stored as a uint32_t in host order */
	CFG_PREFIX4, /* "a.b.c.d/len", stored as struct cfg_prefix4 (the address as written) */
	CFG_MAC,     /* "xx:xx:xx:xx:xx:xx", stored as struct cfg_mac */
	CFG_REF,     /* the key of an element of another array (ref), stored as a string */
};

struct cfg_prefix4 {
	uint32_t ip; /* host order */
	uint8_t len;
};

/* The netmask of a prefix length (0..32), host order: /0 is 0 (a 32-bit shift is undefined). */
static inline uint32_t cfg_prefix4_mask(uint8_t len)
{
	return len ? UINT32_MAX << (32 - len) : 0;
}

struct cfg_mac {
	uint8_t b[6];
};

struct cfg_err {
	int code; /* positive errno */
	char path[CFG_PATH_MAX];
	char msg[CFG_MSG_MAX];
};

/* Up to CFG_MAX_ERRS errors; n counts all of them, even those not kept. */
struct cfg_errs {
	unsigned n;
	struct cfg_err e[CFG_MAX_ERRS];
};

struct cfg_field;

/*
 * Extra check run on a decoded value. Returns 0, or a positive errno with
 * why[] filled in. "val" points at the decoded C value (struct for objects).
 */
typedef int (*cfg_check_fn)(const void *val, char *why, size_t why_len);

struct cfg_node {
	enum cfg_type type;
	union {
		struct {
			int64_t min, max;
		} i;
		struct {
			double min, max;
		} num;
		struct {
			uint32_t min_len, max_len;
			const char *charset;        /* allowed bytes, NULL: any printable */
			const char *const *choices; /* NULL-terminated, or NULL */
		} str;
		struct {
			const struct cfg_field *fields; /* terminated by key == NULL */
			size_t size;                    /* sizeof the C struct */
		} obj;
		struct {
			const struct cfg_node *item;
			uint32_t min, max;
			size_t item_size; /* storage of one item in the C array */
		} arr;
	};
	/*
	 * CFG_REF: the array it points into, as a JSON pointer from the
	 * document's root ("/switch/groups"), the key that names its elements
	 * ("name") and what an element is called in errors ("group").
	 */
	struct {
		const char *table, *key, *what;
	} ref;
	cfg_check_fn check;
};

/*
 * One key of an object. Scalars and strings are stored inline at "off" in
 * the parent struct ("size" bytes; strings are NUL-terminated char arrays);
 * nested objects are inline too; arrays are a pointer at "off" and a
 * uint32_t count at "count_off".
 */
struct cfg_field {
	const char *key;
	const struct cfg_node *node;
	size_t off;
	size_t size;
	size_t count_off;
	bool required;
	const char *def; /* default as JSON text, or NULL (zero) */
};

#define CFG_FIELD(st, member, key_, node_, req_, def_)                               \
	{                                                                            \
		.key = (key_), .node = (node_), .off = offsetof(st, member),         \
		.size = sizeof(((st *)0)->member), .required = (req_), .def = (def_) \
	}
#define CFG_ARRAY_FIELD(st, member, count, key_, node_, req_, def_)                  \
	{                                                                            \
		.key = (key_), .node = (node_), .off = offsetof(st, member),         \
		.size = sizeof(((st *)0)->member), .count_off = offsetof(st, count), \
		.required = (req_), .def = (def_)                                    \
	}

/* Schema nodes written in place: an object of fields, an array of items, an integer range. */
#define CFG_OBJ_NODE(fields_, st)                      \
	(&(const struct cfg_node){ .type = CFG_OBJECT, \
				   .obj = { .fields = (fields_), .size = sizeof(st) } })
#define CFG_ARR_NODE(item_, max_, st) \
	(&(const struct cfg_node){    \
		.type = CFG_ARRAY,    \
		.arr = { .item = (item_), .max = (max_), .item_size = sizeof(st) } })
#define CFG_INT_NODE(lo, hi) (&(const struct cfg_node){ .type = CFG_INT, .i = { (lo), (hi) } })

void cfg_errs_init(struct cfg_errs *errs);
void cfg_err_add(struct cfg_errs *errs, int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "path: message" lines, one per kept error. */
void cfg_errs_print(const struct cfg_errs *errs, const char *prefix, void *stream);

/*
 * Decode "json" (an object) into "dst" (obj.size bytes, zeroed first).
 * "base" prefixes every error path (e.g. "/params"). On error returns
 * -EINVAL (or the first error's code), frees what was allocated and leaves
 * dst zeroed. Unknown keys, wrong types and out-of-range values are errors.
 */
int cfg_decode(const struct cfg_node *schema, const json_t *json, void *dst, const char *base,
	       struct cfg_errs *errs);
/*
 * Fills dst (obj.size bytes) with the schema's defaults, required keys
 * zero: what a client starts from to build a request as a struct, so that
 * encoding it means what leaving the keys out would. Free with cfg_free.
 */
int cfg_defaults(const struct cfg_node *schema, void *dst);
/* Encode a decoded struct back to JSON (all keys, defaults included). */
json_t *cfg_encode(const struct cfg_node *schema, const void *src);
/* Free the arrays a decode allocated; the struct itself is the caller's. */
void cfg_free(const struct cfg_node *schema, void *obj);
/*
 * Checks every non-empty CFG_REF leaf of a decoded document against the
 * arrays they point into (root is the document's struct, of schema):
 * "no <what> named '<value>'" (ENOENT) at the leaf's path for each missing
 * one. O(n log n) over the document. -EINVAL if any, 0 otherwise.
 */
int cfg_check_refs(const struct cfg_node *schema, const void *root, struct cfg_errs *errs);
/* The same for the top-level key of the document only (a section checked in its turn). */
int cfg_check_refs_in(const struct cfg_node *schema, const void *root, const char *key,
		      struct cfg_errs *errs);
/* The same for one item (of item_schema, at path) not yet in the document root. */
int cfg_check_item_refs(const struct cfg_node *schema, const void *root,
			const struct cfg_node *item_schema, const void *item, const char *path,
			struct cfg_errs *errs);

/*
 * One item per key: the string field at offset off of the n items (of size
 * bytes) of the array at JSON pointer array. Each repeat gets an EEXIST at
 * "<array>/<i>/<key>": "<key> <value> already has <what> (<array>/<earlier>)".
 * Sorted, O(n log n): configs may hold thousands.
 */
void cfg_check_unique(const void *items, uint32_t n, size_t size, size_t off, const char *array,
		      const char *key, const char *what, struct cfg_errs *errs);

/* The typed leaves' text forms: -EINVAL if malformed. */
int cfg_parse_ip4(const char *s, uint32_t *ip);
int cfg_parse_prefix4(const char *s, struct cfg_prefix4 *p);
int cfg_parse_mac(const char *s, struct cfg_mac *m);
/* Into buf (INET_ADDRSTRLEN, 19, 18 bytes at least); returns buf. */
const char *cfg_fmt_ip4(uint32_t ip, char *buf, size_t len);
const char *cfg_fmt_prefix4(const struct cfg_prefix4 *p, char *buf, size_t len);
const char *cfg_fmt_mac(const struct cfg_mac *m, char *buf, size_t len);
#define CFG_IP4_STRLEN    16
#define CFG_PREFIX_STRLEN 19
#define CFG_MAC_STRLEN    18

/* Deep copy (through encode/decode, so it can never diverge from them). */
int cfg_clone(const struct cfg_node *schema, void *dst, const void *src);
/* Self-check of a schema (sizes, defaults decode); 0 when consistent. */
int cfg_schema_check(const struct cfg_node *schema, struct cfg_errs *errs);

/*
 * Describes a schema as JSON, for clients that build requests or docs from
 * it: {"type", then per type "min"/"max", "min_length"/"max_length",
 * "charset", "choices", "fields" (objects: [{"key", "required", "default",
 * and the field's own description}]), "items"/"min_items"/"max_items"
 * (arrays)}. A default is the value a decode gives a missing key. NULL on
 * out of memory.
 */
json_t *cfg_schema_json(const struct cfg_node *schema);

/* Cuts a trailing incomplete UTF-8 sequence (left by truncation) off s. */
void cfg_utf8_trim(char *s);

/* Charset shared by names of ports, groups, VRFs... A string node with this charset is a name:
 * it also may not be "." or ".." (cfg_name_is_dots). */
#define CFG_NAME_CHARSET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/* "." or "..": names become path components (overlays, images, saved configs), where these
 * two would name the directory itself or its parent (review 1.14). */
bool cfg_name_is_dots(const char *s);

#endif
