/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant networks: a change planned as steps on tessds, run all or nothing, undone. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "events.h"
#include "http.h"
#include "network_priv.h"
#include "vswitch.h"
#include "tlog.h"

static pthread_mutex_t net_lock = PTHREAD_MUTEX_INITIALIZER;

struct step {
	char socket[MGR_URI_LEN]; /* the tessd's address */
	char what[160];
	const char *method, *undo_method; /* undo_method NULL: nothing to undo */
	json_t *params, *undo_params;
	bool group_add; /* group.add: skipped (and not undone) when the VLAN has a group */
	uint16_t vlan;
	bool lan_step; /* the group's set between desktops made as lan says */
	struct net_lan_want lan;
	bool done;
};

struct plan {
	struct step *s;
	uint32_t n;
	/* For the "network" event once it ran: whose network, and how it changed. */
	char tenant[MGR_NAME_LEN];
	uint32_t tenant_id; /* 0: a tenant not created yet (the provider's event only) */
	const char *change; /* "added", "changed", "removed" */
};

static struct step *plan_add(struct plan *p)
{
	struct step *a = realloc(p->s, (p->n + 1) * sizeof(*a));

	if (a == NULL)
		return NULL;
	p->s = a;
	memset(&a[p->n], 0, sizeof(*a));
	return &a[p->n++];
}

static void plan_free(struct plan *p)
{
	for (uint32_t i = 0; i < p->n; i++) {
		json_decref(p->s[i].params);
		json_decref(p->s[i].undo_params);
		net_lan_free(&p->s[i].lan);
	}
	free(p->s);
	p->s = NULL;
	p->n = 0;
}

/* Host h's group of t's VLAN deleted, or added (kept if the VLAN has one). */
static int group_step(struct plan *p, const struct mgr_host *h, const struct mgr_tenant_spec *t,
		      bool add)
{
	struct step *s = plan_add(p);

	if (s == NULL)
		return -ENOMEM;
	snprintf(s->socket, sizeof(s->socket), "%s", h->spec.tessd);
	snprintf(s->what, sizeof(s->what), "host %s", h->spec.name);
	json_t *name = json_pack("{s:s}", "name", t->vlan_name);
	s->method = add ? "group.add" : "group.del";
	s->params = add ? net_group_params(t) : name;
	s->undo_method = add ? "group.del" : "group.add";
	s->undo_params = add ? name : net_group_params(t);
	s->group_add = add;
	s->vlan = t->vlan;
	return 0;
}

/* Host h's group of t's VLAN given t's policy between desktops (on), or taken away. */
static int lan_step(struct plan *p, const struct mgr_host *h, const struct mgr_tenant_spec *t,
		    bool on)
{
	struct step *s = plan_add(p);

	if (s == NULL)
		return -ENOMEM;
	snprintf(s->socket, sizeof(s->socket), "%s", h->spec.tessd);
	snprintf(s->what, sizeof(s->what), "host %s", h->spec.name);
	net_lan_want(&s->lan, t, on);
	s->method = "config.batch"; /* its edits are found when it runs: undone by its undo */
	s->lan_step = true;
	return 0;
}

/* What t wants of its group at a host it reaches (NULL: nothing), to compare two specs. */
static json_t *lan_of(const struct mgr_tenant_spec *t, bool reaches)
{
	struct net_lan_want w;

	if (!reaches || !net_lan_on(t))
		return NULL;
	net_lan_want(&w, t, true);
	json_t *o = json_pack("{s:O*, s:O}", "set", w.set, "guard", w.guard);
	net_lan_free(&w);
	return o;
}

