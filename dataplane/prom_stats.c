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
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

struct metric {
	char name[192];
	/*
	 * Where it came from: section, '\0', field (any byte but NUL can be in a key, so no
	 * other separator tells ("a/b", "c") from ("a", "b/c")); another origin is a clash.
	 */
	char *origin;
	size_t origin_len;
	const char *type;
	char *text; /* its samples */
	size_t len;
	FILE *f;
};

/*
 * Why a sample was left out (tessera_tessd_metrics_skipped's reason). A gauge: it counts
 * what this one render left out, so it stays flat while a clash lasts and goes back to 0.
 */
enum skip { SKIP_NAME_CLASH, SKIP_LABEL_CLASH, SKIP_TOO_LONG, SKIP_N };
static const char *const skip_names[SKIP_N] = { "name_clash", "label_clash", "too_long" };

struct out {
	struct metric **m; /* each its own: its memstream holds &text and &len */
	size_t n, cap;
	size_t *slot; /* open addressing by name: index + 1, 0 free; 2 * cap entries */
	uint64_t skipped[SKIP_N];
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

/* c as the format allows: [a-zA-Z0-9_], anything else an underscore. */
static char name_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return c;
	return '_';
}

/*
 * Appends s to name as the format allows (so "a-b" and "a_b" give one name: the callers
 * detect it). False if it did not fit.
 */
