/* SPDX-License-Identifier: BSD-3-Clause */
#include "fuzz_tessd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_memory.h>
#include <rte_mbuf.h>

#include "apply.h"
#include "eal.h"
#include "module.h"
#include "port.h"
#include "rcu.h"
#include "snapshot.h"
#include "stage.h"
#include "stats.h"
#include "tessd.h"
#include "tx_datapath.h"
#include "worker.h"

/* LeakSanitizer's, when linked in (sanitized builds). */
void __lsan_register_root_region(const void *p, size_t size) __attribute__((weak));

static struct rte_mempool *pool;
static char prefix[64];

static void cleanup(void)
{
	char cmd[160];

	/* EAL's runtime directory of this process (--no-huge still makes one). */
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", prefix);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove /var/run/dpdk/%s\n", prefix);
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, why);
	exit(1);
}

/*
 * DPDK's memory (tables, neighbour entries) holds pointers to malloc'd
 * memory: LeakSanitizer scans it too, or it would call that memory leaked.
 */
static int scan_memseg_list(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	__lsan_register_root_region(msl->base_va, msl->len);
	return 0;
}

void fuzz_tessd_start(const char *name, const char *config)
{
	struct cfg_errs errs;
	struct ctl_error cerr = { 0 };
	json_error_t jerr;
	json_t *doc = json_loads(config, JSON_REJECT_DUPLICATES, &jerr);
	char err[1024] = "";
	json_t *port;
	size_t i;
	int rc;

	if (doc == NULL)
		die("config", jerr.text);
	/* One worker sharing the main CPU, no hugepages, a runtime directory of its own. */
	snprintf(prefix, sizeof(prefix), "tess_fuzz_%s_%d", name, (int)getpid());
	json_object_set_new(doc, "eal",
			    json_pack("{s:i, s:[i], s:i, s:i, s:s, s:s, s:[s]}", "main_cpu", 0,
				      "workers", 0, "memory_mb", 256, "mbufs", 8191, "hugepages",
				      "off", "file_prefix", prefix, "args", "--no-pci"));
	/* Short rings: the frames come from the fuzzer, not from the ports' RX queues. */
	json_array_foreach (json_object_get(doc, "ports"), i, port) {
		json_object_set_new(port, "rx_desc", json_integer(64));
		json_object_set_new(port, "tx_desc", json_integer(64));
	}
	if (tess_modules_sort() < 0 || dp_stages_link() < 0)
		die("modules", "do not fit together");
	cfg_errs_init(&errs);
	rc = tessd_cfg_decode(doc, &tessd.cfg, &errs, dp_cfg_validate);
	json_decref(doc);
	if (rc < 0) {
		cfg_errs_print(&errs, "fuzz: config: ", stderr);
		exit(1);
	}
	if (dp_eal_check(&tessd.cfg, &tessd.eal, err, sizeof(err)) < 0 ||
	    dp_eal_init(&tessd.cfg, name, &tessd.eal, err, sizeof(err)) < 0)
		die("EAL", err);
	atexit(cleanup);
	if (__lsan_register_root_region)
		rte_memseg_list_walk(scan_memseg_list, NULL);
	rc = dp_rcu_init(tessd.cfg.eal.n_workers);
	if (rc == 0)
		rc = tess_modules_init(&tessd.cfg);
	if (rc == 0)
		rc = dp_workers_init();
	if (rc < 0)
		die("modules and workers", strerror(-rc));
	if (dp_ports_init(&tessd.cfg, err, sizeof(err)) < 0)
		die("ports", err);
	if (dp_snapshot_init() < 0 || dp_apply_running(&cerr) < 0)
		die("first snapshot", cerr.message);
	dp_stats_reset();
	pool = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL)
		die("mempool", rte_strerror(rte_errno));
}

/* What follows a burst: the control thread's tick and worker 0's poll, then TX. */
static void after_burst(struct dp_worker *w)
{
	const struct dp_snapshot *s = dp_snap;

	tess_modules_poll(&tessd.cfg, rte_rdtsc());
	TESS_MODULE_FOREACH (m)
		if (m->worker_poll)
			m->worker_poll(w, s);
	dp_tx_flush_all(w);
	dp_rcu_reclaim();
}

static void run(struct dp_worker *w, struct dp_burst *b)
{
	const struct dp_snapshot *s = dp_snap;

	if (b->n == 0)
		return;
	b->queue = 0;
	b->now = rte_rdtsc();
	w->timed = true;
	dp_stage_run(w, s, s->port[b->port].stage, b);
	b->n = 0;
	after_burst(w);
}

/* A frame of len bytes, in two segments (at half, at least 64 bytes in the first) if split. */
static struct rte_mbuf *frame(const uint8_t *p, uint16_t len, bool split)
{
	uint16_t first = split && len >= 128 ? len / 2 : len;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *t;
	char *d;

	if (m == NULL || (d = rte_pktmbuf_append(m, first)) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(d, p, first);
	if (first == len)
		return m;
	t = rte_pktmbuf_alloc(pool);
	if (t == NULL || (d = rte_pktmbuf_append(t, (uint16_t)(len - first))) == NULL ||
	    rte_pktmbuf_chain(m, t) != 0) {
		rte_pktmbuf_free(t);
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(d, p + first, len - first);
	return m;
}

void fuzz_tessd_frames(const uint8_t *data, size_t size)
{
	struct dp_worker *w = dp_worker_get(0);
	unsigned nports = dp_port_count();
	struct dp_burst b = { .n = 0 };

	while (size >= 3 && nports) {
		uint16_t port = (uint16_t)((data[0] & 0x7f) % nports);
		bool split = data[0] & 0x80;
		size_t len = (size_t)data[1] << 8 | data[2];
		struct rte_mbuf *m;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		/* Frames a port can receive: at most a jumbo frame. */
		if (len > RTE_MBUF_DEFAULT_DATAROOM)
			split = true;
		if (len > 2 * RTE_MBUF_DEFAULT_DATAROOM)
			len = 2 * RTE_MBUF_DEFAULT_DATAROOM;
		if (b.n && (b.port != port || b.n == DP_BURST))
			run(w, &b);
		m = frame(data, (uint16_t)len, split);
		data += len;
		size -= len;
		if (m == NULL)
			continue;
		b.port = port;
		b.pkts[b.n++] = m;
	}
	run(w, &b);
	/* Timers: a second tick lets what waited on the first go (neighbour queues). */
	after_burst(w);
}
