/* SPDX-License-Identifier: BSD-3-Clause */
#include "stats.h"

#include <string.h>

#include <rte_cycles.h>

#include "router.h"
#include "switch.h"
#include "worker.h"

const char *const dp_drop_names[DP_DROP_MAX] = {
	[DP_DROP_NO_OUTPUT] = "no_output",
	[DP_DROP_BAD_FRAME] = "bad_frame",
	[DP_DROP_MTU_EXCEEDED] = "mtu_exceeded",
	[DP_DROP_TX_FULL] = "tx_full",
	[DP_DROP_TAGGED_ON_ACCESS] = "tagged_on_access",
	[DP_DROP_VLAN_NOT_CARRIED] = "vlan_not_carried",
	[DP_DROP_UNTAGGED_ON_TRUNK] = "untagged_on_trunk",
	[DP_DROP_BAD_SRC_MAC] = "bad_src_mac",
	[DP_DROP_SPOOFED_MAC] = "spoofed_mac",
	[DP_DROP_SPOOFED_IP] = "spoofed_ip",
	[DP_DROP_STORM] = "storm",
	[DP_DROP_LOCAL_DEST] = "local_dest",
	[DP_DROP_UNKNOWN_UNICAST] = "unknown_unicast",
	[DP_DROP_MULTICAST] = "multicast",
	[DP_DROP_NO_DESTINATION] = "no_destination",
	[DP_DROP_NO_MBUF] = "no_mbuf",
	[DP_DROP_PRIORITY_STACKED] = "priority_stacked",
	[DP_DROP_NOT_ROUTER_MAC] = "not_router_mac",
	[DP_DROP_NO_INTERFACE] = "no_interface",
	[DP_DROP_UNSUPPORTED] = "unsupported_ethertype",
	[DP_DROP_IP_HEADER] = "ip_header",
	[DP_DROP_IP_CHECKSUM] = "ip_checksum",
	[DP_DROP_MARTIAN_SRC] = "martian_source",
	[DP_DROP_BAD_DST] = "bad_destination",
	[DP_DROP_TTL_EXCEEDED] = "ttl_exceeded",
	[DP_DROP_NO_ROUTE] = "no_route",
	[DP_DROP_BLACKHOLE] = "blackhole",
	[DP_DROP_REJECT] = "reject",
	[DP_DROP_UNRESOLVED] = "unresolved",
	[DP_DROP_FRAG_NEEDED] = "fragmentation_needed",
	[DP_DROP_PUNT_LIMIT] = "punt_limit",
	[DP_DROP_LOCAL] = "local_unhandled",
	[DP_DROP_ARP] = "arp_ignored",
	[DP_DROP_SOURCE_ROUTE] = "source_route",
};

static struct dp_worker_counters worker_base[DP_MAX_WORKERS];
static uint64_t reset_tsc;

void dp_counters_sum(struct dp_counters *out,
		     const struct dp_counters *(*of)(unsigned w, unsigned i), unsigned i)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const struct dp_counters *c = of(w, i);
		out->rx_pkts += dp_cnt_read(&c->rx_pkts);
		out->rx_bytes += dp_cnt_read(&c->rx_bytes);
		out->tx_pkts += dp_cnt_read(&c->tx_pkts);
		out->tx_bytes += dp_cnt_read(&c->tx_bytes);
		out->flooded += dp_cnt_read(&c->flooded);
		out->punted += dp_cnt_read(&c->punted);
		for (int d = 0; d < DP_DROP_MAX; d++)
			out->drop[d] += dp_cnt_read(&c->drop[d]);
	}
}

void dp_counters_sub(struct dp_counters *a, const struct dp_counters *b)
{
	a->rx_pkts -= b->rx_pkts;
	a->rx_bytes -= b->rx_bytes;
	a->tx_pkts -= b->tx_pkts;
	a->tx_bytes -= b->tx_bytes;
	a->flooded -= b->flooded;
	a->punted -= b->punted;
	for (int d = 0; d < DP_DROP_MAX; d++)
		a->drop[d] -= b->drop[d];
}

static const struct dp_counters *port_of(unsigned w, unsigned id)
{
	return &dp_worker_get(w)->port[id];
}