static int plan_build(struct plan *p, const struct mgr_tenant_spec *old,
		      const struct mgr_tenant_spec *new)
{
	/* PE routers: one batch each, its undo the reverse batch. */
	for (uint32_t i = 0; i < mgr.n_routers; i++) {
		const struct mgr_router *r = &mgr.routers[i];
		bool in_old = net_serves(old, r->spec.name), in_new = net_serves(new, r->spec.name);
		if (!in_old && !in_new)
			continue;
		json_t *adds_old = in_old ? net_pe_adds(old, &r->spec) : json_array();
		json_t *adds_new = in_new ? net_pe_adds(new, &r->spec) : json_array();
		bool same = json_equal(adds_old, adds_new);
		json_decref(adds_old);
		json_decref(adds_new);
		if (same)
			continue;
		json_t *doit = json_array(), *undo = json_array();
		if (in_old)
			net_pe_dels(doit, old, &r->spec);
		if (in_new) {
			json_t *adds = net_pe_adds(new, &r->spec);
			json_array_extend(doit, adds);
			json_decref(adds);
			net_pe_dels(undo, new, &r->spec);
		}
		if (in_old) {
			json_t *adds = net_pe_adds(old, &r->spec);
			json_array_extend(undo, adds);
			json_decref(adds);
		}
		struct step *s = plan_add(p);
		if (s == NULL) {
			json_decref(doit);
			json_decref(undo);
			return -ENOMEM;
		}
		snprintf(s->socket, sizeof(s->socket), "%s", r->spec.tessd);
		snprintf(s->what, sizeof(s->what), "router %s", r->spec.name);
		s->method = "config.batch";
		s->params = json_pack("{s:o}", "edits", doit);
		s->undo_method = "config.batch";
		s->undo_params = json_pack("{s:o}", "edits", undo);
	}
	/* Hosts: the port group of the tenant's VLAN, where the host reaches it, with its set
	 * between desktops; a group goes after its set, and comes before it. */
	for (uint32_t i = 0; i < mgr.n_hosts; i++) {
		const struct mgr_host *h = mgr.hosts[i];
		bool r_old = old && net_host_reaches(h, old),
		     r_new = new &&net_host_reaches(h, new);
		json_t *lan_old = lan_of(old, r_old), *lan_new = lan_of(new, r_new);
		int rc = 0;
		if (r_old && r_new &&
		    old->vlan == new->vlan &&strcmp(old->vlan_name, new->vlan_name) == 0) {
			/* (json_equal is false for two NULLs) */
			if (lan_old != lan_new && !json_equal(lan_old, lan_new))
				rc = lan_step(p, h, lan_new ? new : old, lan_new != NULL);
		} else {
			if (lan_old)
				rc = lan_step(p, h, old, false);
			if (rc == 0 && r_old)
				rc = group_step(p, h, old, false);
			if (rc == 0 && r_new)
				rc = group_step(p, h, new, true);
			if (rc == 0 && lan_new)
				rc = lan_step(p, h, new, true);
		}
		json_decref(lan_old);
		json_decref(lan_new);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int step_run(struct step *s, char *err, size_t len, bool *down)
{
	json_t *res = NULL;
	int rc;

	*down = false;
	if (s->lan_step) {
		json_t *undo = NULL;
		rc = net_lan_apply(s->socket, &s->lan, &undo, err, len, down);
		if (rc == 0 && json_array_size(undo)) {
			s->undo_method = "config.batch";
			s->undo_params = json_pack("{s:o}", "edits", undo);
		} else {
			json_decref(undo);
		}
		return rc;
	}
	if (s->group_add) {
		rc = mgr_vswitch_find_group(s->socket, s->vlan, NULL, 0, err, len, down);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			/* The VLAN has its group already (a desktop made it): not ours to undo. */
			s->undo_method = NULL;
			return 0;
		}
	}
	rc = mgr_tessd_request(s->socket, s->method, json_incref(s->params), &res, err, len, down);
	json_decref(res);
	if (rc == -EEXIST && s->group_add) {
		/* A desktop job made the VLAN's group since we looked: there, not ours to undo.
		 * (EEXIST for a name another VLAN's group has stays a refusal.) */
		char why[256];
		bool gone;
		int there = mgr_vswitch_find_group(s->socket, s->vlan, NULL, 0, why, sizeof(why),
						   &gone);
		if (there == 1) {
			s->undo_method = NULL;
			return 0;
		}
	}
	if (rc == -ENOENT && strcmp(s->method, "group.del") == 0) {
		s->undo_method = NULL; /* not there: nothing went */
		return 0;
	}
	return rc;
}

/* Takes back s if it ran and has an undo: 1, 0 (nothing to take back) or -errno (logged). */
static int step_undo(struct step *s, char *why, size_t len)
{
	json_t *res = NULL;
	int rc;

	if (!s->done || s->undo_method == NULL)
		return 0;
	rc = mgr_tessd_call(s->socket, s->undo_method, json_incref(s->undo_params), &res, why, len);
	json_decref(res);
	if (rc < 0)
		tlog(LOG_WARNING, NULL, "network: undoing %s: %s", s->what, why);
	s->done = false;
	return rc < 0 ? rc : 1;
}

static int plan_run(struct plan *p, struct mgr_err *e)
{
	char err[512], undo_err[1024] = "";
	bool down = false;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < p->n; i++) {
		if ((rc = step_run(&p->s[i], err, sizeof(err), &down)) < 0)
			break;
		p->s[i].done = true;
	}
	if (rc == 0)
		return 0;
	/* Undo what earlier tessds applied, the last first. */
	uint32_t undone = 0, failed = 0, at = i;
	while (i-- > 0) {
		char why[512];
		int u = step_undo(&p->s[i], why, sizeof(why));
		undone += u > 0;
		if (u < 0 && failed++ == 0)
			snprintf(undo_err, sizeof(undo_err), "; undoing %s failed too: %s",
				 p->s[i].what, why);
	}
	/* Cut at whole characters: a split one would void the JSON of the answer and event. */
	mgr_err_set(e, down ? 503 : 409, "", "%s: %.*s%.*s (%u earlier tessds undone%s)",
		    p->s[at].what, (int)http_utf8_prefix(err, 400), err,
		    (int)http_utf8_prefix(undo_err, 80), undo_err, undone,
		    failed ? ", some not: see reconcile" : "");
	return rc;
}

