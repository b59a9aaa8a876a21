/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policer module (control thread): attachments ((object, direction)
 * pairs) get stable slots, so that their meters and counters survive
 * changes of other objects; build resolves names to the ids the hooks use
 * and marks them in the snapshot; sync makes the new slots current.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "hook.h"
#include "log.h"
#include "policer_int.h"
#include "policer_meter.h"
#include "port.h"
#include "rcu.h"
#include "router_int.h"
#include "stats.h"
#include "tessd.h"
#include "worker.h"

/* An attachment as the control thread keeps it. */
struct pol_slot {
	bool used;
	uint8_t kind, dir;
	uint16_t id;
	uint16_t share; /* workers its rate is split over */
	char obj[TESS_NAME_LEN];
	char policer[TESS_NAME_LEN];
	struct pol_profile prof;
	struct pol_counters base; /* counters at its start or the last reset */
	/* Freed, reusable once the RCU grace period of freed_token has passed. */
	bool grace;
	uint64_t freed_token;
};

static struct pol_slot *cur, *pending; /* [POL_METERS]: published, and being built */
static uint32_t next_gen = 1;

static const char *const kind_names[DP_HOOK_KINDS] = { "port", "group", "vrf", "interface" };

static int pol_init(const struct tessd_cfg *cfg)
{
	(void)cfg;
	cur = rte_zmalloc("tess_pol_slots", sizeof(*cur) * POL_METERS, 0);
	pending = rte_zmalloc("tess_pol_pending", sizeof(*pending) * POL_METERS, 0);
	if (cur == NULL || pending == NULL)
		return -ENOMEM;
	return 0;
}

static void pol_fini(void)
{
	rte_free(cur);
	rte_free(pending);
	cur = pending = NULL;
}

static int pol_worker_init(struct dp_worker *w, int socket)
{
	w->mod[pol_module.id] = rte_zmalloc_socket("tess_pol_worker", sizeof(struct pol_worker),
						   RTE_CACHE_LINE_SIZE, socket);
	return w->mod[pol_module.id] ? 0 : -ENOMEM;
}

static void pol_worker_fini(struct dp_worker *w)
{
	rte_free(w->mod[pol_module.id]);
	w->mod[pol_module.id] = NULL;
}

static const void *cnt_of(unsigned w, unsigned i)
{
	const struct pol_worker *pw = dp_worker_get(w)->mod[pol_module.id];

	return &pw->cnt[i];
}

static void sum_slot(unsigned i, struct pol_counters *out)
{
	dp_cnt_sum(out, sizeof(*out), cnt_of, i);
}

/* The id hooks know an object by; false if it has none now (a port being removed). */
static bool resolve(const struct tessd_cfg *cfg, unsigned kind, const char *name, uint16_t *id,
		    uint16_t *rxq)
{
	*rxq = 0;
	if (kind == DP_HOOK_PORT) {
		const struct dp_port *p = dp_port_by_name(name);
		if (p == NULL || p->draining)
			return false;
		*id = p->id;
		*rxq = p->n_rxq;
	} else if (kind == DP_HOOK_GROUP) {
		const struct tessd_group_cfg *g = tessd_cfg_group(cfg, name);
		*id = g ? g->vlan : 0;
	} else if (kind == DP_HOOK_VRF) {
		const struct tessd_vrf_cfg *v = tessd_cfg_vrf(cfg, name);
		*id = v ? v->id : 0;
	} else {
		*id = rt_iface_id(name);
	}
	return *id != 0 || kind == DP_HOOK_PORT;
}

static int find_slot(unsigned kind, unsigned dir, const char *name)
{
	for (int i = 0; i < POL_METERS; i++)
		if (pending[i].used && pending[i].kind == kind && pending[i].dir == dir &&
		    strcmp(pending[i].obj, name) == 0)
			return i;
	return -1;
}

/*
 * Whether a freed slot's grace period is over: a worker still on a
 * snapshot older than the one that freed it would count into it after its
 * new owner sampled its base.
 */
static bool slot_quiet(struct pol_slot *sl)
{
	if (sl->grace && dp_rcu_qsv && rte_rcu_qsbr_check(dp_rcu_qsv, sl->freed_token, false) != 1)
		return false;
	sl->grace = false;
	return true;
}

