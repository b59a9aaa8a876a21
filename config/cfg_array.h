/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The arrays of a decoded config, found by their JSON pointer through the
 * schema that decoded it ("/switch/groups", "/switch/groups/2/static_macs"),
 * so that code editing a collection names it as the config file does and
 * never writes an offset or an element size by hand.
 */
#ifndef TESS_CFG_ARRAY_H
#define TESS_CFG_ARRAY_H

#include <stdint.h>

#include "cfg_schema.h"

struct cfg_array {
	void **items;                /* the array's pointer in its parent struct */
	uint32_t *n;                 /* and its count */
	const struct cfg_node *node; /* the array's schema (item, max, item_size) */
};

/*
 * The array at JSON pointer ptr in obj (decoded with schema). 0, -ENOENT
 * (an unknown key, an index out of range) or -EINVAL (not an array, or a
 * malformed pointer).
 */
int cfg_array_find(const struct cfg_node *schema, void *obj, const char *ptr, struct cfg_array *a);
/* Element i (i < *a->n). */
void *cfg_array_at(const struct cfg_array *a, uint32_t i);
/*
 * Appends a deep copy of item (through the schema). 0, -ERANGE (the schema's
 * max items reached) or -ENOMEM; the array is unchanged on error.
 */
int cfg_array_add(const struct cfg_array *a, const void *item);
/* Replaces element i by a deep copy of item. 0, -ERANGE (no element i) or -ENOMEM (unchanged). */
int cfg_array_set(const struct cfg_array *a, uint32_t i, const void *item);
/* Frees element i and closes the gap. 0 or -ERANGE (no element i). */
int cfg_array_del(const struct cfg_array *a, uint32_t i);

#endif
