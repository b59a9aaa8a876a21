/* SPDX-License-Identifier: BSD-3-Clause */
#include "cfg_array.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* The field of an object schema named by the token tok[0..len). */
static const struct cfg_field *field_of(const struct cfg_node *n, const char *tok, size_t len)
{
	for (const struct cfg_field *f = n->obj.fields; f->key; f++)
		if (strlen(f->key) == len && memcmp(f->key, tok, len) == 0)
			return f;
	return NULL;
}

/* An array index token: digits, no leading zero (RFC 6901); -1 if not one. */
static long index_of(const char *tok, size_t len)
{
	long v = 0;

	if (len == 0 || len > 9 || (len > 1 && tok[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return -1;
		v = v * 10 + (tok[i] - '0');
	}
	return v;
}

int cfg_array_find(const struct cfg_node *schema, void *obj, const char *ptr, struct cfg_array *a)
{
	const struct cfg_node *n = schema;
	char *at = obj;

	memset(a, 0, sizeof(*a));
	if (ptr == NULL || ptr[0] != '/')
		return -EINVAL;
	while (*ptr == '/') {
		const char *tok = ptr + 1;
		size_t len = strcspn(tok, "/");
		const struct cfg_field *f;

		ptr = tok + len;
		if (n->type != CFG_OBJECT)
			return -EINVAL;
		f = field_of(n, tok, len);
		if (f == NULL)
			return -ENOENT;
		if (f->node->type != CFG_ARRAY) {
			n = f->node;
			at += f->off;
			continue;
		}
		a->items = (void **)(at + f->off);
		a->n = (uint32_t *)(at + f->count_off);
		a->node = f->node;
		if (*ptr == '\0')
			return 0;
		/* Into one of its elements. */
		tok = ptr + 1;
		len = strcspn(tok, "/");
		ptr = tok + len;
		long i = index_of(tok, len);
		if (i < 0)
			return -EINVAL;
		if ((uint32_t)i >= *a->n)
			return -ENOENT;
		at = cfg_array_at(a, (uint32_t)i);
		n = a->node->arr.item;
		memset(a, 0, sizeof(*a));
	}
	return -EINVAL; /* the pointer names an object, not an array */
}

void *cfg_array_at(const struct cfg_array *a, uint32_t i)
{
	return (char *)*a->items + (size_t)i * a->node->arr.item_size;
}

/* A deep copy of item into dst (item_size bytes): objects through the schema, the rest inline. */
static int copy_item(const struct cfg_array *a, void *dst, const void *item)
{
	const struct cfg_node *in = a->node->arr.item;

	if (in->type != CFG_OBJECT) {
		memcpy(dst, item, a->node->arr.item_size);
		return 0;
	}
	return cfg_clone(in, dst, item) < 0 ? -ENOMEM : 0;
}

static void free_item(const struct cfg_array *a, void *elem)
{
	if (a->node->arr.item->type == CFG_OBJECT)
		cfg_free(a->node->arr.item, elem);
}

int cfg_array_add(const struct cfg_array *a, const void *item)
{
	size_t size = a->node->arr.item_size;
	char *items;

	/* What a saved config would not load again is refused here too. */
	if (*a->n >= a->node->arr.max)
		return -ERANGE;
	/*
	 * Grown by half again when full (the block's usable size says how full):
	 * appending N elements one by one copies O(N) bytes, not O(N^2).
	 */
	items = *a->items;
	if (items == NULL || malloc_usable_size(items) < (*a->n + 1) * size) {
		items = realloc(items, (*a->n + 1 + *a->n / 2) * size);
		if (items == NULL)
			return -ENOMEM;
		*a->items = items;
	}
	if (copy_item(a, items + *a->n * size, item) < 0)
		return -ENOMEM;
	(*a->n)++;
	return 0;
}

int cfg_array_set(const struct cfg_array *a, uint32_t i, const void *item)
{
	size_t size = a->node->arr.item_size;
	void *tmp;

	if (i >= *a->n)
		return -ERANGE;
	/* Copied aside first: on out of memory, element i stays as it was. */
	tmp = malloc(size);
	if (tmp == NULL || copy_item(a, tmp, item) < 0) {
		free(tmp);
		return -ENOMEM;
	}
	free_item(a, cfg_array_at(a, i));
	memcpy(cfg_array_at(a, i), tmp, size);
	free(tmp);
	return 0;
}

int cfg_array_del(const struct cfg_array *a, uint32_t i)
{
	size_t size = a->node->arr.item_size;
	char *items = *a->items;

	if (i >= *a->n)
		return -ERANGE;
	free_item(a, items + i * size);
	memmove(items + i * size, items + (i + 1) * size, (*a->n - i - 1) * size);
	(*a->n)--;
	if (*a->n == 0) { /* as a decode of [] leaves it */
		free(items);
		*a->items = NULL;
	}
	return 0;
}
