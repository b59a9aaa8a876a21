/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What desktop jobs do, step by step, each step undone if a later one
 * fails: the linked clone, the vswitch port, the libvirt domain, its start.
 * libvirt, qemu-img and tessd are called without the state lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "fault.h"
#include "image.h"
#include "images.h"
#include "jobs.h"
#include "network.h"
#include "store.h"
#include "tasks.h"
#include "usage_hist.h"
#include "virt.h"
#include "vswitch.h"
#include "tlog.h"

/* What a job needs of its desktop, copied under the lock. */
struct work {
	struct mgr_desktop d;
	struct mgr_domain_def def;
	char base[PATH_MAX];
	char tessd[MGR_URI_LEN];
	char host[MGR_NAME_LEN]; /* its name, in errors */
	char tenant[MGR_NAME_LEN], vlan_name[MGR_NAME_LEN];
	char image[MGR_NAME_LEN]; /* the model's base image */
	uint32_t site_id;
	uint16_t vlan;
	bool found;
};

/* "host NAME: " before a vswitch error: the address alone does not say which host it is. */
static void prefix_host(const char *host, char *err, size_t len)
{
	char *was = strdup(err);

	if (was) {
		snprintf(err, len, "host %s: %s", host, was);
		free(was);
	}
}

static void load(uint32_t desktop_id, struct work *w)
{
	const struct mgr_desktop *d;

	memset(w, 0, sizeof(*w));
	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, desktop_id);
	if (d) {
		const struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
		const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
		const struct mgr_site *s = h ? mgr_site_get(&mgr, h->site_id) : NULL;
		w->found = true;
		w->d = *d;
		mgr_domain_def_locked(d, &w->def);
		if (m)
			snprintf(w->image, sizeof(w->image), "%s", m->spec.base_image);
		w->site_id = s ? s->id : 0;
		if (h) {
			snprintf(w->tessd, sizeof(w->tessd), "%s", h->spec.tessd);
			snprintf(w->host, sizeof(w->host), "%s", h->spec.name);
		}
		if (t) {
			snprintf(w->tenant, sizeof(w->tenant), "%s", t->spec.name);
			snprintf(w->vlan_name, sizeof(w->vlan_name), "%s", t->spec.vlan_name);
			w->vlan = t->spec.vlan;
		}
	}
	pthread_mutex_unlock(&mgr.lock);
}

/* Past jobs.timeout_sec, leaving out task_ms, its tasks' time (each has its own bound). */
static bool late(const struct mgr_job *j, uint64_t task_ms, char *err, size_t len)
{
	if (time(NULL) - j->started - (time_t)(task_ms / 1000) <= (time_t)j->timeout_sec)
		return false;
	snprintf(err, len, "timed out after %us", j->timeout_sec);
	return true;
}

int mgr_op_set_state(uint32_t id, uint8_t state, const char *uuid)
{
	struct mgr_desktop *d;
	int rc = -ENOENT;

	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, id);
	if (d) {
		d->state = state;
		if (uuid)
			snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
		rc = mgr_store_put_desktop(d) < 0 ? -EIO : 0;
		if (rc < 0)
			tlog(LOG_ERR, TLOG_F(.desktop = id), "desktop %u: cannot store its state",
			     id);
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

/* A random (version 4) UUID, made before the domain is defined so that it is stored first. */
static int new_uuid(char out[37], char *err, size_t len)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		snprintf(err, len, "no random bytes for a domain UUID: %s", strerror(errno));
		return -EIO;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

/* Gives back the desktop's reservation and forgets it; the usage history counts it up to now
 * (end: how it was, NULL: it did not run). Its address goes from the PEs' DHCP after. */
static void forget(uint32_t id, const struct usage_end *end)
{
	struct mgr_desktop *d;
	uint32_t tenant = 0;
	bool addressed = false;

	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, id);
	if (d) {
		struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
		const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
		tenant = d->tenant_id;
		addressed = d->address != 0;
		usage_desktop_gone_locked(d, end);
		if (h && m)
			mgr_release_locked(h, tenant, m);
		if (mgr_store_del_desktop(id) < 0)
			tlog(LOG_ERR, TLOG_F(.desktop = id, .tenant = tenant),
			     "desktop %u: cannot remove it from the store", id);
		mgr_remove_desktop_locked(id);
		/* The tenant's partition on h may have shrunk: its desktops follow. */
		if (h)
			mgr_sync_cpus_locked(h);
	}
	pthread_mutex_unlock(&mgr.lock);
	if (addressed)
		mgr_net_reserve_or_retry(tenant);
}

