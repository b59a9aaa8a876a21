/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT44's API: sessions, counters, and changes of pools, instances and static mappings. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_cycles.h>

#include "apply.h"
#include "ctl_server.h"
#include "log.h"
#include "module.h"
#include "nat.h"
#include "nat_log_file.h"
#include "tessd.h"
#include "worker.h"

/* ---- counters ---- */

void nat_inst_sum(const struct nat_inst *n, struct nat_wcnt *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned w = 0; w <= dp_worker_count(); w++) {
		/* The workers', then the control thread's. */
		const struct nat_worker *nw = w < dp_worker_count()
						      ? dp_worker_mod(dp_worker_get(w), &nat_module)
						      : nat_ctl_cnt;

		if (nw == NULL)
			continue;
#define NAT_SUM(f) c->f += dp_cnt_read(&nw->cnt[n->slot].f);
		NAT_COUNTERS(NAT_SUM)
#undef NAT_SUM
	}
}

void nat_stats_reset(void)
{
	for (unsigned i = 0; i < NAT_MAX_SLOTS; i++)
		if (nat_slots[i])
			nat_inst_sum(nat_slots[i], &nat_slots[i]->base);
}

static json_t *inst_json(const struct nat_inst *n, const struct tessd_nat_inst_cfg *c)
{
	struct nat_wcnt v;
	json_t *o = json_object();

	nat_inst_sum(n, &v);
	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "inside_vrf", json_string(c->inside_vrf));
	json_object_set_new(o, "outside_vrf", json_string(c->outside_vrf));
	json_object_set_new(o, "sessions",
			    json_integer(conn_owner_count(nat_conn, nat_owner_sessions(n->slot))));
	json_object_set_new(o, "records",
			    json_integer(conn_owner_count(nat_conn, nat_owner_records(n->slot))));
	json_object_set_new(o, "max_sessions", json_integer(c->max_sessions));
	json_object_set_new(o, "blocks",
			    json_integer(__atomic_load_n(&n->blocks, __ATOMIC_RELAXED)));
	json_object_set_new(o, "max_blocks", json_integer(c->max_blocks));
#define NAT_JSON(f) json_object_set_new(o, #f, json_integer((json_int_t)(v.f - n->base.f)));
	NAT_COUNTERS(NAT_JSON)
#undef NAT_JSON
	return o;
}

static const struct nat_inst *inst_named(const char *name)
{
	for (unsigned i = 0; i < NAT_MAX_SLOTS; i++)
		if (nat_slots[i] && nat_slots[i]->live && strcmp(nat_slots[i]->name, name) == 0)
			return nat_slots[i];
	return NULL;
}

static json_t *instances_json(const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < cfg->nat.n_instances; i++) {
		const struct tessd_nat_inst_cfg *c = &cfg->nat.instances[i];
		const struct nat_inst *n = inst_named(c->name);

		if (n && (vrf == NULL || strcmp(vrf, c->inside_vrf) == 0))
			json_array_append_new(a, inst_json(n, c));
	}
	return a;
}

static json_t *table_json(void)
{
	struct conn_stats st;
	json_t *o = json_object();

	conn_stats_get(nat_conn, &st);
	json_object_set_new(o, "capacity", json_integer(nat_conn->capacity));
	json_object_set_new(o, "live", json_integer((json_int_t)st.live));
	json_object_set_new(o, "created", json_integer((json_int_t)st.created));
	json_object_set_new(o, "expired", json_integer((json_int_t)st.expired));
	json_object_set_new(o, "removed", json_integer((json_int_t)st.removed));
	json_object_set_new(o, "table_full", json_integer((json_int_t)st.table_full));
	json_object_set_new(o, "tenant_limit", json_integer((json_int_t)st.tenant_limit));
	json_object_set_new(o, "clash", json_integer((json_int_t)st.clash));
	json_object_set_new(o, "borrowed", json_integer((json_int_t)st.borrowed));
	return o;
}

void nat_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf)
{
	json_object_set_new(stats, "nat", instances_json(cfg, vrf));
}

struct vrf_filter {
	char vrf[TESS_NAME_LEN];
};

