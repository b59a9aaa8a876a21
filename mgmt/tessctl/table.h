/* SPDX-License-Identifier: BSD-3-Clause */
/* Aligned text tables for tessctl's human output. */
#ifndef TESSCTL_TABLE_H
#define TESSCTL_TABLE_H

#include <stdio.h>

#define TABLE_MAX_COLS 16

struct table;

/* headers: NULL-terminated. */
struct table *table_new(const char *const *headers);
/* Appends a printf-formatted cell to the current row; a full row starts the next one. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif
