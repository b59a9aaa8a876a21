/* SPDX-License-Identifier: BSD-3-Clause */
#include "table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct table {
	unsigned ncols, ncells, cap;
	char **cells; /* row-major; the first row is the header */
};

/* s is stored in t->cells; gcc 12's analyzer loses pointers stored at a symbolic index of
 * a heap array and reports a leak. table_free() frees every cell. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static void push(struct table *t, char *s)
{
	if (s == NULL)
		abort();
	if (t->ncells == t->cap) {
		unsigned ncap = t->cap ? t->cap * 2 : 64;
		char **n = realloc(t->cells, ncap * sizeof(*n));
		if (n == NULL)
			abort();
		t->cells = n;
		t->cap = ncap;
	}
	t->cells[t->ncells++] = s;
}
#pragma GCC diagnostic pop

struct table *table_new(const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort();
	while (headers[t->ncols] && t->ncols < TABLE_MAX_COLS)
		push(t, strdup(headers[t->ncols++]));
	return t;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	push(t, s);
}

void table_print(const struct table *t, FILE *f)
{
	size_t width[TABLE_MAX_COLS] = { 0 };

	for (unsigned i = 0; i < t->ncells; i++)
		if (strlen(t->cells[i]) > width[i % t->ncols])
			width[i % t->ncols] = strlen(t->cells[i]);
	for (unsigned i = 0; i < t->ncells; i++) {
		unsigned c = i % t->ncols;
		if (c + 1 == t->ncols || i + 1 == t->ncells)
			fprintf(f, "%s\n", t->cells[i]);
		else
			fprintf(f, "%-*s  ", (int)width[c], t->cells[i]);
	}
}

void table_free(struct table *t)
{
	for (unsigned i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