static int nat_stats_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct vrf_filter *f = params;
	json_t *o = json_object();

	if (f->vrf[0] && tessd_cfg_vrf(&tessd.cfg, f->vrf) == NULL) {
		json_decref(o);
		ctl_error_set(err, ENOENT, "/params/vrf", "no VRF %s", f->vrf);
		return -ENOENT;
	}
	json_object_set_new(o, "table", table_json());
	json_object_set_new(o, "instances", instances_json(&tessd.cfg, f->vrf[0] ? f->vrf : NULL));
	json_object_set_new(o, "log", json_object());
	nat_log_json(json_object_get(o, "log"));
	*result = o;
	return 0;
}

/* ---- logging ---- */

static int nat_log_api(const void *params, json_t **result, struct ctl_error *err)
{
	(void)params;
	(void)err;
	*result = json_object();
	nat_log_json(*result);
	return 0;
}

/* Replaces nat.logging whole, through a commit (all or nothing). */
static int nat_log_set(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_nat_log_cfg *c = params;
	struct tessd_cfg cand;
	int rc;

	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	cand.nat.logging = *c; /* flat: no pointers to copy */
	rc = dp_validate(&cand, "/nat/logging", "/params", err);
	if (rc == 0 && c->path[0] &&
	    (rc = nat_log_file_probe(tessd_nat_log_root(&cand, c->path), c->path)) < 0)
		ctl_error_set(err, -rc, "/params/path", "%s: %s", c->path,
			      rc == -EINVAL  ? "not a regular file"
			      : rc == -EPERM ? "its directory is another's or writable by others"
					     : strerror(-rc));
	if (rc < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	if ((rc = dp_commit(&cand, err)) < 0)
		return rc;
	DP_LOG(INFO, "nat logging %s%s", c->path[0] ? "to " : "off", c->path);
	*result = json_object();
	nat_log_json(*result);
	return 0;
}

/* ---- sessions ---- */

struct session_filter {
	char vrf[TESS_NAME_LEN];
	uint32_t address; /* host order; 0: any */
	uint32_t limit;
};

struct session_walk {
	const struct session_filter *f;
	json_t *a;
	uint64_t now;
	uint16_t vrf; /* inside VRF id */
	bool any_vrf;
};

static void put_ep(json_t *o, const char *key, uint32_t addr, uint16_t port)
{
	char b[INET_ADDRSTRLEN + 8], a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(b, sizeof(b), "%s:%u", a, rte_be_to_cpu_16(port));
	json_object_set_new(o, key, json_string(b));
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP    ? "tcp"
	       : p == IPPROTO_UDP  ? "udp"
	       : p == IPPROTO_ICMP ? "icmp"
				   : "?";
}

static int session_one(void *arg, struct conn_entry *e)
{
	struct session_walk *sw = arg;
	uint64_t kind = e->user[0] & NAT_KIND_MASK;
	const struct nat_inst *n = nat_slots[e->owner / 2];
	const struct conn_tuple *ik, *ok;
	json_t *o;
	int in;

	if ((kind != NAT_SESSION_PAT && kind != NAT_SESSION_STATIC) || n == NULL || !n->live)
		return 0;
	/* Which key is the inside one: an inbound-made (static) session's reply tuple. */
	in = e->key[CONN_ORIG].vrf == n->in_vrf ? CONN_ORIG : CONN_REPLY;
	ik = &e->key[in];
	ok = &e->key[1 - in];
	if (!sw->any_vrf && n->in_vrf != sw->vrf)
		return 0;
	if (sw->f->address && ik->src != htonl(sw->f->address) &&
	    ok->dst != htonl(sw->f->address) && ik->dst != htonl(sw->f->address))
		return 0;
	if (json_array_size(sw->a) >= sw->f->limit)
		return 1;
	o = json_object();
	json_object_set_new(o, "instance", json_string(n->name));
	json_object_set_new(o, "proto", json_string(proto_name(ik->proto)));
	put_ep(o, "inside", ik->src, ik->sport);
	put_ep(o, "outside", ok->dst, ok->dport);
	put_ep(o, "remote", ik->dst, ik->dport);
	json_object_set_new(o, "initiated", json_string(in == CONN_ORIG ? "inside" : "outside"));
	json_object_set_new(o, "kind", json_string(kind == NAT_SESSION_PAT ? "pat" : "static"));
	json_object_set_new(o, "state", json_string(conn_state_name(conn_state_of(e))));
	json_object_set_new(o, "expires_in",
			    json_integer((json_int_t)conn_expires_in(nat_conn, e, sw->now)));
	json_array_append_new(sw->a, o);
	return 0;
}

static int nat_sessions_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct session_filter *f = params;
	struct session_walk sw = { .f = f, .a = json_array(), .now = rte_rdtsc(), .any_vrf = true };

	if (f->vrf[0]) {
		const struct tessd_vrf_cfg *v = tessd_cfg_vrf(&tessd.cfg, f->vrf);

		if (v == NULL) {
			json_decref(sw.a);
			ctl_error_set(err, ENOENT, "/params/vrf", "no VRF %s", f->vrf);
			return -ENOENT;
		}
		sw.vrf = v->id;
		sw.any_vrf = false;
	}
	conn_foreach(nat_conn, session_one, &sw);
	*result = sw.a;
	return 0;
}

