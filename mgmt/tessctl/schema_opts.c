/* SPDX-License-Identifier: BSD-3-Clause */
#include "schema_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The few flags of tessd's methods that are not the mechanical --some-key of their key. */
const struct sopts_alias sopts_tessd_aliases[] = {
	{ "--native", "native_group" },
	{ "--allow-mac", "allowed_macs" },
	{ "--allow-ip", "allowed_ips" },
	{ "--address", "addresses" },
	{ "--no-flood-unknown", "flood_unknown_unicast", false },
	{ "--neigh-reachable", "neigh_reachable_sec" },
	{ "--neigh-stale", "neigh_stale_sec" },
	{ 0 },
};

static const char *type_of(const json_t *node)
{
	const char *t = json_string_value(json_object_get(node, "type"));

	return t ? t : "";
}

static const char *key_of(const json_t *field)
{
	const char *k = json_string_value(json_object_get(field, "key"));

	return k ? k : "";
}

static bool scalar(const json_t *node)
{
	const char *t = type_of(node);

	/* Typed leaves (enum, ipv4, ipv4_prefix, mac, reference) are strings on the wire. */
	return strcmp(t, "integer") == 0 || strcmp(t, "number") == 0 || strcmp(t, "string") == 0 ||
	       strcmp(t, "enum") == 0 || strcmp(t, "ipv4") == 0 || strcmp(t, "ipv4_prefix") == 0 ||
	       strcmp(t, "mac") == 0 || strcmp(t, "reference") == 0;
}

/* Whether a field can be given as an option at all. */
bool sopts_offered(const json_t *field, const char *const *skip)
{
	for (const char *const *s = skip; s && *s; s++)
		if (strcmp(*s, key_of(field)) == 0)
			return false;
	if (strcmp(type_of(field), "boolean") == 0 || scalar(field))
		return true;
	return strcmp(type_of(field), "array") == 0 && scalar(json_object_get(field, "items"));
}

static void flag_of(char *buf, size_t len, const char *key)
{
	size_t i = 0;

	snprintf(buf, len, "--%s", key);
	for (i = 2; buf[i]; i++)
		if (buf[i] == '_')
			buf[i] = '-';
}

void sopts_meta(char *buf, size_t len, const char *key)
{
	size_t i;

	snprintf(buf, len, "%s", key);
	for (i = 0; buf[i]; i++)
		buf[i] = buf[i] == '_'
				 ? '-'
				 : (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
}

/* The field that flag sets, and to what if it is a boolean (*via: the alias); NULL if none. */
static const json_t *match(const json_t *params, const char *const *skip,
			   const struct sopts_alias *aliases, const char *flag, bool *value,
			   const struct sopts_alias **via)
{
	const json_t *fields = json_object_get(params, "fields"), *f;
	char want[96];
	size_t i;

	json_array_foreach (fields, i, f) {
		if (!sopts_offered(f, skip))
			continue;
		flag_of(want, sizeof(want), key_of(f));
		*value = true;
		if (strcmp(flag, want) == 0)
			return f;
		if (strcmp(type_of(f), "boolean") == 0 && strncmp(flag, "--no-", 5) == 0 &&
		    strcmp(flag + 5, want + 2) == 0) {
			*value = false;
			return f;
		}
	}
	*via = NULL;
	for (const struct sopts_alias *a = aliases; a && a->flag; a++) {
		if (strcmp(a->flag, flag) != 0)
			continue;
		json_array_foreach (fields, i, f)
			if (sopts_offered(f, skip) && strcmp(key_of(f), a->key) == 0) {
				*value = a->value;
				*via = a;
				return f;
			}
	}
	return NULL;
}

/* One value of a scalar node from its text; NULL after printing why not. */
static json_t *convert(const json_t *node, const char *flag, const char *text)
{
	const char *t = type_of(node);
	char *end;

	if (strcmp(t, "integer") == 0) {
		errno = 0;
		long long n = strtoll(text, &end, 10);
		if (errno || *end || end == text) {
			fprintf(stderr, "tessctl: %s takes a number, not '%s'\n", flag, text);
			return NULL;
		}
		return json_integer(n);
	}
	if (strcmp(t, "number") == 0) {
		double d = strtod(text, &end);
		if (*end || end == text) {
			fprintf(stderr, "tessctl: %s takes a number, not '%s'\n", flag, text);
			return NULL;
		}
		return json_real(d);
	}
	return json_string(text);
}

/* "a,b" -> [a, b] (each converted to the item type); "" -> []. */
static json_t *list(const json_t *item, const char *flag, const char *text)
{
	json_t *a = json_array();
	char *copy = strdup(text), *save = NULL;

	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
	     t = strtok_r(NULL, ",", &save)) {
		json_t *v = convert(item, flag, t);
		if (v == NULL) {
			json_decref(a);
			a = NULL;
			break;
		}
		json_array_append_new(a, v);
	}
	free(copy);
	return a;
}

