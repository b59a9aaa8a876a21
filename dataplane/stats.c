/* SPDX-License-Identifier: BSD-3-Clause */
#include "stats.h"

#include <string.h>

#include <rte_cycles.h>

#include "event.h"
#include "module.h"
#include "stage.h"
#include "worker.h"

static struct dp_worker_counters worker_base[DP_MAX_WORKERS];
static struct dp_stage_counters stage_base[DP_MAX_STAGES];
static uint64_t drop_base[DP_MAX_DROPS];
static uint64_t reset_tsc;

void dp_cnt_sum(void *out, size_t size, const void *(*of)(unsigned w, unsigned i), unsigned i)
{
	uint64_t *o = out;

	memset(out, 0, size);
	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const uint64_t *c = of(w, i);
		for (size_t k = 0; k < size / sizeof(uint64_t); k++)
			o[k] += dp_cnt_read(&c[k]);
	}
}

void dp_cnt_sub(void *a, const void *b, size_t size)
{
	uint64_t *x = a;
	const uint64_t *y = b;

	for (size_t k = 0; k < size / sizeof(uint64_t); k++)
		x[k] -= y[k];
}

void dp_cnt_acc(void *a, const void *b, size_t size)
{
	uint64_t *x = a;
	const uint64_t *y = b;

	for (size_t k = 0; k < size / sizeof(uint64_t); k++)
		x[k] += y[k];
}

json_t *dp_drops_json(const uint64_t *drop, unsigned n, const struct dp_drop_set *set,
		      uint64_t *total)
{
	json_t *o = json_object();

	for (unsigned d = 1; d < n; d++) {
		*total += drop[d];
		if (drop[d])
			json_object_set_new(o, dp_drop_set_name(set, d),
					    json_integer((json_int_t)drop[d]));
	}
	return o;
}

static const void *port_of(unsigned w, unsigned id)
{
	return &dp_worker_get(w)->port[id];
}

static const void *port_drops_of(unsigned w, unsigned id)
{
	return &dp_worker_get(w)->port_drop[id * dp_n_drops];
}

static void sum_port(uint16_t id, struct dp_counters *out, uint64_t *drop)
{
	dp_cnt_sum(out, sizeof(*out), port_of, id);
	dp_cnt_sum(drop, sizeof(uint64_t) * dp_n_drops, port_drops_of, id);
}

static void sum_worker(unsigned idx, struct dp_worker_counters *out)
{
	const struct dp_worker_counters *c = &dp_worker_get(idx)->wc;

	out->busy_cycles = dp_cnt_read(&c->busy_cycles);
	out->idle_cycles = dp_cnt_read(&c->idle_cycles);
	out->pkts = dp_cnt_read(&c->pkts);
	out->busy_polls = dp_cnt_read(&c->busy_polls);
	out->idle_polls = dp_cnt_read(&c->idle_polls);
}

static const void *stage_of(unsigned w, unsigned id)
{
	return &dp_worker_get(w)->stage[id];
}

static const void *totals_of(unsigned w, unsigned id)
{
	(void)id;
	return dp_worker_get(w)->drop_total;
}

/* Every drop by global reason id: the workers' and the control thread's. */
static void sum_drops(uint64_t *out)
{
	dp_cnt_sum(out, sizeof(uint64_t) * dp_n_drops, totals_of, 0);
	for (unsigned d = 0; d < dp_n_drops; d++)
		out[d] += dp_ctl_drops(d);
}

void dp_stats_port(const struct dp_port *p, struct dp_counters *out, uint64_t *drop,
		   struct dp_hw_drops *hw)
{
	struct rte_eth_stats s;

