/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT44 logging's control side (nat_log.h): the workers' rings (built with snapshots), the
 * control thread's own ring of deletions, draining in bounded batches, the file (appended,
 * rotated by size) and the counters. Control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "log.h"
#include "nat.h"
#include "nat_log_dp.h"
#include "nat_log_file.h"

#define MAX_RINGS  8            /* rings objects alive: the running one, going ones */
#define CTL_RING   4096         /* the control thread's deletions, drained when full */
#define POLL_MAX   8192         /* records a poll formats at most: other control work waits */
#define BUF_BYTES  (256 * 1024) /* a batch's lines; written when this full or due */
#define TAKE_BATCH 256          /* records taken from a ring at once */

static struct {
	struct tessd_nat_log_cfg cfg; /* the running config's (path "": off) */
	struct nat_log_file file;
	struct nat_log_rings *alive[MAX_RINGS];
	struct nat_log_ring *ctl; /* control thread's records (deletions, frees) */
	char *buf;
	size_t len;           /* bytes in buf */
	uint64_t pending_tsc; /* when buf got its first line (0: empty) */
	uint64_t anchor_tsc, anchor_ms;
	uint64_t records, lost, bytes;
	uint64_t lost_gone; /* of rings freed */
} lg = { .file = { .dirfd = -1, .fd = -1 } };

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

static unsigned n_workers(void)
{
	return rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
}

/* ---- rings ---- */

static struct nat_log_ring *ring_alloc(uint32_t size)
{
	struct nat_log_ring *q = rte_zmalloc("nat_log_ring", nat_log_ring_bytes(size), 64);

	if (q)
		nat_log_ring_init(q, size);
	return q;
}

static void rings_free(struct nat_log_rings *r)
{
	for (unsigned w = 0; w < r->n; w++)
		rte_free(r->w[w]);
	rte_free(r);
}

struct nat_log_rings *nat_log_rings_get(const struct tessd_cfg *cfg, int *rc)
{
	uint32_t size = pow2_at_least(cfg->nat.logging.ring_size);
	unsigned n = n_workers();
	struct nat_log_rings *r;
	int free_at = -1;

	*rc = 0;
	if (cfg->nat.logging.path[0] == '\0')
		return NULL;
	for (int i = MAX_RINGS - 1; i >= 0; i--) {
		if (lg.alive[i] == NULL)
			free_at = i;
		else if (lg.alive[i]->size == size) {
			lg.alive[i]->refs++;
			return lg.alive[i];
		}
	}
	/* alive[] is packed oldest first (put closes gaps): a new set goes last, drained last. */
	*rc = -ENOMEM;
	if (free_at < 0)
		return NULL; /* ring sizes changed faster than snapshots went: later */
	r = rte_zmalloc("nat_log_rings", sizeof(*r) + n * sizeof(r->w[0]), 64);
	if (r == NULL)
		return NULL;
	r->n = n;
	r->size = size;
	for (unsigned w = 0; w < n; w++)
		if ((r->w[w] = ring_alloc(size)) == NULL) {
			rings_free(r);
			return NULL;
		}
	r->refs = 1;
	lg.alive[free_at] = r;
	*rc = 0;
	return r;
}

static void drain_rings(struct nat_log_rings *r, uint32_t *budget);
static void flush(void);

static uint32_t rings_backlog(const struct nat_log_rings *r)
{
	uint32_t n = 0;

	for (unsigned w = 0; w < r->n; w++)
		n += nat_log_backlog(r->w[w]);
	return n;
}

void nat_log_rings_put(struct nat_log_rings *r)
{
	uint32_t all;

	if (r == NULL || --r->refs)
		return;
	all = rings_backlog(r); /* bounded: no worker writes to it */
	/* No snapshot has it: no worker writes to it any more. What is left goes out first. */
	drain_rings(r, &all);
	for (unsigned w = 0; w < r->n; w++)
		lg.lost_gone += __atomic_load_n(&r->w[w]->lost, __ATOMIC_RELAXED);
	for (unsigned i = 0, k = 0; i < MAX_RINGS; i++) {
		struct nat_log_rings *a = lg.alive[i];

		lg.alive[i] = NULL;
		if (a && a != r)
			lg.alive[k++] = a; /* order kept: oldest first */
	}
	rings_free(r);
}

/* ---- the file ---- */

/* A whole file of at least 1 MiB holds a batch (BUF_BYTES): at most one rotation a flush. */
static void flush(void)
{
	uint64_t max = (uint64_t)(lg.cfg.max_file_mb * 1024 * 1024);

	lg.bytes += nat_log_file_write(&lg.file, lg.buf, lg.len, max, lg.cfg.keep_files,
				       &lg.records, &lg.lost);
	lg.len = 0;
	lg.pending_tsc = 0;
}

