/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Moving a desktop to another host (seed 004), as a heavy job. Cold: the
 * desktop is shut down, its overlay copied to the target site's storage and
 * verified, rebased (-u) onto the target site's copy of the same base
 * version, defined on the target host with its tenant's partition there,
 * its vswitch port moved, and only then undefined at the source; the source
 * overlay goes last, once the store says the desktop is at the target.
 * Live (qemu hosts): virDomainMigrateToURI3 copies the overlay over a fresh
 * one made on the target's base. Any failure leaves the desktop as it was
 * at the source. The target's room was reserved when the job was queued;
 * the quota is untouched throughout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capacity.h"
#include "fault.h"
#include "image.h"
#include "images.h"
#include "jobs.h"
#include "network.h"
#include "store.h"
#include "tasks.h"
#include "tessd_addr.h"
#include "virt.h"
#include "vswitch.h"
#include "tlog.h"

struct side {
	uint32_t host_id, site_id;
	char uri[MGR_URI_LEN];
	char tessd[MGR_URI_LEN];
	char tessd_key[MGR_TESSD_KEY_LEN];
	bool test;
};

/* What a migration needs, copied under the lock. */
struct move {
	struct mgr_desktop d;  /* as it is (the source) */
	struct mgr_desktop to; /* as it will be (the target) */
	struct mgr_domain_def src_def, dst_def;
	struct side src, dst;
	char tenant[MGR_NAME_LEN], vlan_name[MGR_NAME_LEN], image[MGR_NAME_LEN];
	uint16_t vlan;
	uint32_t model_id;
};

static void side_of(const struct mgr_host *h, struct side *s)
{
	s->host_id = h->id;
	s->site_id = h->site_id;
	s->test = h->spec.test_host.sockets > 0;
	snprintf(s->uri, sizeof(s->uri), "%s", h->spec.uri);
	snprintf(s->tessd, sizeof(s->tessd), "%s", h->spec.tessd);
	snprintf(s->tessd_key, sizeof(s->tessd_key), "%s", h->tessd_key);
}

/* Whether the port moves at all: not if the hosts share a tessd (it stays), nor if neither
 * has one (there is none). */
static bool port_moves(const struct move *m)
{
	return strcmp(m->src.tessd_key, m->dst.tessd_key) != 0;
}

