/* SPDX-License-Identifier: BSD-3-Clause */
#include "module.h"

#include <errno.h>
#include <string.h>

#include "ctl_server.h"
#include "log.h"

static struct tess_module *registered[DP_MAX_MODULES];
static unsigned n_registered;
static struct tess_module *sorted[DP_MAX_MODULES + 1]; /* NULL-terminated */
static unsigned n_sorted;
static unsigned n_inited; /* modules whose init ran: fini undoes exactly those */

void tess_module_register(struct tess_module *m)
{
	/* A constructor cannot fail: a build with too many modules stops at once. */
	RTE_VERIFY(n_registered < DP_MAX_MODULES);
	m->id = n_registered;
	registered[n_registered++] = m;
}

static struct tess_module *find(const char *name)
{
	for (unsigned i = 0; i < n_registered; i++)
		if (strcmp(registered[i]->name, name) == 0)
			return registered[i];
	return NULL;
}

/* Depth-first: a module after everything it depends on. state: 0 new, 1 visiting, 2 placed. */
static int place(struct tess_module *m, uint8_t *state)
{
	if (state[m->id] == 2)
		return 0;
	if (state[m->id] == 1) {
		DP_LOG(ERR, "module %s: dependency cycle", m->name);
		return -EINVAL;
	}
	state[m->id] = 1;
	for (const char *const *d = m->depends; d && *d; d++) {
		struct tess_module *dep = find(*d);
		if (dep == NULL) {
			DP_LOG(ERR, "module %s depends on %s, which is not built in", m->name, *d);
			return -EINVAL;
		}
		if (place(dep, state) < 0)
			return -EINVAL;
	}
	state[m->id] = 2;
	sorted[n_sorted++] = m;
	sorted[n_sorted] = NULL;
	return 0;
}

int tess_modules_sort(void)
{
	uint8_t state[DP_MAX_MODULES] = { 0 };

	n_sorted = 0;
	for (unsigned i = 0; i < n_registered; i++)
		if (place(registered[i], state) < 0)
			return -EINVAL;
	return 0;
}

unsigned tess_module_count(void)
{
	return n_sorted;
}

struct tess_module *const *tess_modules(void)
{
	return sorted;
}

struct tess_module *tess_module_at(unsigned i)
{
	return i < n_sorted ? sorted[i] : NULL;
}

int tess_modules_init(const struct tessd_cfg *cfg)
{
	for (n_inited = 0; n_inited < n_sorted; n_inited++) {
		struct tess_module *m = sorted[n_inited];
		int rc = m->init ? m->init(cfg) : 0;
		if (rc < 0) {
			DP_LOG(ERR, "module %s: %s", m->name, strerror(-rc));
			/* Its own fini cleans up what its init left. */
			n_inited++;
			return rc;
		}
	}
	return 0;
}

void tess_modules_fini(void)
{
	while (n_inited > 0) {
		struct tess_module *m = sorted[--n_inited];
		if (m->fini)
			m->fini();
	}
}

int tess_modules_register_api(void)
{
	TESS_MODULE_FOREACH (m) {
		if (m->methods && ctl_register(m->methods) < 0) {
			DP_LOG(ERR, "module %s: an API schema is inconsistent", m->name);
			return -EINVAL;
		}
	}
	return 0;
}

void tess_modules_start(struct evloop *loop)
{
	TESS_MODULE_FOREACH (m) {
		if (m->start)
			m->start(loop);
	}
}

void tess_modules_kick(void)
{
	TESS_MODULE_FOREACH (m) {
		if (m->kick)
			m->kick();
	}
}

void tess_modules_poll(const struct tessd_cfg *cfg, uint64_t now)
{
	TESS_MODULE_FOREACH (m) {
		if (m->poll)
			m->poll(cfg, now);
	}
}