	sum_port(p->id, out, drop);
	dp_cnt_sub(out, &p->base, sizeof(*out));
	dp_cnt_sub(drop, p->drop_base, sizeof(uint64_t) * dp_n_drops);
	memset(hw, 0, sizeof(*hw));
	if (p->kind == DP_PORT_ETHDEV && rte_eth_stats_get(p->id, &s) == 0) {
		hw->rx_missed = s.imissed - p->hw_base.imissed;
		hw->rx_errors = s.ierrors - p->hw_base.ierrors;
		hw->rx_nombuf = s.rx_nombuf - p->hw_base.rx_nombuf;
		hw->tx_errors = s.oerrors - p->hw_base.oerrors;
	}
}

void dp_stats_worker(unsigned idx, struct dp_worker_counters *out)
{
	sum_worker(idx, out);
	dp_cnt_sub(out, &worker_base[idx], sizeof(*out));
}

void dp_stats_port_rebase(struct dp_port *p)
{
	sum_port(p->id, &p->base, p->drop_base);
	if (p->kind != DP_PORT_ETHDEV || rte_eth_stats_get(p->id, &p->hw_base) != 0)
		memset(&p->hw_base, 0, sizeof(p->hw_base));
}

void dp_stats_reset(void)
{
	DP_PORT_FOREACH (p) {
		dp_stats_port_rebase(p);
	}
	for (unsigned w = 0; w < dp_worker_count(); w++)
		sum_worker(w, &worker_base[w]);
	for (unsigned i = 0; i < dp_n_stages; i++)
		dp_cnt_sum(&stage_base[i], sizeof(stage_base[i]), stage_of, i);
	sum_drops(drop_base);
	TESS_MODULE_FOREACH (m) {
		if (m->stats_reset)
			m->stats_reset();
	}
	reset_tsc = rte_rdtsc();
}

double dp_stats_age(void)
{
	return (double)(rte_rdtsc() - reset_tsc) / (double)rte_get_tsc_hz();
}

static json_t *port_json(const struct dp_port *p)
{
	struct dp_counters c;
	uint64_t drop[DP_MAX_DROPS];
	struct dp_hw_drops hw;
	uint64_t total = 0;
	json_t *drops = json_object();

	dp_stats_port(p, &c, drop, &hw);
	/* Every reason of every module, zero or not: a port may meet any of them. */
	for (unsigned d = 1; d < dp_n_drops; d++) {
		json_object_set_new(drops, dp_drop_name(d), json_integer((json_int_t)drop[d]));
		total += drop[d];
	}
	json_object_set_new(drops, "rx_missed", json_integer((json_int_t)hw.rx_missed));
	json_object_set_new(drops, "rx_errors", json_integer((json_int_t)hw.rx_errors));
	json_object_set_new(drops, "rx_nombuf", json_integer((json_int_t)hw.rx_nombuf));
	json_object_set_new(drops, "tx_errors", json_integer((json_int_t)hw.tx_errors));
	total += hw.rx_missed + hw.rx_errors + hw.rx_nombuf + hw.tx_errors;
	return json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "name", p->cfg.name,
			 "port_id", p->id, "rx_packets", (json_int_t)c.rx_pkts, "rx_bytes",
			 (json_int_t)c.rx_bytes, "tx_packets", (json_int_t)c.tx_pkts, "tx_bytes",
			 (json_int_t)c.tx_bytes, "flooded", (json_int_t)c.flooded, "drops_total",
			 (json_int_t)total, "drops", drops);
}

