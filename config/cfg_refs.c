/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * References between a document's arrays (OVSDB's refTable): a CFG_REF
 * leaf names an element of another array, found by its key. Each array
 * referred to is indexed once (its keys sorted), so a document of n
 * references into arrays of m elements checks in O((n + m) log m).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_schema.h"

#define MAX_TABLES 16

struct table {
	const char *ptr;   /* its JSON pointer (the schema's string) */
	const char **keys; /* sorted */
	size_t n;
	bool bad; /* the pointer leads nowhere, or no memory: its references are not checked */
};

struct refs {
	const struct cfg_node *schema;
	const void *root;
	struct cfg_errs *errs;
	struct table t[MAX_TABLES];
	unsigned nt;
	char path[CFG_PATH_MAX];
};

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct cfg_field *field_of(const struct cfg_node *n, const char *key, size_t len)
{
	for (const struct cfg_field *f = n->obj.fields; f->key; f++)
		if (strlen(f->key) == len && strncmp(f->key, key, len) == 0)
			return f;
	return NULL;
}

/* Indexes the array at ptr (segments of objects, then the array): false if it is none. */
static bool index_table(const struct refs *r, struct table *t, const char *key)
{
	const struct cfg_node *n = r->schema;
	const char *base = r->root, *seg = t->ptr;

	while (*seg == '/') {
		const char *end = strchr(seg + 1, '/');
		size_t len = end ? (size_t)(end - seg - 1) : strlen(seg + 1);
		const struct cfg_field *f =
			n->type == CFG_OBJECT ? field_of(n, seg + 1, len) : NULL;

		if (f == NULL)
			return false;
		if (f->node->type == CFG_ARRAY) {
			const struct cfg_field *k;
			const char *items = *(char *const *)(base + f->off);
			uint32_t cnt = *(const uint32_t *)(base + f->count_off);

			if (end || f->node->arr.item->type != CFG_OBJECT ||
			    (k = field_of(f->node->arr.item, key, strlen(key))) == NULL)
				return false;
			t->keys = malloc((cnt ? cnt : 1) * sizeof(*t->keys));
			if (t->keys == NULL)
				return false;
			for (uint32_t i = 0; i < cnt; i++)
				t->keys[i] = items + i * f->node->arr.item_size + k->off;
			t->n = cnt;
			qsort(t->keys, cnt, sizeof(*t->keys), cmp_key);
			return true;
		}
		n = f->node;
		base += f->off;
		seg = end ? end : seg + 1 + len;
	}
	return false;
}

static struct table *table_for(struct refs *r, const struct cfg_node *ref)
{
	for (unsigned i = 0; i < r->nt; i++)
		if (strcmp(r->t[i].ptr, ref->ref.table) == 0)
			return &r->t[i];
	if (r->nt == MAX_TABLES)
		return NULL;
	struct table *t = &r->t[r->nt++];
	t->ptr = ref->ref.table;
	t->bad = !index_table(r, t, ref->ref.key);
	return t;
}

static void check_ref(struct refs *r, const struct cfg_node *n, const char *name)
{
	struct table *t;

	if (name[0] == '\0')
		return; /* optional, not set */
	t = table_for(r, n);
	if (t == NULL || t->bad) {
		cfg_err_add(r->errs, EINVAL, r->path, "schema error: cannot check %s references",
			    n->ref.what);
		return;
	}
	if (bsearch(&name, t->keys, t->n, sizeof(*t->keys), cmp_key) == NULL)
		cfg_err_add(r->errs, ENOENT, r->path, "no %s named '%s'", n->ref.what, name);
}

/* Appends "/key" or "/i" to the path; returns where to cut it back. */
static size_t push_key(struct refs *r, const char *key)
{
	size_t len = strlen(r->path);

	snprintf(r->path + len, sizeof(r->path) - len, "/%s", key);
	return len;
}

static size_t push_index(struct refs *r, uint32_t i)
{
	size_t len = strlen(r->path);

	snprintf(r->path + len, sizeof(r->path) - len, "/%u", i);
	return len;
}