int sopts_parse(const json_t *params, const char *const *skip, const struct sopts_alias *aliases,
		int argc, char **argv, json_t *obj)
{
	for (int i = 0; i < argc; i++) {
		bool value;
		const struct sopts_alias *via = NULL;
		const json_t *f = match(params, skip, aliases, argv[i], &value, &via);
		const char *key = key_of(f);
		json_t *v;

		if (f == NULL) {
			fprintf(stderr, "tessctl: unknown option '%s'\n", argv[i]);
			return -1;
		}
		if (strcmp(type_of(f), "boolean") == 0) {
			json_object_set_new(obj, key, json_boolean(value));
			continue;
		}
		if (++i == argc) {
			fprintf(stderr, "tessctl: %s needs a value\n", argv[i - 1]);
			return -1;
		}
		if (strcmp(type_of(f), "array") == 0) {
			v = via && via->item
				    ? json_array()
				    : list(json_object_get(f, "items"), argv[i - 1], argv[i]);
			if (v && via && via->item &&
			    json_array_append_new(v, convert(json_object_get(f, "items"),
							     argv[i - 1], argv[i])) < 0) {
				json_decref(v);
				return -1;
			}
			json_t *prev = json_object_get(obj, key);
			/* Repeated: --address A --address B is --address A,B. */
			if (v && json_is_array(prev)) {
				json_array_extend(prev, v);
				json_decref(v);
				continue;
			}
		} else {
			v = convert(f, argv[i - 1], argv[i]);
		}
		if (v == NULL)
			return -1;
		json_object_set_new(obj, key, v);
	}
	return 0;
}

int sopts_check_required(const json_t *params, const json_t *obj, const char *words)
{
	const json_t *f;
	size_t i;

	json_array_foreach (json_object_get(params, "fields"), i, f) {
		char flag[96];
		if (!json_is_true(json_object_get(f, "required")) ||
		    json_object_get(obj, key_of(f)))
			continue;
		flag_of(flag, sizeof(flag), key_of(f));
		fprintf(stderr, "tessctl: %s: %s is required (tessctl %s --help)\n", words, flag,
			words);
		return -1;
	}
	return 0;
}

/* "--vlan N", "--mode none|access|trunk", "--groups GROUPS,..." */
static void option_text(char *buf, size_t len, const json_t *f)
{
	const char *t = type_of(f);
	const json_t *node = strcmp(t, "array") == 0 ? json_object_get(f, "items") : f;
	const json_t *choices = json_object_get(node, "choices");
	char flag[96], meta[96] = "";
	size_t used = 0, i;
	const json_t *c;

	flag_of(flag, sizeof(flag), key_of(f));
	if (strcmp(t, "boolean") == 0) {
		snprintf(buf, len, "%s, --no-%s", flag, flag + 2);
		return;
	}
	if (json_array_size(choices)) {
		json_array_foreach (choices, i, c)
			if (used < sizeof(meta))
				used += (size_t)snprintf(meta + used, sizeof(meta) - used, "%s%s",
							 i ? "|" : "", json_string_value(c));
	} else if (strcmp(type_of(node), "integer") == 0) {
		snprintf(meta, sizeof(meta), "N");
	} else if (strcmp(type_of(node), "number") == 0) {
		snprintf(meta, sizeof(meta), "X");
	} else {
		sopts_meta(meta, sizeof(meta), key_of(f));
	}
	snprintf(buf, len, "%s %s%s", flag, meta, node != f ? ",..." : "");
}

void sopts_synopsis(char *buf, size_t len, const json_t *params, const char *const *skip)
{
	size_t used = strlen(buf), i;
	const json_t *f;

	json_array_foreach (json_object_get(params, "fields"), i, f) {
		char opt[160];
		if (!sopts_offered(f, skip) || !json_is_true(json_object_get(f, "required")))
			continue;
		option_text(opt, sizeof(opt), f);
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, " %s", opt);
	}
}

static int char_class(int c)
{
	return c >= '0' && c <= '9' ? 1 : c >= 'A' && c <= 'Z' ? 2 : c >= 'a' && c <= 'z' ? 3 : 0;
}

/* Runs of three or more digits or letters as ranges: "-.0-9A-Z_a-z". */
static void charset_text(char *buf, size_t len, const char *set)
{
	bool in[256] = { false };
	size_t used = 0;

	for (const unsigned char *c = (const unsigned char *)set; *c; c++)
		in[*c] = true;
	for (int c = 0; c < 256 && used + 4 < len; c++) {
		int end = c;
		if (!in[c])
			continue;
		while (end + 1 < 256 && in[end + 1] && char_class(end) &&
		       char_class(end + 1) == char_class(end))
			end++;
		if (end - c >= 2) {
			used += (size_t)snprintf(buf + used, len - used, "%c-%c", c, end);
			c = end;
		} else {
			buf[used++] = (char)c;
			buf[used] = '\0';
		}
	}
	buf[used < len ? used : len - 1] = '\0';
}