/* ---- changes, through the one apply path ---- */

static int inst_index(const char *name, const char *path, struct ctl_error *err)
{
	for (uint32_t i = 0; i < tessd.cfg.nat.n_instances; i++)
		if (strcmp(tessd.cfg.nat.instances[i].name, name) == 0)
			return (int)i;
	ctl_error_set(err, ENOENT, path, "no NAT instance %s", name);
	return -ENOENT;
}

static int nat_inst_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_nat_inst_cfg *c = params;
	const struct dp_edit e = { .op = DP_EDIT_ADD, .array = "/nat/instances", .item = c };

	return dp_edit(&e, result, err, "NAT instance %s added", c->name);
}

/* Replaces an instance whole: limits and timeouts keep its sessions, VRFs or pool do not. */
static int nat_inst_set(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_nat_inst_cfg *c = params;
	int i = inst_index(c->name, "/params/name", err);
	struct dp_edit e = { .op = DP_EDIT_SET, .array = "/nat/instances", .item = c };

	if (i < 0)
		return i;
	e.index = (uint32_t)i;
	return dp_edit(&e, result, err, "NAT instance %s changed", c->name);
}

static int nat_inst_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *p = params;
	int i = inst_index(p->name, "/params/name", err);
	struct dp_edit e = { .op = DP_EDIT_DEL,
			     .array = "/nat/instances",
			     .answer = dp_answer_name };

	if (i < 0)
		return i;
	e.index = (uint32_t)i;
	return dp_edit(&e, result, err, "NAT instance %s removed", p->name);
}

struct static_params {
	char instance[TESS_NAME_LEN];
	struct tessd_nat_static_cfg s;
};

static int nat_static_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct static_params *p = params;
	int i = inst_index(p->instance, "/params/instance", err);
	char array[64];
	struct dp_edit e = { .op = DP_EDIT_ADD, .array = array, .item = &p->s };
	char a[INET_ADDRSTRLEN];

	if (i < 0)
		return i;
	snprintf(array, sizeof(array), "/nat/instances/%d/statics", i);
	cfg_fmt_ip4(p->s.outside, a, sizeof(a));
	return dp_edit(&e, result, err, "NAT instance %s: static mapping of %s added", p->instance,
		       a);
}

static int nat_static_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct static_params *p = params;
	int i = inst_index(p->instance, "/params/instance", err);
	char array[64], a[INET_ADDRSTRLEN];
	struct dp_edit e = { .op = DP_EDIT_DEL, .array = array };
	const struct tessd_nat_inst_cfg *c;

	if (i < 0)
		return i;
	c = &tessd.cfg.nat.instances[i];
	cfg_fmt_ip4(p->s.outside, a, sizeof(a));
	for (uint32_t k = 0; k < c->n_statics; k++) {
		const struct tessd_nat_static_cfg *s = &c->statics[k];

		if (s->outside != p->s.outside || s->proto != p->s.proto ||
		    s->outside_port != p->s.outside_port)
			continue;
		snprintf(array, sizeof(array), "/nat/instances/%d/statics", i);
		e.index = k;
		return dp_edit(&e, result, err, "NAT instance %s: static mapping of %s removed",
			       p->instance, a);
	}
	ctl_error_set(err, ENOENT, "/params/outside", "instance %s has no such mapping of %s",
		      p->instance, a);
	return -ENOENT;
}