/* A slot free in the published state too, and past its grace period: no worker counts on it. */
static int new_slot(void)
{
	for (int i = 0; i < POL_METERS; i++)
		if (!cur[i].used && !pending[i].used && slot_quiet(&pending[i])) {
			memset(&pending[i], 0, sizeof(pending[i]));
			sum_slot((unsigned)i, &pending[i].base);
			pending[i].used = true;
			return i;
		}
	return -1;
}

/*
 * The largest frame any port takes: its MTU, the Ethernet header and two
 * VLAN tags (QinQ). Every worker's bucket must hold one.
 */
static uint32_t max_frame_of(const struct tessd_cfg *cfg)
{
	uint32_t mtu = RTE_ETHER_MTU;

	for (uint32_t i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].mtu > mtu)
			mtu = cfg->ports[i].mtu;
	return mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN;
}

/* One (object, direction) of policer c into the snapshot being built. */
static int attach(struct dp_snapshot *s, const struct tessd_cfg *cfg,
		  const struct tessd_policer_cfg *c, unsigned kind, unsigned dir, const char *name,
		  bool *seen, struct ctl_error *err)
{
	struct pol_part *pp = s->part[pol_module.id];
	struct pol_profile prof;
	uint16_t id, rxq;
	int i, rc;

	if (!resolve(cfg, kind, name, &id, &rxq))
		return 0;
	/* Only a port's ingress with one RX queue is met by one worker alone. */
	unsigned share = kind == DP_HOOK_PORT && dir == DP_HOOK_IN && rxq == 1
				 ? 1
				 : (dp_worker_count() ? dp_worker_count() : 1);
	rc = pol_profile_make(&prof, c, share, max_frame_of(cfg));
	if (rc < 0) {
		ctl_error_set(err, -rc, "", "policer %s: rte_meter refuses its rates: %s", c->name,
			      strerror(-rc));
		return rc;
	}
	i = find_slot(kind, dir, name);
	if (i < 0 && (i = new_slot()) < 0) {
		ctl_error_set(err, ENOSPC, "",
			      "policer %s: no free meter slot (%u; slots this change or one just "
			      "before freed are free once no worker uses them: retry)",
			      c->name, POL_METERS);
		return -ENOSPC;
	}
	struct pol_slot *sl = &pending[i];
	prof.gen = sl->prof.gen;
	if (prof.gen == 0 || memcmp(&prof, &sl->prof, sizeof(prof)) != 0)
		prof.gen = next_gen++; /* workers make their meter afresh */
	sl->kind = (uint8_t)kind;
	sl->dir = (uint8_t)dir;
	sl->id = id;
	sl->share = (uint16_t)share;
	snprintf(sl->obj, sizeof(sl->obj), "%s", name);
	snprintf(sl->policer, sizeof(sl->policer), "%s", c->name);
	sl->prof = prof;
	seen[i] = true;
	pp->slot[kind][dir][id] = (uint16_t)i;
	pp->prof[i] = prof;
	dp_hook_mark(s, &pol_dp_hook, kind, dir, id);
	return 0;
}

static int attach_all(struct dp_snapshot *s, const struct tessd_cfg *cfg,
		      const struct tessd_policer_cfg *c, bool *seen, struct ctl_error *err)
{
	const struct {
		char (*names)[TESS_NAME_LEN];
		uint32_t n;
	} objs[DP_HOOK_KINDS] = {
		[DP_HOOK_PORT] = { c->ports, c->n_ports },
		[DP_HOOK_GROUP] = { c->groups, c->n_groups },
		[DP_HOOK_VRF] = { c->vrfs, c->n_vrfs },
		[DP_HOOK_IFACE] = { c->interfaces, c->n_interfaces },
	};
	int rc;

	for (unsigned k = 0; k < DP_HOOK_KINDS; k++)
		for (uint32_t j = 0; j < objs[k].n; j++)
			for (unsigned d = 0; d < DP_HOOK_DIRS; d++) {
				if (c->direction != TESS_POL_BOTH && c->direction != d)
					continue;
				rc = attach(s, cfg, c, k, d, objs[k].names[j], seen, err);
				if (rc < 0)
					return rc;
			}
	return 0;
}