static void walk(struct refs *r, const struct cfg_node *n, const char *obj);

/* The references of one field of obj (a leaf, an object, or an array's items). */
static void walk_field(struct refs *r, const struct cfg_field *f, const char *obj)
{
	const struct cfg_node *fn = f->node;
	size_t saved = push_key(r, f->key);

	if (fn->type == CFG_REF) {
		check_ref(r, fn, obj + f->off);
	} else if (fn->type == CFG_OBJECT) {
		walk(r, fn, obj + f->off);
	} else if (fn->type == CFG_ARRAY &&
		   (fn->arr.item->type == CFG_OBJECT || fn->arr.item->type == CFG_REF)) {
		const char *items = *(char *const *)(obj + f->off);
		uint32_t cnt = *(const uint32_t *)(obj + f->count_off);

		for (uint32_t i = 0; i < cnt; i++) {
			size_t s2 = push_index(r, i);
			const char *item = items + i * fn->arr.item_size;
			if (fn->arr.item->type == CFG_REF)
				check_ref(r, fn->arr.item, item);
			else
				walk(r, fn->arr.item, item);
			r->path[s2] = '\0';
		}
	}
	r->path[saved] = '\0';
}

static void walk(struct refs *r, const struct cfg_node *n, const char *obj)
{
	for (const struct cfg_field *f = n->obj.fields; f->key; f++)
		walk_field(r, f, obj);
}

static int finish(struct refs *r, unsigned before)
{
	for (unsigned i = 0; i < r->nt; i++)
		free(r->t[i].keys);
	return r->errs->n == before ? 0 : -EINVAL;
}

int cfg_check_refs(const struct cfg_node *schema, const void *root, struct cfg_errs *errs)
{
	struct refs r = { .schema = schema, .root = root, .errs = errs };
	unsigned before = errs->n;

	walk(&r, schema, root);
	return finish(&r, before);
}

int cfg_check_refs_in(const struct cfg_node *schema, const void *root, const char *key,
		      struct cfg_errs *errs)
{
	struct refs r = { .schema = schema, .root = root, .errs = errs };
	const struct cfg_field *f = field_of(schema, key, strlen(key));
	unsigned before = errs->n;

	if (f)
		walk_field(&r, f, root);
	return finish(&r, before);
}

int cfg_check_item_refs(const struct cfg_node *schema, const void *root,
			const struct cfg_node *item_schema, const void *item, const char *path,
			struct cfg_errs *errs)
{
	struct refs r = { .schema = schema, .root = root, .errs = errs };
	unsigned before = errs->n;

	snprintf(r.path, sizeof(r.path), "%s", path);
	walk(&r, item_schema, item);
	return finish(&r, before);
}

struct uniq {
	const char *items;
	size_t size, off;
};

static const char *uniq_key(const struct uniq *u, uint32_t i)
{
	return u->items + (size_t)i * u->size + u->off;
}

static int cmp_uniq(const void *a, const void *b, void *arg)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(uniq_key(arg, x), uniq_key(arg, y));

	return c ? c : (x > y) - (x < y);
}

void cfg_check_unique(const void *items, uint32_t n, size_t size, size_t off, const char *array,
		      const char *key, const char *what, struct cfg_errs *errs)
{
	struct uniq u = { items, size, off };
	uint32_t *o = n ? malloc(n * sizeof(*o)) : NULL;
	char path[CFG_PATH_MAX];

	if (o == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		o[i] = i;
	/* Sorted by key then index: each duplicate follows the one it repeats. */
	qsort_r(o, n, sizeof(*o), cmp_uniq, &u);
	for (uint32_t i = 1; i < n; i++) {
		if (strcmp(uniq_key(&u, o[i]), uniq_key(&u, o[i - 1])))
			continue;
		snprintf(path, sizeof(path), "%s/%u/%s", array, o[i], key);
		cfg_err_add(errs, EEXIST, path, "%s %s already has %s (%s/%u)", key,
			    uniq_key(&u, o[i]), what, array, o[i - 1]);
	}
	free(o);
}