/* ---- params ---- */

static const struct cfg_field vrf_filter_fields[] = {
	CFG_FIELD(struct vrf_filter, vrf, "vrf", &tessd_opt_name_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_node vrf_filter_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = vrf_filter_fields, .size = sizeof(struct vrf_filter) },
};

static const struct cfg_field session_fields[] = {
	CFG_FIELD(struct session_filter, vrf, "vrf", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct session_filter, address, "address",
		  (&(const struct cfg_node){ .type = CFG_IP4, .str = { .max_len = 15 } }), false,
		  "\"\""),
	CFG_FIELD(struct session_filter, limit, "limit",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 100000 } }), false, "1000"),
	{ 0 },
};
static const struct cfg_node session_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = session_fields, .size = sizeof(struct session_filter) },
};

/* Fields shared by static.add and static.del (macros: clang wants constants in initializers). */
#define F_INSTANCE \
	CFG_FIELD(struct static_params, instance, "instance", &tessd_name_schema, true, NULL)
#define F_OUTSIDE \
	CFG_FIELD(struct static_params, s.outside, "outside", &tessd_ip4_schema, true, NULL)
#define F_PROTO                                                                          \
	CFG_FIELD(struct static_params, s.proto, "proto",                                \
		  (&(const struct cfg_node){ .type = CFG_ENUM,                           \
					     .str = { .max_len = TESS_NAT_PROTO_LEN - 1, \
						      .choices = tess_nat_protos } }),   \
		  false, "\"all\"")
#define F_OUTSIDE_PORT                                                  \
	CFG_FIELD(struct static_params, s.outside_port, "outside_port", \
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 65535 } }), false, "0")

static const struct cfg_field static_param_fields[] = {
	F_INSTANCE,
	F_OUTSIDE,
	CFG_FIELD(struct static_params, s.inside, "inside", &tessd_ip4_schema, true, NULL),
	F_PROTO,
	F_OUTSIDE_PORT,
	CFG_FIELD(struct static_params, s.inside_port, "inside_port",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 65535 } }), false, "0"),
	{ 0 },
};
static const struct cfg_node static_param_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = static_param_fields, .size = sizeof(struct static_params) },
};
/* A mapping to remove, by what publishes it: instance, outside address, proto and port. */
static const struct cfg_field static_del_fields[] = {
	F_INSTANCE, F_OUTSIDE, F_PROTO, F_OUTSIDE_PORT, { 0 },
};
static const struct cfg_node static_del_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = static_del_fields, .size = sizeof(struct static_params) },
};

const struct ctl_method nat_methods[] = {
	{ "nat.sessions", &session_schema, nat_sessions_api,
	  "NAT sessions (of a VRF, an inside, outside or remote address; at most limit)" },
	{ "nat.stats", &vrf_filter_schema, nat_stats_api,
	  "NAT session table and per-instance counters" },
	{ "nat.log", NULL, nat_log_api,
	  "NAT logging: its file, mode and counters (records, lost, bytes, rotations, "
	  "write_errors)" },
	{ "nat.log.set", &tessd_nat_log_schema, nat_log_set,
	  "replace nat.logging (path \"\": off); committed as a whole" },
	{ "nat.instance.add", &tessd_nat_inst_schema, nat_inst_add, "add a NAT instance" },
	{ "nat.instance.set", &tessd_nat_inst_schema, nat_inst_set,
	  "replace a NAT instance (limits, timeouts and statics keep its sessions)" },
	{ "nat.instance.del", &tessd_name_params_schema, nat_inst_del,
	  "remove a NAT instance and its sessions" },
	{ "nat.static.add", &static_param_schema, nat_static_add,
	  "add a static mapping (1:1 or port forward) to a NAT instance" },
	{ "nat.static.del", &static_del_schema, nat_static_del,
	  "remove a static mapping (by outside address, proto and outside_port)" },
	{ 0 },
};