/* Removes whatever exists of a desktop: domain, port, overlay. */
static void teardown(const struct work *w)
{
	char err[512];

	if (w->d.uuid[0] && mgr_domain_undefine(w->d.host_id, w->d.uuid, err, sizeof(err)) < 0)
		tlog(LOG_WARNING,
		     TLOG_F(.desktop = w->d.id, .tenant = w->d.tenant_id, .host = w->d.host_id),
		     "desktop %u: %s", w->d.id, err);
	if (w->tessd[0] && w->d.port[0] &&
	    mgr_vswitch_del_port(w->tessd, w->d.port, err, sizeof(err)) < 0)
		tlog(LOG_WARNING,
		     TLOG_F(.desktop = w->d.id, .tenant = w->d.tenant_id, .host = w->d.host_id),
		     "desktop %u: %s", w->d.id, err);
	mgr_image_remove(w->d.overlay);
}

/* The newest version of the base at the desktop's site; recorded with its links. */
static int base_of(struct work *w, char *err, size_t len)
{
	struct mgr_image img;
	struct mgr_desktop *d;
	int rc = mgr_image_base(w->site_id, w->image, &img, err, len);

	if (rc < 0)
		return rc;
	snprintf(w->base, sizeof(w->base), "%s", img.path);
	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, w->d.id);
	if (d) {
		snprintf(d->base, sizeof(d->base), "%s", img.path);
		snprintf(d->base_version, sizeof(d->base_version), "%s", img.version);
		mgr_image_links_locked(d, w->image, w->site_id);
		if (mgr_store_put_desktop(d) < 0) {
			snprintf(err, len, "cannot store desktop %u", d->id);
			rc = -EIO;
		}
		mgr_domain_def_locked(d, &w->def);
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

int mgr_op_create(const struct mgr_job *j, char *err, size_t len)
{
	struct work w;
	char uuid[37] = "";
	uint64_t task_ms = 0;
	int rc = 0;
	bool clone = false, port = false;

	load(j->desktop_id, &w);
	if (!w.found) {
		snprintf(err, len, "desktop %u is gone", j->desktop_id);
		return -ENOENT;
	}
	/* Not an address a client holds, reserved for its MAC at once (before a lease is given
	 * away meanwhile, and before it can ask for one): its tasks see the one it keeps. */
	if (w.d.address)
		rc = mgr_net_address_unleased(w.d.id, &w.d.address, err, len);
	if (rc == 0 && w.d.address)
		rc = mgr_net_reserve(w.d.tenant_id, err, len);
	if (rc == 0)
		rc = mgr_tasks_run(j, MGR_TASK_BEFORE_CREATE, &task_ms, err, len);
	if (rc == 0)
		rc = base_of(&w, err, len);
	if (rc == 0)
		rc = MGR_FAULT("create.after_base", err, len);
	if (rc == 0)
		rc = mgr_image_clone(w.base, w.d.overlay, err, len);
	clone = rc == 0;
	if (rc == 0)
		rc = MGR_FAULT("create.after_clone", err, len);
	if (rc == 0 && !late(j, task_ms, err, len) && w.tessd[0]) {
		struct mgr_port_req r = {
			.socket = w.tessd,
			.port = w.d.port,
			.vhost_socket = w.d.vhost_socket,
			.mac = w.d.mac,
			.address = w.d.address,
			.vlan = w.vlan,
			.group = w.vlan_name,
			.tenant = w.tenant,
		};
		rc = mgr_net_add_port(&r, err, len);
		port = rc == 0;
		if (rc < 0)
			prefix_host(w.host, err, len);
	} else if (rc == 0 && late(j, task_ms, err, len)) {
		rc = -ETIMEDOUT;
	}
	if (rc == 0)
		rc = MGR_FAULT("create.after_port", err, len);
	/*
	 * Write-ahead (review 1.4): the domain's UUID is stored before the domain
	 * is defined, so that whatever happens next, an undo finds it by that UUID.
	 */
	if (rc == 0)
		rc = new_uuid(uuid, err, len);
	if (rc == 0 && (rc = mgr_op_set_state(w.d.id, MGR_DESK_CREATING, uuid)) < 0)
		snprintf(err, len, "cannot store the domain UUID of desktop %u", w.d.id);
	if (rc == 0) {
		snprintf(w.def.uuid, sizeof(w.def.uuid), "%s", uuid);
		rc = MGR_FAULT("create.after_uuid", err, len);
	}
	if (rc == 0)
		rc = mgr_virt_define(w.d.host_id, &w.def, uuid, err, len);
	if (rc == 0)
		rc = MGR_FAULT("create.after_define", err, len);
	if (rc == 0 && late(j, task_ms, err, len))
		rc = -ETIMEDOUT;
	if (rc == 0)
		rc = mgr_virt_start(w.d.host_id, uuid, err, len);
	if (rc == 0)
		rc = MGR_FAULT("create.after_start", err, len);
	/* Its after_create tasks see it running; one failing undoes the create like any step.
	 * The job says when they run and when they are done: a restart in between rolls the
	 * create back rather than keep a desktop whose tasks did not finish. */
	if (rc == 0)
		rc = mgr_job_set_step(j->id, MGR_STEP_TASKS, err, len);
	if (rc == 0)
		rc = mgr_tasks_run(j, MGR_TASK_AFTER_CREATE, &task_ms, err, len);
	if (rc == 0)
		rc = mgr_job_set_step(j->id, MGR_STEP_TASKS_DONE, err, len);
	if (rc == 0)
		rc = MGR_FAULT("create.after_tasks", err, len);
	if (rc == 0 && late(j, task_ms, err, len))
		rc = -ETIMEDOUT;
	/* A desktop whose state cannot be stored fails: it would be undone at the next start. */
	if (rc == 0 && (rc = mgr_op_set_state(w.d.id, MGR_DESK_RUNNING, uuid)) < 0)
		snprintf(err, len, "cannot store the state of desktop %u", w.d.id);
	if (rc == 0) {
		MGR_FAULT("create.after_state", NULL, 0);
		mgr_repin_host(w.d.host_id);
		MGR_FAULT("create.after_repin", NULL, 0);
		return 0;
	}
	/* Undo every step that was done: nothing of the desktop stays. The UUID is fresh: what
	 * has it is ours, even if the define said it failed. */
	snprintf(w.d.uuid, sizeof(w.d.uuid), "%s", uuid);
	if (!port)
		w.d.port[0] = '\0';
	if (!clone)
		w.d.overlay[0] = '\0';
	teardown(&w);
	forget(w.d.id, NULL);
	mgr_repin_host(w.d.host_id);
	return rc;
}

int mgr_op_undo_create(uint32_t desktop_id, uint8_t step)
{
	struct work w;
	int running;

	load(desktop_id, &w);
	if (!w.found)
		return 0;
	running = w.d.uuid[0] ? mgr_virt_running(w.d.host_id, w.d.uuid) : -ENOENT;
	/*
	 * Its host does not answer: whether the domain exists is not known. Were
	 * the desktop forgotten, a domain defined before the restart would come
	 * back with the host, running on room given to others. It stays as it is
	 * (creating, its room held) until its host is back.
	 */
	if (running < 0 && running != -ENOENT) {
		tlog(LOG_WARNING,
		     TLOG_F(.desktop = w.d.id, .tenant = w.d.tenant_id, .host = w.d.host_id),
		     "desktop %u: host %s does not answer: its create is undone once it is back",
		     w.d.id, w.host);
		return running;
	}
	/*
	 * Review 1.5: the create's last writes (its state, its job) may not have
	 * made it to the store. Its domain running with the UUID stored before it
	 * was defined means every step was done: the desktop is the user's. Unless
	 * its job says its after_create tasks were running: cut short, they
	 * are not run again, the create is rolled back.
	 */
	if (step != MGR_STEP_TASKS && running == 1) {
		tlog(LOG_NOTICE,
		     TLOG_F(.desktop = w.d.id, .tenant = w.d.tenant_id, .host = w.d.host_id),
		     "desktop %u: its create had finished: kept", w.d.id);
		mgr_op_set_state(w.d.id, MGR_DESK_RUNNING, NULL);
		mgr_repin_host(w.d.host_id);
		return 1;
	}
	teardown(&w);
	forget(desktop_id, NULL);
	mgr_repin_host(w.d.host_id);
	return 0;
}

int mgr_op_delete(const struct mgr_job *j, bool run_tasks, char *err, size_t len)
{
	struct work w;
	char uuid[37], e2[512];
	bool gone;
	int rc, ran;

	load(j->desktop_id, &w);
	if (!w.found)
		return 0;
	/* Its before_delete tasks (leaving a domain, say): one failing keeps the desktop. Once
	 * they are done the job says so: a restart from here finishes the delete without them,
	 * before it keeps the desktop. */
	rc = run_tasks ? mgr_tasks_run(j, MGR_TASK_BEFORE_DELETE, NULL, err, len) : 0;
	if (rc == 0 && run_tasks)
		rc = mgr_job_set_step(j->id, MGR_STEP_TASKS_DONE, err, len);
	if (rc < 0) {
		mgr_op_resync(w.d.id);
		return rc;
	}
	ran = w.d.uuid[0] ? mgr_virt_running(w.d.host_id, w.d.uuid) : -ENOENT;
	/* Its CPU time to the end, for the usage history's last interval of it. */
	struct usage_end end = { .running = ran == 1 };
	if (end.running)
		end.cpu_ok = mgr_virt_cpu_time(w.d.host_id, w.d.uuid, &end.cpu_ns) == 0;
	rc = w.d.uuid[0] ? mgr_domain_undefine(w.d.host_id, w.d.uuid, err, len) : 0;
	gone = rc == 0 && ran >= 0;
	if (rc == 0)
		rc = MGR_FAULT("delete.after_undefine", err, len);
	if (rc == 0 && w.tessd[0])
		rc = mgr_vswitch_del_port(w.tessd, w.d.port, err, len);
	if (rc == 0)
		rc = MGR_FAULT("delete.after_port", err, len);
	if (rc < 0) {
		/* Not deleted: its domain comes back as it was, so that no desktop lacks one. */
		if (gone && mgr_virt_define(w.d.host_id, &w.def, uuid, e2, sizeof(e2)) == 0 &&
		    ran == 1)
			mgr_virt_start(w.d.host_id, w.d.uuid, e2, sizeof(e2));
		mgr_op_resync(w.d.id);
		return rc;
	}
	mgr_image_remove(w.d.overlay);
	MGR_FAULT("delete.after_overlay", NULL, 0);
	forget(w.d.id, &end);
	mgr_repin_host(w.d.host_id);
	MGR_FAULT("delete.after_forget", NULL, 0);
	return 0;
}

void mgr_op_redo_delete(uint32_t desktop_id, uint8_t step)
{
	struct mgr_job j = { .kind = MGR_JOB_DELETE, .desktop_id = desktop_id };
	char err[512];

	/* Tasks are never run here (tessmgrd is not ready yet, and they may be slow): a delete
	 * whose before_delete tasks had not finished is not done; its desktop is as libvirt has
	 * it, and may be deleted again. */
	if (step != MGR_STEP_TASKS_DONE) {
		tlog(LOG_NOTICE, TLOG_F(.desktop = desktop_id),
		     "desktop %u: its delete was interrupted before its tasks were done: kept",
		     desktop_id);
		mgr_op_resync(desktop_id);
		return;
	}
	if (mgr_op_delete(&j, false, err, sizeof(err)) < 0)
		tlog(LOG_ERR, TLOG_F(.desktop = desktop_id),
		     "desktop %u: its delete cannot finish: %s", desktop_id, err);
}

int mgr_op_power(const struct mgr_job *j, char *err, size_t len)
{
	struct work w;
	int rc;

	load(j->desktop_id, &w);
	if (!w.found) {
		snprintf(err, len, "desktop %u is gone", j->desktop_id);
		return -ENOENT;
	}
	switch (j->kind) {
	case MGR_JOB_START:
		rc = mgr_virt_start(w.d.host_id, w.d.uuid, err, len);
		break;
	case MGR_JOB_STOP:
		rc = mgr_virt_stop(w.d.host_id, w.d.uuid, mgr_conf.jobs.stop_timeout_sec, err, len);
		break;
	default:
		rc = mgr_virt_reboot(w.d.host_id, w.d.uuid, err, len);
		break;
	}
	mgr_op_resync(w.d.id);
	if (rc == 0 && j->kind == MGR_JOB_START) {
		/* A started domain gets its live pinning. */
		pthread_mutex_lock(&mgr.lock);
		struct mgr_desktop *d = mgr_desktop_get(&mgr, w.d.id);
		if (d)
			d->applied_valid = false;
		pthread_mutex_unlock(&mgr.lock);
		mgr_repin_host(w.d.host_id);
	}
	return rc;
}

void mgr_op_resync(uint32_t desktop_id)
{
	struct work w;
	int running;

	load(desktop_id, &w);
	if (!w.found || !w.d.uuid[0])
		return;
	running = mgr_virt_running(w.d.host_id, w.d.uuid);
	if (running >= 0)
		mgr_op_set_state(desktop_id, running ? MGR_DESK_RUNNING : MGR_DESK_STOPPED, NULL);
	else if (w.d.state == MGR_DESK_DELETING || w.d.state == MGR_DESK_MIGRATING)
		mgr_op_set_state(desktop_id, MGR_DESK_STOPPED, NULL); /* it can be asked again */
}