static int pol_build(struct dp_snapshot *s, const struct tessd_cfg *cfg, struct ctl_error *err)
{
	static bool seen[POL_METERS];
	int rc;

	memcpy(pending, cur, sizeof(*cur) * POL_METERS);
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < cfg->n_policers; i++) {
		rc = attach_all(s, cfg, &cfg->policers[i], seen, err);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < POL_METERS; i++)
		if (!seen[i])
			pending[i].used = false;
	return 0;
}

/* The snapshot built last is published: its slots are the current ones. */
static void pol_sync(const struct tessd_cfg *old, const struct tessd_cfg *now)
{
	uint64_t token = 0;

	(void)old;
	(void)now;
	/* The snapshot without them is published: workers leave the old one from now on. */
	for (unsigned i = 0; i < POL_METERS; i++)
		if (cur[i].used && !pending[i].used) {
			if (token == 0 && dp_rcu_qsv)
				token = rte_rcu_qsbr_start(dp_rcu_qsv);
			pending[i].grace = true;
			pending[i].freed_token = token;
		}
	memcpy(cur, pending, sizeof(*cur) * POL_METERS);
}

static void pol_stats_reset(void)
{
	for (unsigned i = 0; i < POL_METERS; i++)
		if (cur[i].used)
			sum_slot(i, &cur[i].base);
}

static json_t *slot_json(unsigned i)
{
	static const char *const col[RTE_COLORS] = { "green", "yellow", "red" };
	const struct pol_slot *sl = &cur[i];
	struct pol_counters c;
	char key[32];
	json_t *o;

	sum_slot(i, &c);
	dp_cnt_sub(&c, &sl->base, sizeof(c));
	o = json_pack("{s:s, s:s, s:s, s:i}", "kind", kind_names[sl->kind], "object", sl->obj,
		      "direction", tess_pol_dirs[sl->dir], "workers_sharing", sl->share);
	for (unsigned k = 0; k < RTE_COLORS; k++) {
		snprintf(key, sizeof(key), "%s_packets", col[k]);
		json_object_set_new(o, key, json_integer((json_int_t)c.pkts[k]));
		snprintf(key, sizeof(key), "%s_bytes", col[k]);
		json_object_set_new(o, key, json_integer((json_int_t)c.bytes[k]));
	}
	json_object_set_new(o, "dropped", json_integer((json_int_t)c.dropped));
	json_object_set_new(o, "remarked", json_integer((json_int_t)c.remarked));
	return o;
}

json_t *pol_list_json(const struct tessd_cfg *cfg)
{
	json_t *a = json_array();

	for (uint32_t p = 0; p < cfg->n_policers; p++) {
		const struct tessd_policer_cfg *c = &cfg->policers[p];
		json_t *o = cfg_encode(&tessd_policer_schema, c), *att = json_array();

		for (unsigned i = 0; i < POL_METERS; i++)
			if (cur[i].used && strcmp(cur[i].policer, c->name) == 0)
				json_array_append_new(att, slot_json(i));
		json_object_set_new(o, "attachments", att);
		json_array_append_new(a, o);
	}
	return a;
}

static void pol_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf)
{
	if (vrf == NULL)
		json_object_set_new(stats, "policers", pol_list_json(cfg));
}

static int pol_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	int rc = cfg_check_refs_in(&tessd_cfg_schema, cfg, "policers", errs);

	return tessd_policers_validate(cfg, errs) < 0 ? -EINVAL : rc;
}

static const char *const pol_depends[] = { "vswitch", "router", NULL };

struct tess_module pol_module = {
	.name = "policer",
	.depends = pol_depends,
	.validate = pol_validate,
	.init = pol_init,
	.fini = pol_fini,
	.worker_init = pol_worker_init,
	.worker_fini = pol_worker_fini,
	.part_size = sizeof(struct pol_part),
	.build = pol_build,
	.sync = pol_sync,
	.stats_reset = pol_stats_reset,
	.stats_json = pol_stats_json,
	.methods = pol_methods,
};
TESS_MODULE_REGISTER(pol_module)