/* Loads the desktop, both hosts, and the target's paths; -ENOENT with err. */
static int load(const struct mgr_job *j, struct move *m, bool undo, char *err, size_t len)
{
	const struct mgr_desktop *d;
	const struct mgr_host *src, *dst;
	const struct mgr_tenant *t;
	const struct mgr_model *md;
	const struct mgr_site *site;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, j->desktop_id);
	src = d ? mgr_host_get(&mgr, d->host_id) : NULL;
	dst = mgr_host_get(&mgr, j->target_host_id);
	t = d ? mgr_tenant_get(&mgr, d->tenant_id) : NULL;
	md = d ? mgr_model_get(&mgr, d->model_id) : NULL;
	site = dst ? mgr_site_get(&mgr, dst->site_id) : NULL;
	if (!d || !src || !dst || !t || !md || !site) {
		snprintf(err, len, "desktop %u or its target host is gone", j->desktop_id);
		rc = -ENOENT;
		goto out;
	}
	m->d = *d;
	m->model_id = md->id;
	side_of(src, &m->src);
	side_of(dst, &m->dst);
	snprintf(m->tenant, sizeof(m->tenant), "%s", t->spec.name);
	snprintf(m->vlan_name, sizeof(m->vlan_name), "%s", t->spec.vlan_name);
	snprintf(m->image, sizeof(m->image), "%s", md->spec.base_image);
	m->vlan = t->spec.vlan;
	mgr_domain_def_locked(d, &m->src_def);
	/* The target: its host, paths, and its tenant's partition there (reserved already). */
	m->to = *d;
	m->to.host_id = dst->id;
	if (mgr_desktop_paths(site->spec.storage, t->spec.name, d->name, d->id, dst->spec.vhost_dir,
			      m->to.overlay, m->to.vhost_socket) < 0) {
		snprintf(err, len, "the paths of site %s or host %s are too long", site->spec.name,
			 dst->spec.name);
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (dst->id == src->id && !undo) {
		snprintf(err, len, "desktop %u is on host %s already", d->id, dst->spec.name);
		rc = -EALREADY;
		goto out;
	}
	/* Hosts sharing one tessd (or without one): the port stays as it is, with its socket. */
	if (!port_moves(m))
		snprintf(m->to.vhost_socket, sizeof(m->to.vhost_socket), "%s", d->vhost_socket);
	const struct mgr_slice *s = mgr_host_slice(dst, t->id);
	if (s)
		m->to.cpus = s->cpus;
out:
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

/* The target's links and domain, once its base copy is known. */
static void target_def(struct move *m, const struct mgr_image *base)
{
	pthread_mutex_lock(&mgr.lock);
	snprintf(m->to.base, sizeof(m->to.base), "%s", base->path);
	mgr_image_links_locked(&m->to, m->image, m->dst.site_id);
	mgr_domain_def_locked(&m->to, &m->dst_def);
	pthread_mutex_unlock(&mgr.lock);
}

/*
 * The base the target's overlay will use: the target site's copy of the
 * desktop's base version (re-hashed with roaming.verify_base); within one
 * site, the one it has.
 */
static int target_base(const struct move *m, struct mgr_image *base, char *err, size_t len)
{
	int rc = mgr_image_copy_at(m->dst.site_id, m->image, m->d.base_version,
				   mgr_conf.roaming.verify_base, base, err, len);

	if (rc == -ENOENT)
		snprintf(err, len, "the target site has no copy of base image %s version %.12s",
			 m->image, m->d.base_version);
	if (rc == 0 && m->src.site_id == m->dst.site_id)
		snprintf(base->path, sizeof(base->path), "%s", m->d.base); /* the overlay stays */
	return rc;
}

static int add_port(const struct side *s, const struct move *m, const struct mgr_desktop *d,
		    char *err, size_t len)
{
	struct mgr_port_req r = {
		.socket = s->tessd,
		.port = d->port,
		.vhost_socket = d->vhost_socket,
		.mac = d->mac,
		.address = d->address,
		.vlan = m->vlan,
		.group = m->vlan_name,
		.tenant = m->tenant,
	};

	return s->tessd[0] && port_moves(m) ? mgr_net_add_port(&r, err, len) : 0;
}

static int del_port(const struct side *s, const struct move *m, const struct mgr_desktop *d,
		    char *err, size_t len)
{
	return s->tessd[0] && port_moves(m) ? mgr_vswitch_del_port(s->tessd, d->port, err, len) : 0;
}

/*
 * The desktop is at the target now: in memory and the store, the source
 * host's room given back, both hosts' partitions and pinning brought in line.
 */
static int commit(const struct move *m, uint8_t state)
{
	struct mgr_desktop *d;
	int rc = -ENOENT;

	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, m->d.id);
	if (d) {
		struct mgr_host *src = mgr_host_get(&mgr, m->src.host_id);
		struct mgr_host *dst = mgr_host_get(&mgr, m->dst.host_id);
		const struct mgr_model *md = mgr_model_get(&mgr, m->model_id);
		struct mgr_desktop before = *d;
		d->host_id = m->to.host_id;
		snprintf(d->overlay, sizeof(d->overlay), "%s", m->to.overlay);
		snprintf(d->vhost_socket, sizeof(d->vhost_socket), "%s", m->to.vhost_socket);
		snprintf(d->base, sizeof(d->base), "%s", m->to.base);
		memcpy(d->link_sites, m->to.link_sites, sizeof(d->link_sites));
		d->n_links = m->to.n_links;
		snprintf(d->uuid, sizeof(d->uuid), "%s", m->to.uuid);
		d->cpus = m->to.cpus;
		d->state = state;
		d->applied_valid = false;
		d->quota_us = 0; /* throttling starts over on the new host */
		rc = mgr_store_put_desktop(d);
		if (rc < 0) {
			*d = before;
		} else {
			if (src && md)
				mgr_release_host_locked(src, d->tenant_id, md);
			if (src)
				mgr_sync_cpus_locked(src);
			if (dst)
				mgr_sync_cpus_locked(dst);
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

/* Gives the target's reservation back (the migration did not happen). */
static void release_target(const struct mgr_job *j, uint32_t tenant_id, uint32_t model_id)
{
	pthread_mutex_lock(&mgr.lock);
	struct mgr_host *dst = mgr_host_get(&mgr, j->target_host_id);
	const struct mgr_model *md = mgr_model_get(&mgr, model_id);
	if (dst && md) {
		mgr_release_host_locked(dst, tenant_id, md);
		mgr_sync_cpus_locked(dst);
	}
	pthread_mutex_unlock(&mgr.lock);
}

static void warn(const struct move *m, const char *err)
{
	tlog(LOG_WARNING, TLOG_F(.desktop = m->d.id, .tenant = m->d.tenant_id),
	     "migrating desktop %u: %s", m->d.id, err);
}

/* Job job_id's leftover: host_id (0: none) and the UUID of the definition there; stored. */
static void set_leftover(uint32_t job_id, uint32_t host_id, const char *uuid)
{
	pthread_mutex_lock(&mgr.lock);
	struct mgr_job *j = mgr_job_get(&mgr, job_id);
	if (j) {
		j->leftover_host_id = host_id;
		snprintf(j->leftover_uuid, sizeof(j->leftover_uuid), "%s", host_id ? uuid : "");
		if (mgr_store_put_job(j) < 0)
			tlog(LOG_ERR, TLOG_F(.job = job_id, .desktop = j->desktop_id),
			     "job %u: cannot store the host of its leftover definition", job_id);
	}
	pthread_mutex_unlock(&mgr.lock);
}

/*
 * A roll-back undefines the side the desktop does not stay on. When that
 * host does not answer, the definition would come back with it, unaccounted:
 * job job_id keeps the host (stored, through restarts), and it is removed
 * when the host connects again, or when a move of the desktop under way
 * then ends (mgr_op_remove_leftover).
 */
static void undefine_or_leave(uint32_t job_id, const struct move *m, uint32_t host_id,
			      const char *uuid)
{
	char err[512];

	if (mgr_domain_undefine(host_id, uuid, err, sizeof(err)) == 0)
		return;
	set_leftover(job_id, host_id, uuid);
	/* One line for one event: libvirt's error in it. */
	tlog(LOG_WARNING,
	     TLOG_F(.job = job_id, .desktop = m->d.id, .tenant = m->d.tenant_id, .host = host_id),
	     "job %u: host %u does not answer: the definition of desktop %u there is removed once "
	     "it is back (%s)",
	     job_id, host_id, m->d.id, err);
}

/* Its port is on host_id now: the switches that knew it elsewhere forget it (network_move.c). */
static void moved(const struct move *m, uint32_t host_id)
{
	if (port_moves(m))
		mgr_net_desktop_moved(m->d.tenant_id, host_id, m->d.mac);
}

static int cold(const struct mgr_job *j, struct move *m, bool was_running, char *err, size_t len)
{
	struct mgr_image base;
	char sum[65], e2[512];
	bool same_site = m->src.site_id == m->dst.site_id, copied = false, dst_port = false;
	bool dst_dom = false, src_port_gone = false, src_gone = false;
	int rc = 0;

	/* 1. The target site's copy of the same base version, checked byte for byte. */
	rc = target_base(m, &base, err, len);
	/* 2. The overlay (redo log) copied and verified, then pointed at the local base. */
	if (rc == 0 && !same_site) {
		rc = mgr_file_sha256(m->d.overlay, sum, err, len);
		if (rc == 0)
			rc = mgr_file_copy_verified(m->d.overlay, m->to.overlay, sum, err, len);
		copied = rc == 0;
		if (rc == 0)
			rc = MGR_FAULT("migrate.after_copy", err, len);
		if (rc == 0)
			rc = mgr_image_rebase(m->to.overlay, base.path, err, len);
		if (rc == 0)
			rc = MGR_FAULT("migrate.after_rebase", err, len);
	}
	if (rc == 0) {
		target_def(m, &base);
		/* 3. The target: its vswitch port, its domain. */
		rc = add_port(&m->dst, m, &m->to, err, len);
		dst_port = rc == 0;
	}
	if (rc == 0)
		rc = MGR_FAULT("migrate.after_port", err, len);
	if (rc == 0) {
		rc = mgr_virt_define(m->dst.host_id, &m->dst_def, m->to.uuid, err, len);
		dst_dom = rc == 0;
	}
	if (rc == 0)
		rc = MGR_FAULT("migrate.after_define", err, len);
	/* 4. Only now the source lets go: its port, its domain (not its overlay yet). */
	if (rc == 0) {
		rc = del_port(&m->src, m, &m->d, err, len);
		src_port_gone = rc == 0;
	}
	if (rc == 0)
		rc = MGR_FAULT("migrate.after_src_port", err, len);
	if (rc == 0) {
		rc = mgr_domain_undefine(m->src.host_id, m->d.uuid, err, len);
		src_gone = rc == 0;
	}
	if (rc == 0)
		rc = MGR_FAULT("migrate.after_src_undefine", err, len);
	if (rc == 0 && (was_running || j->start))
		rc = mgr_virt_start(m->dst.host_id, m->to.uuid, err, len);
	if (rc == 0)
		rc = MGR_FAULT("migrate.after_start", err, len);
	if (rc == 0 && time(NULL) - j->started > (time_t)j->timeout_sec) {
		snprintf(err, len, "timed out after %us", j->timeout_sec);
		rc = -ETIMEDOUT;
	}
	if (rc == 0)
		rc = commit(m, was_running || j->start ? MGR_DESK_RUNNING : MGR_DESK_STOPPED);
	if (rc == 0) {
		moved(m, m->dst.host_id);
		MGR_FAULT("migrate.after_commit", NULL, 0);
		if (!same_site)
			mgr_image_remove(m->d.overlay);
		return 0;
	}
	/* Back to the source, as it was. */
	if (src_gone && mgr_virt_define(m->src.host_id, &m->src_def, m->d.uuid, e2, sizeof(e2)) < 0)
		warn(m, e2);
	if (src_port_gone && add_port(&m->src, m, &m->d, e2, sizeof(e2)) < 0)
		warn(m, e2);
	if (dst_dom)
		undefine_or_leave(j->id, m, m->dst.host_id, m->to.uuid);
	if (dst_port && del_port(&m->dst, m, &m->to, e2, sizeof(e2)) < 0)
		warn(m, e2);
	if (dst_port)
		moved(m, m->src.host_id); /* it may have run at the target meanwhile */
	if (copied)
		mgr_image_remove(m->to.overlay);
	return rc;
}

static int live(const struct mgr_job *j, struct move *m, bool *landed, char *err, size_t len)
{
	struct mgr_image base;
	bool same_site = m->src.site_id == m->dst.site_id, made = false, dst_port = false;
	char e2[512];
	int rc;

	(void)j;
	rc = target_base(m, &base, err, len);
	/* A fresh overlay on the target's base: the migration fills it (NON_SHARED_INC). */
	if (rc == 0 && !same_site) {
		rc = mgr_image_clone(base.path, m->to.overlay, err, len);
		made = rc == 0;
	}
	if (rc == 0) {
		target_def(m, &base);
		rc = add_port(&m->dst, m, &m->to, err, len);
		dst_port = rc == 0;
	}
	if (rc == 0) {
		mgr_repin_barrier(m->src.host_id); /* libvirt undefines the source itself */
		rc = mgr_virt_migrate_live(m->src.host_id, m->d.uuid, m->dst.uri, &m->dst_def,
					   same_site, err, len);
	}
	if (rc == 0) {
		*landed = true; /* it runs at the target now, whatever the store says */
		snprintf(m->to.uuid, sizeof(m->to.uuid), "%s", m->d.uuid);
		if (del_port(&m->src, m, &m->d, e2, sizeof(e2)) < 0)
			warn(m, e2);
		rc = commit(m, MGR_DESK_RUNNING);
		moved(m, m->dst.host_id); /* it runs there, stored or not */
		if (rc == 0 && !same_site)
			mgr_image_remove(m->d.overlay);
		if (rc == 0)
			return 0;
		snprintf(err, len, "cannot write the store after the live migration");
		return rc; /* the domain runs at the target: reconcile reports it */
	}
	if (dst_port && del_port(&m->dst, m, &m->to, e2, sizeof(e2)) < 0)
		warn(m, e2);
	if (made)
		mgr_image_remove(m->to.overlay);
	return rc;
}

/*
 * The job will start the desktop where it lands: stored before a cold
 * move shuts it down, so that a restart mid-move starts it again wherever
 * the roll-back leaves it.
 */
static int remember_start(const struct mgr_job *j, char *err, size_t len)
{
	struct mgr_job *x;
	int rc = -ENOENT;

	pthread_mutex_lock(&mgr.lock);
	x = mgr_job_get(&mgr, j->id);
	if (x) {
		x->start = true;
		rc = mgr_store_put_job(x) < 0 ? -EIO : 0;
		if (rc < 0)
			x->start = j->start;
	}
	pthread_mutex_unlock(&mgr.lock);
	if (rc < 0)
		snprintf(err, len, "cannot store migration job %u", j->id);
	return rc;
}

int mgr_op_migrate(const struct mgr_job *j, char *err, size_t len)
{
	struct move *m = calloc(1, sizeof(*m));
	bool was_running = false, landed = false;
	int rc, running;

	if (m == NULL) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	rc = load(j, m, false, err, len);
	if (rc < 0) {
		mgr_op_migrate_not_run(j);
		free(m);
		return rc;
	}
	running = mgr_virt_running(m->src.host_id, m->d.uuid);
	if (running < 0) {
		snprintf(err, len, "the source host cannot say whether the desktop runs (%s)",
			 strerror(-running));
		rc = running;
		goto failed;
	}
	was_running = running == 1;
	mgr_op_set_state(m->d.id, MGR_DESK_MIGRATING, NULL);
	if (j->live) {
		rc = was_running ? live(j, m, &landed, err, len) : -EINVAL;
		if (!was_running)
			snprintf(err, len, "a live migration needs a running desktop");
	} else {
		/* Cold: shut down first (gracefully, then forced). */
		rc = was_running && !j->start ? remember_start(j, err, len) : 0;
		if (rc == 0 && was_running)
			rc = mgr_virt_stop(m->src.host_id, m->d.uuid,
					   mgr_conf.jobs.stop_timeout_sec, err, len);
		if (rc == 0)
			rc = MGR_FAULT("migrate.after_stop", err, len);
		if (rc == 0)
			rc = cold(j, m, was_running, err, len);
	}
failed:
	if (rc < 0 && !landed) {
		char e2[512];
		release_target(j, m->d.tenant_id, m->model_id);
		/* Where it was, running again if it ran. */
		if (was_running && !j->live && mgr_virt_running(m->src.host_id, m->d.uuid) == 0 &&
		    mgr_virt_start(m->src.host_id, m->d.uuid, e2, sizeof(e2)) < 0)
			warn(m, e2);
		mgr_op_resync(m->d.id);
		pthread_mutex_lock(&mgr.lock);
		struct mgr_desktop *d = mgr_desktop_get(&mgr, m->d.id);
		if (d)
			d->applied_valid = false; /* pinned again as its partition is now */
		pthread_mutex_unlock(&mgr.lock);
	}
	mgr_repin_host(m->src.host_id);
	mgr_repin_host(m->dst.host_id);
	free(m);
	/* What earlier moves left where a connect found this one under way. */
	mgr_jobs_finish_moves_of(j->desktop_id);
	/* The move is done (committed): a failing after_move task fails the job, but the desktop
	 * stays at its target, which it now runs on; moving it back would be a move of its own.
	 * The job says it committed (its step), so that its answer can tell the desktop moved. */
	if (rc == 0) {
		char e2[128];
		if (mgr_job_set_step(j->id, MGR_STEP_TASKS, e2, sizeof(e2)) < 0)
			tlog(LOG_WARNING, TLOG_F(.job = j->id, .desktop = j->desktop_id), "%s", e2);
		rc = mgr_tasks_run(j, MGR_TASK_AFTER_MOVE, NULL, err, len);
	}
	return rc;
}

void mgr_op_migrate_not_run(const struct mgr_job *j)
{
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_desktop *d = mgr_desktop_get(&mgr, j->desktop_id);
	uint32_t tenant = d ? d->tenant_id : 0, model = d ? d->model_id : 0;
	pthread_mutex_unlock(&mgr.lock);
	if (tenant)
		release_target(j, tenant, model);
	mgr_op_resync(j->desktop_id);
}

void mgr_op_undo_migrate(const struct mgr_job *j)
{
	struct move *m = calloc(1, sizeof(*m));
	char err[512];

	if (m == NULL || load(j, m, true, err, sizeof(err)) < 0) {
		free(m);
		mgr_op_resync(j->desktop_id); /* not left "migrating" */
		return;
	}
	if (m->d.host_id == j->target_host_id) {
		/* The store had moved it: only the source may still hold something. */
		pthread_mutex_lock(&mgr.lock);
		const struct mgr_host *src = mgr_host_get(&mgr, j->host_id);
		const struct mgr_site *s = src ? mgr_site_get(&mgr, src->site_id) : NULL;
		char overlay[PATH_MAX] = "", vhost[PATH_MAX];
		struct side side = { 0 };
		if (src && s)
			mgr_desktop_paths(s->spec.storage, m->tenant, m->d.name, m->d.id,
					  src->spec.vhost_dir, overlay, vhost);
		if (src)
			side_of(src, &side);
		pthread_mutex_unlock(&mgr.lock);
		if (side.host_id)
			undefine_or_leave(j->id, m, side.host_id, m->d.uuid);
		if (side.tessd[0] && strcmp(side.tessd_key, m->dst.tessd_key) != 0 &&
		    mgr_vswitch_del_port(side.tessd, m->d.port, err, sizeof(err)) < 0)
			warn(m, err);
		if (overlay[0] && strcmp(overlay, m->d.overlay) != 0)
			mgr_image_remove(overlay);
	} else {
		/* Still at the source in the store: the target's part goes, the source comes back.
		 */
		undefine_or_leave(j->id, m, m->dst.host_id, m->d.uuid);
		if (del_port(&m->dst, m, &m->to, err, sizeof(err)) < 0)
			warn(m, err);
		if (strcmp(m->to.overlay, m->d.overlay) != 0)
			mgr_image_remove(m->to.overlay);
		if (mgr_virt_running(m->src.host_id, m->d.uuid) == -ENOENT &&
		    mgr_virt_define(m->src.host_id, &m->src_def, m->d.uuid, err, sizeof(err)) < 0)
			warn(m, err);
		char group[MGR_NAME_LEN];
		uint16_t vlan;
		if (m->src.tessd[0] &&
		    mgr_vswitch_port_group(m->src.tessd, m->d.port, group, sizeof(group), &vlan) ==
			    -ENOENT &&
		    add_port(&m->src, m, &m->d, err, sizeof(err)) < 0)
			warn(m, err);
	}
	/* Where the store has it: the other side's port is gone (src and dst of m may be one
	 * host here: the store had moved it). */
	mgr_net_desktop_moved(m->d.tenant_id, m->d.host_id, m->d.mac);
	/* Running again where it is, if it ran or was to run. */
	if (j->start && mgr_virt_running(m->d.host_id, m->d.uuid) == 0 &&
	    mgr_virt_start(m->d.host_id, m->d.uuid, err, sizeof(err)) < 0)
		warn(m, err);
	mgr_op_resync(m->d.id);
	free(m);
}

void mgr_op_remove_leftover(const struct mgr_job *j)
{
	uint32_t host_id = j->leftover_host_id;
	bool there = false, moving = false;
	char err[512];

	pthread_mutex_lock(&mgr.lock);
	const struct mgr_desktop *d = mgr_desktop_get(&mgr, j->desktop_id);
	if (d) {
		/* By its UUID: the desktop's own domain, once it lives on that host again. */
		there = d->host_id == host_id && strcmp(d->uuid, j->leftover_uuid) == 0;
		moving = d->state == MGR_DESK_MIGRATING;
	}
	pthread_mutex_unlock(&mgr.lock);
	/* A move under way owns the desktop's definitions: its end tries again. */
	if (moving)
		return;
	if (!there && mgr_domain_undefine(host_id, j->leftover_uuid, err, sizeof(err)) < 0) {
		tlog(LOG_WARNING, TLOG_F(.job = j->id, .desktop = j->desktop_id, .host = host_id),
		     "job %u: the definition its roll-back left on host %u stays for now: %s",
		     j->id, host_id, err);
		return;
	}
	set_leftover(j->id, 0, NULL);
	tlog(LOG_INFO, TLOG_F(.job = j->id, .desktop = j->desktop_id, .host = host_id),
	     "job %u: host %u is back: %s", j->id, host_id,
	     there ? "the desktop lives there now, its definition stays"
		   : "the definition its roll-back left there is removed");
}
