/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Feature modules. Each feature (cross-connect, vswitch, router and the
 * tenant services to come) fills one ops table in its own directory and
 * registers it with TESS_MODULE_REGISTER; the core calls every module in
 * dependency order (fini in reverse) and names none of them, as grout's
 * modules and VPP's plugins. Every op may be NULL. Control thread only.
 */
#ifndef TESS_MODULE_H
#define TESS_MODULE_H

#include <jansson.h>

#include "ctl_msg.h"
#include "dp.h"
#include "evloop.h"
#include "tessd_config.h"

struct ctl_method;
struct dp_port;

struct tess_module {
	const char *name;
	const char *const *depends; /* modules set up before this one; NULL-terminated */

	/*
	 * The rules of its config section (a key of the schema, config/) past
	 * the schema's: errors added to errs, -EINVAL if any. Run for the
	 * startup file and every change (dp_cfg_validate).
	 */
	int (*validate)(const struct tessd_cfg *cfg, struct cfg_errs *errs);

	/* Start (after EAL, before ports) and stop; fini also runs after a failed init. */
	int (*init)(const struct tessd_cfg *cfg);
	void (*fini)(void);
	/* Its state in a worker (dp_worker.mod[id]), on the worker's NUMA node. */
	int (*worker_init)(struct dp_worker *w, int socket);
	void (*worker_fini)(struct dp_worker *w);
	/* Once the control loop exists: file descriptors of its own. */
	void (*start)(struct evloop *loop);

	/*
	 * Its part of a snapshot (dp_snapshot.part[id]): either part_size bytes
	 * the core gives each new snapshot zeroed, for build to fill, or its own
	 * snap_copy (a new reference, or a copy; NULL when out of memory) and
	 * snap_free. build fills the part and claims ports (port[].stage)
	 * from cfg; modules build in dependency order. -errno (err saying
	 * why, or a generic message if left empty) stops the change.
	 */
	size_t part_size; /* a part built afresh in each snapshot, or: */
	void *(*snap_copy)(void *part);
	void (*snap_free)(void *part);
	int (*build)(struct dp_snapshot *s, const struct tessd_cfg *cfg, struct ctl_error *err);
	/* After a snapshot built from cur is published; old is NULL at start. */
	void (*sync)(const struct tessd_cfg *old, const struct tessd_cfg *cur);
	/* Control loop, every tick. */
	void (*poll)(const struct tessd_cfg *cfg, uint64_t now);
	/*
	 * Control loop, when a worker kicked it (kick.h): drain what workers
	 * handed over; may run many times per tick. Bounded work per call.
	 */
	void (*kick)(void);
	/* On the worker, once per poll, on worker 0 only (what the control thread sends). */
	void (*worker_poll)(struct dp_worker *w, const struct dp_snapshot *s);

	/* Counters: zero them; add its sections ("groups", "vrfs"...) to stats (only vrf's, if
	 * set). */
	void (*stats_reset)(void);
	void (*stats_json)(json_t *stats, const struct tessd_cfg *cfg, const char *vrf);
	/* Adds to a worker's stats object. */
	void (*worker_json)(unsigned idx, json_t *o);

	/* Ports: a port id in use again; what a port shows; refusing a port's removal. */
	void (*port_reset)(uint16_t port);
	void (*port_json)(const struct dp_port *p, const struct tessd_cfg *cfg, json_t *o);
	int (*port_in_use)(const struct tessd_cfg *cfg, const char *name, struct ctl_error *err);

	const struct ctl_method *methods; /* its API, terminated by name == NULL */

	unsigned id; /* set at registration: its index in dp_snapshot.part, dp_worker.mod */
};

void tess_module_register(struct tess_module *m);
#define TESS_MODULE_REGISTER(m)            \
	RTE_INIT(tess_module_register_##m) \
	{                                  \
		tess_module_register(&m);  \
	}

/* Orders the modules by their dependencies; -EINVAL (logged) on an unknown or cyclic one. */
int tess_modules_sort(void);
unsigned tess_module_count(void);
/* The i-th module in dependency order. */
struct tess_module *tess_module_at(unsigned i);

/* The modules in dependency order, NULL-terminated. */
struct tess_module *const *tess_modules(void);
#define TESS_MODULE_FOREACH(m) \
	for (struct tess_module *const *m##_p = tess_modules(), *m; (m = *m##_p) != NULL; m##_p++)

/* The loops the core runs. */
int tess_modules_init(const struct tessd_cfg *cfg);
void tess_modules_fini(void);
int tess_modules_register_api(void);
void tess_modules_start(struct evloop *loop);
void tess_modules_poll(const struct tessd_cfg *cfg, uint64_t now);
void tess_modules_kick(void);

/* A module's state in a worker, and its part of a snapshot. */
static inline void *dp_worker_mod(const struct dp_worker *w, const struct tess_module *m)
{
	return w->mod[m->id];
}

static inline void *dp_snap_part(const struct dp_snapshot *s, const struct tess_module *m)
{
	return s->part[m->id];
}

#endif