void mgr_net_serialize(bool on)
{
	if (on)
		pthread_mutex_lock(&net_lock);
	else
		pthread_mutex_unlock(&net_lock);
}

void *mgr_net_plan_locked(const struct mgr_tenant_spec *old, const struct mgr_tenant_spec *new,
			  struct mgr_err *e)
{
	struct plan *p = calloc(1, sizeof(*p));

	if (p == NULL || plan_build(p, old, new) < 0) {
		if (p)
			plan_free(p);
		free(p);
		mgr_err_set(e, 500, "", "out of memory");
		return NULL;
	}
	const struct mgr_tenant_spec *t = new ? new : old;
	const struct mgr_tenant *have = t ? mgr_tenant_by_name(&mgr, t->name) : NULL;
	snprintf(p->tenant, sizeof(p->tenant), "%s", t ? t->name : "");
	p->tenant_id = have ? have->id : 0;
	p->change = old == NULL ? "added" : new == NULL ? "removed" : "changed";
	return p;
}

/*
 * A failed change's reference, which its tenant quotes and the log names: random, not a
 * count shared by every tenant, which would tell a tenant how many changes the others make.
 */
static uint32_t change_ref(void)
{
	static uint32_t fallback;
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = __atomic_add_fetch(&fallback, 1, __ATOMIC_RELAXED) * 2654435761u;
	return (r & 0x7fffffffu) ?: 1; /* a positive JSON integer however it is read */
}

int mgr_net_plan_run(void *plan, struct mgr_err *e)
{
	struct plan *p = plan;
	int rc = plan_run(p, e);
	uint32_t ref = change_ref();
	char generic[160];

	if (rc < 0)
		/* The full text, for the provider who reads the log after a tenant asks. */
		tlog(LOG_WARNING, TLOG_F(.tenant = p->tenant_id),
		     "network change %" PRIu32 " of tenant %s failed: %s", ref, p->tenant, e->msg);
	/*
	 * Only a change that reached tessds: a tenant without a network has no steps. A
	 * tenant's stream gets a text of its own: the tessds' words name the provider's
	 * routers, hosts and steps.
	 */
	if (p->n == 0)
		return rc;
	snprintf(generic, sizeof(generic),
		 "the change did not reach every tessd: ask the provider about network change "
		 "%" PRIu32,
		 ref);
	mgr_event_emit_split("network", p->tenant_id,
			     json_pack("{s:s, s:s, s:i, s:b, s:s, s:i}", "tenant", p->tenant,
				       "change", p->change, "tessd_steps", (int)p->n, "ok", rc == 0,
				       "error", rc == 0 ? "" : e->msg, "ref", (int)ref),
			     /* Without tessd_steps: how many provider tessds carry its VLAN. */
			     json_pack("{s:s, s:s, s:b, s:s, s:i}", "tenant", p->tenant, "change",
				       p->change, "ok", rc == 0, "error", rc == 0 ? "" : generic,
				       "ref", (int)ref));
	return rc;
}

void mgr_net_plan_undo(void *plan)
{
	struct plan *p = plan;

	for (uint32_t i = p->n; i-- > 0;) {
		char why[512];
		step_undo(&p->s[i], why, sizeof(why));
	}
}

void mgr_net_plan_free(void *plan)
{
	if (plan)
		plan_free(plan);
	free(plan);
}