static json_t *worker_json(unsigned idx)
{
	const struct dp_worker *w = dp_worker_get(idx);
	struct dp_worker_counters c;
	double cpp, busy;

	dp_stats_worker(idx, &c);
	cpp = c.pkts ? (double)c.busy_cycles / (double)c.pkts : 0;
	busy = c.busy_cycles + c.idle_cycles
		       ? 100.0 * (double)c.busy_cycles / (double)(c.busy_cycles + c.idle_cycles)
		       : 0;
	json_t *rxq = json_array();
	const struct dp_snapshot *s = dp_snap;
	for (uint16_t i = 0; i < s->n_rxq[idx]; i++) {
		const struct dp_port *p = dp_port_by_id(s->rxq[idx][i].port);
		if (p)
			json_array_append_new(
				rxq, json_sprintf("%s:%u", p->cfg.name, s->rxq[idx][i].queue));
	}
	json_t *o = json_object();
	json_object_set_new(o, "worker", json_integer(idx));
	json_object_set_new(o, "lcore", json_integer(w->lcore));
	json_object_set_new(o, "cpu", json_integer(w->cpu));
	json_object_set_new(o, "rx_queues", rxq);
	json_object_set_new(o, "packets", json_integer((json_int_t)c.pkts));
	json_object_set_new(o, "busy_cycles", json_integer((json_int_t)c.busy_cycles));
	json_object_set_new(o, "idle_cycles", json_integer((json_int_t)c.idle_cycles));
	json_object_set_new(o, "busy_polls", json_integer((json_int_t)c.busy_polls));
	json_object_set_new(o, "idle_polls", json_integer((json_int_t)c.idle_polls));
	TESS_MODULE_FOREACH (m) {
		if (m->worker_json)
			m->worker_json(idx, o);
	}
	json_object_set_new(o, "cycles_per_packet", json_real(cpp));
	json_object_set_new(o, "busy_pct", json_real(busy));
	return o;
}

/* Per stage over all workers, as VPP's `show runtime`: calls, packets, its own cycles. */
static json_t *stages_json(void)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < dp_n_stages; i++) {
		const struct dp_stage *st = dp_stages[i];
		struct dp_stage_counters c;

		dp_cnt_sum(&c, sizeof(c), stage_of, i);
		dp_cnt_sub(&c, &stage_base[i], sizeof(c));
		/* Cycles are measured on timed bursts: per packet from those, in all scaled up. */
		double cpp = c.timed_pkts ? (double)c.cycles / (double)c.timed_pkts : 0.0;
		json_array_append_new(a,
				      json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f}",
						"name", st->name, "module", st->module, "arc",
						st->arc ? st->arc : st->name, "calls",
						(json_int_t)c.calls, "packets", (json_int_t)c.pkts,
						"timed_packets", (json_int_t)c.timed_pkts, "cycles",
						(json_int_t)(cpp * (double)c.pkts),
						"cycles_per_packet", cpp, "packets_per_call",
						c.calls ? (double)c.pkts / (double)c.calls : 0.0));
	}
	return a;
}

/* Every drop since the reset, by module and reason (VPP's `show errors`): reasons not met left out.
 */
static json_t *drops_json(void)
{
	uint64_t d[DP_MAX_DROPS];
	json_t *o = json_object();

	sum_drops(d);
	dp_cnt_sub(d, drop_base, sizeof(uint64_t) * dp_n_drops);
	for (unsigned id = 1; id < dp_n_drops; id++) {
		const char *mod = dp_drop_module(id);
		json_t *m = json_object_get(o, mod);

		if (m == NULL) {
			m = json_object();
			json_object_set_new(o, mod, m);
		}
		if (d[id])
			json_object_set_new(m, dp_drop_name(id), json_integer((json_int_t)d[id]));
	}
	return o;
}

json_t *dp_stats_json(const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *ports = json_array(), *workers = json_array();
	json_t *o;

	DP_PORT_FOREACH (p) {
		json_array_append_new(ports, port_json(p));
	}
	for (unsigned w = 0; w < dp_worker_count(); w++)
		json_array_append_new(workers, worker_json(w));
	o = json_pack("{s:f, s:I, s:o, s:o, s:o, s:o}", "seconds", dp_stats_age(), "tsc_hz",
		      (json_int_t)rte_get_tsc_hz(), "ports", ports, "workers", workers, "stages",
		      stages_json(), "drops", drops_json());
	/* Events slow subscribers missed (since start: a reset does not forget them). */
	struct tess_event_counters ec;
	tess_event_get_counters(&ec);
	json_object_set_new(o, "events_lost", json_integer((json_int_t)ec.dropped));
	TESS_MODULE_FOREACH (m) {
		if (m->stats_json)
			m->stats_json(o, cfg, vrf);
	}
	return o;
}