void sopts_type_text(char *buf, size_t len, const json_t *node)
{
	const char *t = type_of(node);
	const json_t *choices = json_object_get(node, "choices"), *c;
	json_int_t lo = json_integer_value(json_object_get(node, "min_length")),
		   hi = json_integer_value(json_object_get(node, "max_length"));
	size_t used, i;
	char sub[256];

	if (strcmp(t, "integer") == 0) {
		snprintf(buf, len, "integer %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(node, "min")),
			 json_integer_value(json_object_get(node, "max")));
	} else if (strcmp(t, "number") == 0) {
		snprintf(buf, len, "number %g..%g", json_number_value(json_object_get(node, "min")),
			 json_number_value(json_object_get(node, "max")));
	} else if (strcmp(t, "ipv4") == 0 || strcmp(t, "ipv4_prefix") == 0 ||
		   strcmp(t, "mac") == 0) {
		snprintf(buf, len, "%s%s",
			 strcmp(t, "ipv4") == 0          ? "IPv4 address a.b.c.d"
			 : strcmp(t, "ipv4_prefix") == 0 ? "IPv4 prefix a.b.c.d/len"
							 : "MAC address xx:xx:xx:xx:xx:xx",
			 json_is_true(json_object_get(node, "optional")) ? ", or empty" : "");
	} else if (strcmp(t, "reference") == 0) {
		snprintf(buf, len, "a name in %s%s",
			 json_string_value(json_object_get(node, "table")),
			 json_is_true(json_object_get(node, "optional")) ? ", or empty" : "");
	} else if ((strcmp(t, "string") == 0 || strcmp(t, "enum") == 0) &&
		   json_array_size(choices)) {
		used = (size_t)snprintf(buf, len, "one of");
		json_array_foreach (choices, i, c)
			if (used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s %s",
							 i ? "," : "", json_string_value(c));
	} else if (strcmp(t, "string") == 0) {
		const char *set = json_string_value(json_object_get(node, "charset"));
		used = lo == hi ? (size_t)snprintf(buf, len,
						   "string of %" JSON_INTEGER_FORMAT " characters",
						   hi)
				: (size_t)snprintf(buf, len,
						   "string of %" JSON_INTEGER_FORMAT
						   "..%" JSON_INTEGER_FORMAT " characters",
						   lo, hi);
		if (set && used < len) {
			charset_text(sub, sizeof(sub), set);
			snprintf(buf + used, len - used, " [%s]", sub);
		}
	} else if (strcmp(t, "array") == 0) {
		sopts_type_text(sub, sizeof(sub), json_object_get(node, "items"));
		snprintf(buf, len, "list of %s, %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
			 sub, json_integer_value(json_object_get(node, "min_items")),
			 json_integer_value(json_object_get(node, "max_items")));
	} else {
		snprintf(buf, len, "%s", t);
	}
}

void sopts_usage(FILE *f, const json_t *params, const char *const *skip,
		 const struct sopts_alias *aliases)
{
	const json_t *fld;
	size_t i;

	json_array_foreach (json_object_get(params, "fields"), i, fld) {
		char left[256], type[512], def[128] = "";
		size_t used;

		if (!sopts_offered(fld, skip))
			continue;
		option_text(left, sizeof(left), fld);
		used = strlen(left);
		for (const struct sopts_alias *a = aliases; a && a->flag; a++) {
			char flag[96];
			if (strcmp(a->key, key_of(fld)) != 0 || used >= sizeof(left))
				continue;
			flag_of(flag, sizeof(flag), a->key);
			/* --dedicated is --no-shared: say so, not "or". */
			if (strcmp(type_of(fld), "boolean") == 0 && !a->value)
				used += (size_t)snprintf(left + used, sizeof(left) - used,
							 " (%s: --no-%s)", a->flag, flag + 2);
			else
				used += (size_t)snprintf(left + used, sizeof(left) - used,
							 " (or %s%s)", a->flag,
							 a->item ? " ONE" : "");
		}
		sopts_type_text(type, sizeof(type), fld);
		if (json_is_true(json_object_get(fld, "required"))) {
			snprintf(def, sizeof(def), ", required");
		} else if (json_object_get(fld, "default")) {
			char *d = json_dumps(json_object_get(fld, "default"), JSON_ENCODE_ANY);
			snprintf(def, sizeof(def), ", default %s", d ? d : "?");
			free(d);
		}
		if (strlen(left) > 30)
			fprintf(f, "  %s\n  %-30s %s%s\n", left, "", type, def);
		else
			fprintf(f, "  %-30s %s%s\n", left, type, def);
	}
}