static void sum_port(uint16_t id, struct dp_counters *out)
{
	dp_counters_sum(out, port_of, id);
}

static void sum_worker(unsigned idx, struct dp_worker_counters *out)
{
	const struct dp_worker_counters *c = &dp_worker_get(idx)->wc;

	out->busy_cycles = dp_cnt_read(&c->busy_cycles);
	out->idle_cycles = dp_cnt_read(&c->idle_cycles);
	out->pkts = dp_cnt_read(&c->pkts);
	out->busy_polls = dp_cnt_read(&c->busy_polls);
	out->idle_polls = dp_cnt_read(&c->idle_polls);
	out->learn_lost = dp_cnt_read(&c->learn_lost);
	out->learn_limited = dp_cnt_read(&c->learn_limited);
}

void dp_stats_port(const struct dp_port *p, struct dp_counters *out, struct dp_hw_drops *hw)
{
	struct rte_eth_stats s;

	sum_port(p->id, out);
	dp_counters_sub(out, &p->base);
	memset(hw, 0, sizeof(*hw));
	if (rte_eth_stats_get(p->id, &s) == 0) {
		hw->rx_missed = s.imissed - p->hw_base.imissed;
		hw->rx_errors = s.ierrors - p->hw_base.ierrors;
		hw->rx_nombuf = s.rx_nombuf - p->hw_base.rx_nombuf;
		hw->tx_errors = s.oerrors - p->hw_base.oerrors;
	}
}

void dp_stats_worker(unsigned idx, struct dp_worker_counters *out)
{
	const struct dp_worker_counters *b = &worker_base[idx];

	sum_worker(idx, out);
	out->busy_cycles -= b->busy_cycles;
	out->idle_cycles -= b->idle_cycles;
	out->pkts -= b->pkts;
	out->busy_polls -= b->busy_polls;
	out->idle_polls -= b->idle_polls;
	out->learn_lost -= b->learn_lost;
	out->learn_limited -= b->learn_limited;
}

void dp_stats_port_rebase(struct dp_port *p)
{
	sum_port(p->id, &p->base);
	if (rte_eth_stats_get(p->id, &p->hw_base) != 0)
		memset(&p->hw_base, 0, sizeof(p->hw_base));
}

void dp_stats_reset(void)
{
	DP_PORT_FOREACH (p) {
		dp_stats_port_rebase(p);
	}
	for (unsigned w = 0; w < dp_worker_count(); w++)
		sum_worker(w, &worker_base[w]);
	vsw_stats_reset();
	router_stats_reset();
	reset_tsc = rte_rdtsc();
}

double dp_stats_age(void)
{
	return (double)(rte_rdtsc() - reset_tsc) / (double)rte_get_tsc_hz();
}

static json_t *port_json(const struct dp_port *p)
{
	struct dp_counters c;
	struct dp_hw_drops hw;
	uint64_t total = 0;
	json_t *drops = json_object();

	dp_stats_port(p, &c, &hw);
	for (int d = 0; d < DP_DROP_MAX; d++) {
		json_object_set_new(drops, dp_drop_names[d], json_integer((json_int_t)c.drop[d]));
		total += c.drop[d];
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
	json_object_set_new(o, "learn_lost", json_integer((json_int_t)c.learn_lost));
	json_object_set_new(o, "learn_limited", json_integer((json_int_t)c.learn_limited));
	json_object_set_new(o, "cycles_per_packet", json_real(cpp));
	json_object_set_new(o, "busy_pct", json_real(busy));
	return o;
}

json_t *dp_stats_json(const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *ports = json_array(), *workers = json_array();

	DP_PORT_FOREACH (p) {
		json_array_append_new(ports, port_json(p));
	}
	for (unsigned w = 0; w < dp_worker_count(); w++)
		json_array_append_new(workers, worker_json(w));
	return json_pack("{s:f, s:I, s:o, s:o, s:o, s:o, s:o}", "seconds", dp_stats_age(), "tsc_hz",
			 (json_int_t)rte_get_tsc_hz(), "ports", ports, "workers", workers, "groups",
			 vsw_groups_json(cfg), "vrfs", router_vrfs_json(cfg, vrf), "interfaces",
			 router_ifaces_json(cfg, vrf));
}
