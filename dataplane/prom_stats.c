/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd's counters (stats.get) in Prometheus' text exposition format 0.0.4:
 * what tessctl metrics prints and tessd's /metrics listener serves.
 *
 * The stats JSON is walked, not read field by field, so that every module's
 * section shows without naming any: a top-level number is a metric of its
 * own; a top-level list of objects (ports, groups, vrfs, workers, a module's
 * services) gives tessera_tessd_LIST_FIELD for each number of its objects,
 * labelled by the object's strings (an object without any by its first
 * field); an object of numbers within (drops by reason) adds a label;
 * "drops" (by module and reason) is the core's registry of drop reasons.
 * Names that count things (packets, bytes, errors...) are counters in
 * _total; the others are left untyped, as the JSON does not say.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

struct metric {
	char name[192];
	const char *type;
	char *text; /* its samples */
	size_t len;
	FILE *f;
};

struct out {
	struct metric *m;
	size_t n, cap;
	int err;
};

/* Field names ending so count since the reset: counters. */
static bool counts(const char *field)
{
	static const char *const ends[] = { "packets", "bytes", "cycles",  "polls",  "calls",
					    "flooded", "lost",  "limited", "errors", "sent",
					    "drops",   "total", NULL };
	size_t n = strlen(field);

	for (const char *const *e = ends; *e; e++) {
		size_t k = strlen(*e);
		if (n >= k && strcmp(field + n - k, *e) == 0)
			return true;
	}
	return false;
}

/* Appends s to name as the format allows: [a-zA-Z0-9_], anything else an underscore. */
static void name_add(char *name, size_t len, const char *s)
{
	size_t n = strlen(name);

	for (; *s && n + 1 < len; s++, n++)
		name[n] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
					  (*s >= '0' && *s <= '9') || *s == '_'
				  ? *s
				  : '_';
	name[n] = '\0';
}

/* The metric of section_field (made on first use, its type fixed then). */
static struct metric *metric(struct out *o, const char *section, const char *field, bool counter)
{
	char name[192] = "tessera_tessd_";
	size_t n;

	if (section) {
		name_add(name, sizeof(name), section);
		name_add(name, sizeof(name), "_");
	}
	name_add(name, sizeof(name), field);
	n = strlen(name);
	if (counter && (n < 6 || strcmp(name + n - 6, "_total") != 0))
		name_add(name, sizeof(name), "_total");
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->m[i].name, name) == 0)
			return &o->m[i];
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		struct metric *m = realloc(o->m, cap * sizeof(*m));
		if (m == NULL)
			return NULL;
		o->m = m;
		o->cap = cap;
	}
	struct metric *m = &o->m[o->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->type = counter ? "counter" : "untyped";
	m->f = open_memstream(&m->text, &m->len);
	if (m->f == NULL)
		return NULL;
	o->n++;
	return m;
}

static void label(FILE *f, bool *first, const char *key, const char *value)
{
	char k[64] = "";

	name_add(k, sizeof(k), key);
	if (k[0] >= '0' && k[0] <= '9')
		k[0] = '_';
	fprintf(f, "%s%s=\"", *first ? "{" : ",", k);
	prom_label_value(f, value);
	fputc('"', f);
	*first = false;
}

/* One sample of a number: name{labels, extra} value; a count if field (or sub) names one. */
static void sample(struct out *o, const char *section, const char *field, const char *sub,
		   const json_t *labels, const char *extra_key, const char *extra, const json_t *v)
{
	struct metric *m = metric(o, section, field, counts(field) || (sub && counts(sub)));
	bool first = true;
	const char *k;
	json_t *l;

	if (m == NULL) {
		o->err = -ENOMEM;
		return;
	}
	fputs(m->name, m->f);
	json_object_foreach ((json_t *)labels, k, l)
		label(m->f, &first, k, json_string_value(l));
	if (extra_key)
		label(m->f, &first, extra_key, extra);
	if (!first)
		fputc('}', m->f);
	if (json_is_integer(v))
		fprintf(m->f, " %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		fprintf(m->f, " %.17g\n", json_real_value(v));
	else
		fprintf(m->f, " %d\n", json_is_true(v));
}

static bool number(const json_t *v)
{
	return json_is_number(v) || json_is_boolean(v);
}

/* The labels naming an object of a list: its strings, or else its first field. */
static json_t *names(const json_t *obj)
{
	json_t *l = json_object(), *v;
	const char *k;

	json_object_foreach ((json_t *)obj, k, v) {
		if (json_is_string(v))
			json_object_set_new(l, k, json_incref(v));
	}
	if (json_object_size(l) == 0) {
		void *it = json_object_iter((json_t *)obj);
		if (it && json_is_integer(json_object_iter_value(it))) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(json_object_iter_value(it)));
			json_object_set_new(l, json_object_iter_key(it), json_string(buf));
		}
	}
	return l;
}

static void walk_list(struct out *o, const char *section, const json_t *list)
{
	size_t i;
	json_t *obj;

	json_array_foreach (list, i, obj) {
		json_t *l, *v;
		const char *k;

		if (!json_is_object(obj))
			continue;
		l = names(obj);
		json_object_foreach (obj, k, v) {
			size_t len = strlen(k);
			char base[128];

			if (json_object_get(l, k))
				continue; /* a label */
			/* X_total beside an object X of counts is their sum: X's series are it. */
			if (len > 6 && len - 6 < sizeof(base) &&
			    strcmp(k + len - 6, "_total") == 0) {
				snprintf(base, sizeof(base), "%.*s", (int)(len - 6), k);
				if (json_is_object(json_object_get(obj, base)))
					continue;
			}
			if (number(v)) {
				sample(o, section, k, NULL, l, NULL, NULL, v);
			} else if (json_is_object(v)) {
				const char *r;
				json_t *n;
				json_object_foreach (v, r, n) {
					if (number(n))
						sample(o, section, k, k, l,
						       strcmp(k, "drops") == 0 ? "reason" : "key",
						       r, n);
				}
			}
		}
		json_decref(l);
	}
}

int prom_stats_format(const json_t *stats, FILE *f)
{
	struct out o = { 0 };
	const char *k;
	json_t *v;

	json_object_foreach ((json_t *)stats, k, v) {
		if (number(v)) {
			sample(&o, NULL, k, NULL, NULL, NULL, NULL, v);
		} else if (json_is_array(v)) {
			walk_list(&o, k, v);
		} else if (json_is_object(v)) {
			/* {"drops": {module: {reason: n}}}, or a module's object of numbers. */
			const char *a;
			json_t *inner;
			json_object_foreach (v, a, inner) {
				json_t *l = json_pack(
					"{s:s}", strcmp(k, "drops") == 0 ? "module" : "key", a);
				const char *r;
				json_t *n;
				if (number(inner))
					sample(&o, NULL, k, k, NULL, "key", a, inner);
				else if (json_is_object(inner))
					json_object_foreach (inner, r, n) {
						if (number(n))
							sample(&o, NULL, k, k, l,
							       strcmp(k, "drops") == 0 ? "reason"
										       : "subkey",
							       r, n);
					}
				json_decref(l);
			}
		}
	}
	for (size_t i = 0; i < o.n; i++) {
		struct metric *m = &o.m[i];
		if (fclose(m->f) != 0)
			o.err = -ENOMEM;
		if (o.err == 0)
			fprintf(f, "# HELP %s tessd's stats.get.\n# TYPE %s %s\n%s", m->name,
				m->name, m->type, m->text);
		free(m->text);
	}
	free(o.m);
	return o.err;
}
