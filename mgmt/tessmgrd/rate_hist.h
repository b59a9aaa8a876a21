/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rates' history (issue 16 C): each PUT /v1/rates starts a rate period
 * at its time and ends the one before (table rate_periods, store.c); usage
 * is priced at the rates in force when its bucket starts. Before the first
 * period every price is 0.
 */
#ifndef TESS_MGR_RATE_HIST_H
#define TESS_MGR_RATE_HIST_H

#include <sqlite3.h>
#include <stdint.h>

#include "rates.h"

struct rate_period {
	int64_t start, end; /* [start, end); end INT64_MAX while it is the open one */
	struct mgr_rates r;
};

/*
 * The periods overlapping [from, to) on db (a connection of the caller's),
 * by start, into *out (malloc()ed): 0, or -EIO.
 */
int rate_periods_read(sqlite3 *db, int64_t from, int64_t to, struct rate_period **out, uint32_t *n);
void rate_periods_free(struct rate_period *p, uint32_t n);
/* The rates of no period: the schema's defaults (all prices 0). */
void rates_default(struct mgr_rates *r);

#endif