static uint64_t lines_in(const char *p, size_t n)
{
	uint64_t k = 0;

	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		k++;
	return k;
}

/* ---- records to lines ---- */

static void anchor(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	lg.anchor_tsc = rte_rdtsc();
	lg.anchor_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t tsc_ms(uint64_t ticks)
{
	return ticks / (rte_get_tsc_hz() / 1000);
}

static void line(const struct nat_log_rec *r)
{
	const struct nat_inst *n = nat_slots[r->slot];
	int64_t back = (int64_t)(lg.anchor_tsc - r->tsc);
	struct nat_log_names nm = {
		.unix_ms = back >= 0 ? lg.anchor_ms - tsc_ms((uint64_t)back)
				     : lg.anchor_ms + tsc_ms((uint64_t)-back),
		.dur_ms = tsc_ms(r->dur),
		.inst = n ? n->name : "?", /* gone meanwhile (a record racing its removal) */
		.vrf = n ? n->vrf : "?",
	};

	if (lg.cfg.path[0] == '\0' || lg.buf == NULL) {
		lg.lost++; /* logging went off: records still in flight go nowhere */
		return;
	}
	if (lg.len + NAT_LOG_LINE_MAX > BUF_BYTES)
		flush();
	if (lg.pending_tsc == 0)
		lg.pending_tsc = rte_rdtsc() | 1;
	lg.len += nat_log_format(lg.buf + lg.len, r, &nm);
}

static uint32_t drain_ring(struct nat_log_ring *q, uint32_t budget)
{
	struct nat_log_rec recs[TAKE_BATCH];
	uint32_t done = 0, k;

	while (done < budget &&
	       (k = nat_log_take(q, recs, RTE_MIN(budget - done, (uint32_t)TAKE_BATCH))) > 0) {
		for (uint32_t i = 0; i < k; i++)
			line(&recs[i]);
		done += k;
	}
	return done;
}

static void drain_rings(struct nat_log_rings *r, uint32_t *budget)
{
	for (unsigned w = 0; w < r->n && *budget; w++)
		*budget -= drain_ring(r->w[w], *budget);
}

/* Workers' rings first: a deletion is written after its creation. */
static void drain(uint32_t budget)
{
	if (lg.buf == NULL)
		return;
	anchor();
	for (unsigned i = 0; i < MAX_RINGS && budget; i++)
		if (lg.alive[i])
			drain_rings(lg.alive[i], &budget);
	if (lg.ctl && budget)
		drain_ring(lg.ctl, budget);
}

/* What waits now, not what workers add meanwhile: the control thread's work is bounded. */
void nat_log_drain_all(void)
{
	if (lg.buf) {
		anchor();
		for (unsigned i = 0; i < MAX_RINGS; i++)
			for (unsigned w = 0; lg.alive[i] && w < lg.alive[i]->n; w++)
				drain_ring(lg.alive[i]->w[w], nat_log_backlog(lg.alive[i]->w[w]));
		if (lg.ctl)
			drain_ring(lg.ctl, nat_log_backlog(lg.ctl));
	}
	if (lg.len)
		flush();
}

void nat_log_poll(uint64_t now)
{
	drain(POLL_MAX);
	/* now may be before the batch's first line (taken during the drain): signed. */
	if (lg.len && (lg.len > BUF_BYTES / 2 ||
		       nat_log_flush_due(now, lg.pending_tsc,
					 (uint64_t)lg.cfg.flush_ms * (rte_get_tsc_hz() / 1000))))
		flush();
}

/* ---- the control thread's records ---- */

static void ctl_put(const struct nat_log_rec *r)
{
	if (lg.ctl == NULL)
		return;
	/* Full (a flush of many sessions): out now, in order, rather than lost. */
	if (nat_log_backlog(lg.ctl) > lg.ctl->mask)
		nat_log_drain_all();
	nat_log_put(lg.ctl, r);
}

void nat_log_deleted(const struct nat_inst *n, const struct conn_entry *e)
{
	uint64_t now = rte_rdtsc(), born = e->user[0] >> NAT_BORN_SHIFT;
	struct nat_log_rec r;

	if (__atomic_load_n(&n->log, __ATOMIC_RELAXED) != NAT_LOG_SESSIONS)
		return;
	nat_log_session_rec(&r, n, e, NAT_LOG_DELETE, now);
	r.dur = (now - born) & (UINT64_MAX >> NAT_BORN_SHIFT);
	ctl_put(&r);
}

void nat_log_freed(const struct nat_inst *n, const struct conn_entry *e, uint32_t b)
{
	struct nat_log_rec r;

	if (__atomic_load_n(&n->log, __ATOMIC_RELAXED) != NAT_LOG_BLOCKS)
		return;
	nat_log_block_rec(&r, n, b, e->key[CONN_ORIG].src, NAT_LOG_FREE, rte_rdtsc());
	ctl_put(&r);
}

/* ---- config ---- */

/* The end line, if logging was on: a reader closes every binding still open in the file. */
static void log_end(void)
{
	struct nat_log_rec r = { .event = NAT_LOG_END, .tsc = rte_rdtsc() };

	if (lg.cfg.path[0] == '\0' || lg.buf == NULL)
		return;
	anchor();
	line(&r);
	flush();
}

uint8_t nat_log_mode_of(const struct tessd_cfg *cfg, const struct tessd_nat_inst_cfg *c)
{
	const struct tessd_nat_log_cfg *l = &cfg->nat.logging;

	if (l->path[0] == '\0' || !c->log)
		return NAT_LOG_OFF;
	return l->mode == TESS_NAT_LOG_PORT_BLOCKS ? NAT_LOG_BLOCKS : NAT_LOG_SESSIONS;
}

void nat_log_sync(const struct tessd_cfg *cur)
{
	const struct tessd_nat_log_cfg *c = &cur->nat.logging;
	uint8_t mode = c->path[0] == '\0' ? NAT_LOG_OFF : NAT_LOG_SESSIONS;

	if (strcmp(c->path, lg.cfg.path) != 0 || mode == NAT_LOG_OFF || c->mode != lg.cfg.mode) {
		/* What was logged so far goes to the file it was logged for. */
		nat_log_drain_all();
		if (mode == NAT_LOG_OFF || c->mode != lg.cfg.mode)
			log_end(); /* no ends of what is open now will follow */
		nat_log_file_close(&lg.file);
		if (mode != NAT_LOG_OFF) {
			const char *root = tessd_nat_log_root(cur, c->path);

			/* Validated: under one (a failure here: nothing opens, counted). */
			if (root == NULL || nat_log_file_set(&lg.file, root, c->path) < 0)
				nat_log_file_set(&lg.file, "/", "/");
		}
	}
	if (mode != NAT_LOG_OFF && lg.buf == NULL) {
		lg.buf = malloc(BUF_BYTES);
		lg.ctl = ring_alloc(CTL_RING);
		if (lg.buf == NULL || lg.ctl == NULL) {
			DP_LOG(ERR, "nat log: no memory: nothing is logged");
			free(lg.buf);
			rte_free(lg.ctl);
			lg.buf = NULL;
			lg.ctl = NULL;
			mode = NAT_LOG_OFF;
		}
	}
	lg.cfg = *c;
	if (mode == NAT_LOG_OFF)
		lg.cfg.path[0] = '\0'; /* no memory */
}

void nat_log_fini(void)
{
	nat_log_drain_all();
	log_end();
	nat_log_file_close(&lg.file);
	lg.cfg.path[0] = '\0'; /* rings freed with the last snapshots: nowhere to write */
	free(lg.buf);
	rte_free(lg.ctl);
	lg.buf = NULL;
	lg.ctl = NULL;
}

/* ---- API ---- */

void nat_log_json(json_t *o)
{
	uint64_t lost = lg.lost + lg.lost_gone + (lg.ctl ? lg.ctl->lost : 0), backlog = 0;

	for (unsigned i = 0; i < MAX_RINGS; i++)
		for (unsigned w = 0; lg.alive[i] && w < lg.alive[i]->n; w++) {
			lost += __atomic_load_n(&lg.alive[i]->w[w]->lost, __ATOMIC_RELAXED);
			backlog += nat_log_backlog(lg.alive[i]->w[w]);
		}
	json_object_set_new(o, "enabled", json_boolean(lg.cfg.path[0] != '\0'));
	json_object_set_new(o, "path", json_string(lg.cfg.path));
	json_object_set_new(o, "mode", json_string(tess_nat_log_modes[lg.cfg.mode]));
	json_object_set_new(o, "records", json_integer((json_int_t)lg.records));
	json_object_set_new(o, "lost", json_integer((json_int_t)lost));
	json_object_set_new(o, "bytes", json_integer((json_int_t)lg.bytes));
	json_object_set_new(o, "rotations", json_integer((json_int_t)lg.file.rotations));
	json_object_set_new(o, "write_errors", json_integer((json_int_t)lg.file.write_errors));
	json_object_set_new(
		o, "backlog",
		json_integer((json_int_t)(backlog + lines_in(lg.buf ? lg.buf : "", lg.len))));
	json_object_set_new(o, "file_bytes", json_integer((json_int_t)lg.file.file_bytes));
}
