/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /v1/rates (both roles: the price list in force; ?at=T: the one in
 * force at T), GET /v1/rates/history (every period) and PUT /v1/rates
 * (provider admins; the whole object, in force from the PUT's time on: the
 * rates before it are kept, with the time they ended, rate_hist.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "rate_hist.h"
#include "store.h"
#include "tlog.h"

/* The rates in force (under mgr.lock), read from the store at first use. */
static struct mgr_rates rates;
static bool rates_loaded;

void rates_default(struct mgr_rates *r)
{
	struct cfg_errs errs;
	json_t *j = json_object();

	cfg_errs_init(&errs);
	cfg_decode(&mgr_rates_schema, j, r, "", &errs);
	json_decref(j);
}

/* Rates from their stored JSON; the defaults (logged) if it is not valid. */
static void decode(const char *text, struct mgr_rates *r)
{
	json_t *j = text ? json_loads(text, 0, NULL) : json_object();
	struct cfg_errs errs;

	cfg_errs_init(&errs);
	if (j == NULL || cfg_decode(&mgr_rates_schema, j, r, "", &errs) < 0) {
		tlog(LOG_ERR, NULL, "stored rates are not valid: their prices are 0");
		rates_default(r);
	}
	json_decref(j);
}

static void rates_load_locked(void)
{
	char *text;

	if (rates_loaded)
		return;
	text = mgr_store_rates_get();
	decode(text, &rates);
	free(text);
	rates_loaded = true;
}

int rate_periods_read(sqlite3 *db, int64_t from, int64_t to, struct rate_period **out, uint32_t *n)
{
	sqlite3_stmt *st;
	struct rate_period *p = NULL, *grown;
	uint32_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT start_t, end_t, rates FROM rate_periods WHERE start_t < ?2 "
			       "  AND (end_t IS NULL OR end_t > ?1) ORDER BY start_t",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((grown = realloc(p, (k + 1) * sizeof(*p))) == NULL)
			break;
		p = grown;
		p[k].start = sqlite3_column_int64(st, 0);
		p[k].end = sqlite3_column_type(st, 1) == SQLITE_NULL ? INT64_MAX
								     : sqlite3_column_int64(st, 1);
		decode((const char *)sqlite3_column_text(st, 2), &p[k].r);
		k++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rate_periods_free(p, k);
		return -EIO;
	}
	*out = p;
	*n = k;
	return 0;
}

void rate_periods_free(struct rate_period *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		cfg_free(&mgr_rates_schema, &p[i].r);
	free(p);
}

/* GET /v1/rates?at=T and GET /v1/rates/history, from a connection of their own. */
static void read_history(struct api_ctx *c, const char *at_s)
{
	int64_t at = 0, from = 0, to = INT64_MAX;
	struct rate_period *p = NULL;
	struct mgr_rates none;
	sqlite3 *db = NULL;
	uint32_t n = 0;
	json_t *a;

	if (at_s && !http_query_int(at_s, 0, INT64_MAX / 2, &at)) {
		http_error(c->out, 400, "at", "at: a time in seconds since the epoch");
		return;
	}
	if (at_s) {
		from = at;
		to = at + 1;
	}
	if (sqlite3_open_v2(mgr_conf.store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
	    rate_periods_read(db, from, to, &p, &n)) {
		http_error(c->out, 500, "", "cannot read the rates' history");
		sqlite3_close(db);
		return;
	}
	sqlite3_close(db);
	if (at_s) {
		/* Before the first period: the defaults. */
		if (n == 0)
			rates_default(&none);
		api_ok(c, 200, cfg_encode(&mgr_rates_schema, n ? &p[0].r : &none));
		if (n == 0)
			cfg_free(&mgr_rates_schema, &none);
	} else {
		a = json_array();
		for (uint32_t i = 0; i < n; i++)
			json_array_append_new(
				a,
				json_pack("{s:I, s:o, s:o}", "from", (json_int_t)p[i].start, "to",
					  p[i].end == INT64_MAX ? json_null()
								: json_integer(p[i].end),
					  "rates", cfg_encode(&mgr_rates_schema, &p[i].r)));
		api_ok(c, 200, a);
	}
	rate_periods_free(p, n);
}

static bool is(const struct api_ctx *c, const char *method)
{
	return strcmp(c->r->method, method) == 0;
}

void api_rates(struct api_ctx *c)
{
	const char *at = http_query(c->r, "at");
	bool history = c->n_seg == 2 && strcmp(c->seg[1], "history") == 0;
	struct mgr_rates r;
	int64_t start;
	json_t *j;
	char *text;
	int rc;

	if ((c->n_seg != 1 && !history) || !(is(c, "GET") || (is(c, "PUT") && !history))) {
		http_error(c->out, c->n_seg != 1 && !history ? 404 : 405, "", "%s %s is not served",
			   c->r->method, c->r->path);
		return;
	}
	if (is(c, "GET") && (history || at)) {
		read_history(c, history ? NULL : at);
		return;
	}
	if (is(c, "GET")) {
		pthread_mutex_lock(&mgr.lock);
		rates_load_locked();
		j = cfg_encode(&mgr_rates_schema, &rates);
		pthread_mutex_unlock(&mgr.lock);
		api_ok(c, 200, j);
		return;
	}
	if (!c->provider) {
		http_error(c->out, 403, "", "only provider admins set the rates");
		return;
	}
	if (!api_decode(c, &mgr_rates_schema, &r))
		return;
	j = cfg_encode(&mgr_rates_schema, &r);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	pthread_mutex_lock(&mgr.lock);
	rates_load_locked();
	rc = text ? mgr_store_rates_put((int64_t)time(NULL), text, &start) : -ENOMEM;
	if (rc < 0) {
		pthread_mutex_unlock(&mgr.lock);
		cfg_free(&mgr_rates_schema, &r);
		json_decref(j);
		free(text);
		if (rc == -EAGAIN)
			http_error(c->out, 409, "",
				   "the open rate period starts at %lld, after now: "
				   "set the clock right first",
				   (long long)start);
		else
			http_error(c->out, 500, "", "cannot store the rates");
		return;
	}
	cfg_free(&mgr_rates_schema, &rates);
	rates = r;
	pthread_mutex_unlock(&mgr.lock);
	free(text);
	api_ok(c, 200, j);
}