static bool name_add(char *name, size_t len, const char *s)
{
	size_t n = strlen(name);

	for (; *s && n + 1 < len; s++, n++)
		name[n] = name_char(*s);
	name[n] = '\0';
	return *s == '\0';
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of name in o->slot: where it is, or the free one it would take. */
static size_t *slot_of(struct out *o, const char *name)
{
	size_t mask = 2 * o->cap - 1, i = name_hash(name) & mask;

	while (o->slot[i] && strcmp(o->m[o->slot[i] - 1]->name, name) != 0)
		i = (i + 1) & mask;
	return &o->slot[i];
}

/* Room for one more metric: the array and the table (kept at most half full) doubled. */
static int grow(struct out *o)
{
	size_t cap = o->cap ? 2 * o->cap : 64;
	struct metric **m = realloc(o->m, cap * sizeof(*m));
	size_t *slot;

	if (m == NULL)
		return -ENOMEM;
	o->m = m;
	slot = calloc(2 * cap, sizeof(*slot));
	if (slot == NULL)
		return -ENOMEM;
	free(o->slot);
	o->slot = slot;
	o->cap = cap;
	for (size_t i = 0; i < o->n; i++)
		*slot_of(o, o->m[i]->name) = i + 1;
	return 0;
}

/*
 * The metric of section_field (made on first use, its type fixed then), or NULL: out of
 * memory (o->err), or the name too long or another field's already (counted in o->skipped).
 * The first field to take a name keeps it, so a later "a-b" beside "a_b" is left out
 * rather than merged into a metric whose series would not say which they were.
 */
static struct metric *metric(struct out *o, const char *section, const char *field, bool counter)
{
	char name[192] = "tessera_tessd_";
	char origin[256];
	size_t sl = section ? strlen(section) : 0, fl = strlen(field), ol = sl + 1 + fl;
	bool fits = true;
	size_t n, *slot;

	if (section) {
		fits &= name_add(name, sizeof(name), section);
		fits &= name_add(name, sizeof(name), "_");
	}
	fits &= name_add(name, sizeof(name), field);
	n = strlen(name);
	if (counter && (n < 6 || strcmp(name + n - 6, "_total") != 0))
		fits &= name_add(name, sizeof(name), "_total");
	if (ol <= sizeof(origin)) {
		memcpy(origin, section ? section : "", sl);
		origin[sl] = '\0';
		memcpy(origin + sl + 1, field, fl);
	} else {
		fits = false;
	}
	if (!fits) {
		o->skipped[SKIP_TOO_LONG]++;
		return NULL;
	}
	if (o->n == o->cap && (o->err = grow(o)) != 0)
		return NULL;
	slot = slot_of(o, name);
	if (*slot) {
		struct metric *m = o->m[*slot - 1];
		if (m->origin_len == ol && memcmp(m->origin, origin, ol) == 0)
			return m;
		o->skipped[SKIP_NAME_CLASH]++;
		return NULL;
	}
	struct metric *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		o->err = -ENOMEM;
		return NULL;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->type = counter ? "counter" : "untyped";
	m->origin = malloc(ol);
	if (m->origin)
		memcpy(m->origin, origin, ol);
	m->origin_len = ol;
	m->f = open_memstream(&m->text, &m->len);
	if (m->origin == NULL || m->f == NULL) {
		free(m->origin);
		if (m->f)
			fclose(m->f);
		free(m->text);
		free(m);
		o->err = -ENOMEM;
		return NULL;
	}
	o->m[o->n] = m;
	*slot = ++o->n;
	return m;
}

#define LABEL_MAX 64

/*
 * key as a label name in k: the format's characters, a digit first made an underscore, and
 * leading underscores made one ("__" starts the names Prometheus reserves). Collapsed after
 * mapping, so that "1_x" or "-_x" cannot give "__x" either. False if cut.
 */
static bool label_name(char k[LABEL_MAX], const char *key)
{
	size_t n = 0;

	for (; *key && n + 1 < LABEL_MAX; key++) {
		char c = name_char(*key);

		if (n == 0 && c >= '0' && c <= '9')
			c = '_';
		if (n == 1 && k[0] == '_' && c == '_')
			continue;
		k[n++] = c;
	}
	if (n == 0)
		k[n++] = '_';
	k[n] = '\0';
	return *key == '\0';
}

struct label {
	char k[LABEL_MAX];
	const char *v;
};

/* One sample of a number: name{labels, extra} value; a count if field (or sub) names one. */
static void sample(struct out *o, const char *section, const char *field, const char *sub,
		   const json_t *labels, const char *extra_key, const char *extra, const json_t *v)
{
	size_t nl = json_object_size(labels) + (extra_key != NULL), i = 0;
	struct label *l = calloc(nl ? nl : 1, sizeof(*l));
	struct metric *m;
	const char *k;
	json_t *lv;

	if (l == NULL) {
		o->err = -ENOMEM;
		return;
	}
	/* The labels first: a sample left out must not make an empty metric. */
	json_object_foreach ((json_t *)labels, k, lv) {
		l[i].v = json_string_value(lv);
		if (!label_name(l[i++].k, k))
			goto too_long;
	}
	if (extra_key) {
		l[i].v = extra;
		if (!label_name(l[i++].k, extra_key))
			goto too_long;
	}
	for (i = 0; i < nl; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(l[i].k, l[j].k) == 0) {
				o->skipped[SKIP_LABEL_CLASH]++;
				goto out;
			}
	m = metric(o, section, field, counts(field) || (sub && counts(sub)));
	if (m == NULL)
		goto out;
	fputs(m->name, m->f);
	for (i = 0; i < nl; i++) {
		fprintf(m->f, "%s%s=\"", i ? "," : "{", l[i].k);
		prom_label_value(m->f, l[i].v ? l[i].v : "");
		fputc('"', m->f);
	}
	if (nl)
		fputc('}', m->f);
	if (json_is_integer(v))
		fprintf(m->f, " %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		fprintf(m->f, " %.17g\n", json_real_value(v));
	else
		fprintf(m->f, " %d\n", json_is_true(v));
	goto out;
too_long:
	o->skipped[SKIP_TOO_LONG]++;
out:
	free(l);
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
	/* o.m[0], made first so that a stats field of that name clashes with it. */
	bool skipped = metric(&o, NULL, "metrics_skipped", false) != NULL;
	const char *k;
	json_t *v;

	if (skipped) {
		o.m[0]->origin_len = 0; /* no field's: each has at least the '\0' */
		o.m[0]->type = "gauge";
	}
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
	for (size_t r = 0; skipped && r < SKIP_N; r++)
		fprintf(o.m[0]->f, "%s{reason=\"%s\"} %" PRIu64 "\n", o.m[0]->name, skip_names[r],
			o.skipped[r]);
	if (!skipped && o.err == 0)
		o.err = -ENOMEM;
	for (size_t i = 0; i < o.n; i++) {
		struct metric *m = o.m[i];
		if (fclose(m->f) != 0)
			o.err = -ENOMEM;
		if (o.err == 0)
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s", m->name,
				i == 0 ? "Samples this render of stats.get left out, by why."
				       : "tessd's stats.get.",
				m->name, m->type, m->text);
		free(m->text);
		free(m->origin);
		free(m);
	}
	free(o.m);
	free(o.slot);
	return o.err;
}
