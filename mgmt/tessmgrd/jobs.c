/* SPDX-License-Identifier: BSD-3-Clause */
#include "jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "fault.h"
#include "http.h"
#include "image.h"
#include "store.h"
#include "tasks.h"
#include "usage_active.h"
#include "tlog.h"

static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_t *threads;
static uint32_t n_threads;
static bool stopping;
static bool shutting_down; /* SIGTERM: waiters return, running qemu-img is stopped */
static uint32_t pending;   /* jobs queued or running */

static bool heavy(uint8_t kind)
{
	return kind == MGR_JOB_CREATE || kind == MGR_JOB_DELETE || kind == MGR_JOB_MIGRATE;
}

/* Into its host's queue, ready to run: after the light jobs if light, else at the end. */
static int host_enqueue(struct mgr_host *h, struct mgr_job *j)
{
	struct mgr_job **q = realloc(h->queue, (h->n_queued + 1) * sizeof(*q));
	uint32_t at = j->priority ? h->n_queued : h->n_light;

	if (q == NULL)
		return -ENOMEM;
	h->queue = q;
	memmove(&q[at + 1], &q[at], (h->n_queued - at) * sizeof(*q));
	q[at] = j;
	h->n_queued++;
	h->n_light += !j->priority;
	return 0;
}

static void host_dequeue(struct mgr_host *h, const struct mgr_job *j)
{
	for (uint32_t i = 0; i < h->n_queued; i++) {
		if (h->queue[i] == j) {
			memmove(&h->queue[i], &h->queue[i + 1],
				(--h->n_queued - i) * sizeof(*h->queue));
			h->n_light -= !j->priority;
			return;
		}
	}
}

/*
 * Into its host's queue if its desktop's previous job has finished (or is
 * long forgotten); else parked behind it, to be queued when it finishes: a
 * queue holds only jobs that can run, so picking looks at its head only.
 */
static int place(struct mgr_host *h, struct mgr_job *j)
{
	struct mgr_job *prev = j->after ? mgr_job_get(&mgr, j->after) : NULL;

	if (prev == NULL || prev->state > MGR_JOB_RUNNING)
		return host_enqueue(h, j);
	prev->then = j->id;
	j->parked = true;
	h->n_parked++;
	return 0;
}

/* Refuses a job of the kind of the desktop's newest queued job (409), or past jobs.per_tenant
 * (429). */
static bool may_queue(uint8_t kind, const struct mgr_desktop *d, struct mgr_tenant *t,
		      struct mgr_err *e)
{
	/* The same as the newest queued job: that one already does what is asked, last. (An
	 * earlier job of the kind is no reason: stop, start, stop must end stopped.) */
	const struct mgr_job *q = mgr_job_get(&mgr, d->last_job);
	if (q && q->state == MGR_JOB_QUEUED && q->kind == kind) {
		mgr_count(jobs_duplicate_refused, 1);
		mgr_err_set(e, 409, "", "desktop %s: a %s job is already queued (job %u)", d->name,
			    mgr_job_kind_names[kind], q->id);
		return false;
	}
	if (t && t->jobs_queued >= mgr_conf.jobs.per_tenant) {
		mgr_count(jobs_tenant_refused, 1);
		mgr_err_set(e, 429, "",
			    "tenant %s has %u jobs queued (jobs.per_tenant): wait for them to run",
			    t->spec.name, t->jobs_queued);
		return false;
	}
	return true;
}

struct mgr_job *mgr_job_queue_locked(uint8_t kind, struct mgr_desktop *d, struct mgr_err *e)
{
	struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
	struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
	struct mgr_job *j;

	if (h == NULL) {
		mgr_err_set(e, 500, "", "desktop %s has no host", d->name);
		return NULL;
	}
	if (!may_queue(kind, d, t, e))
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL || mgr_add_job_locked(j) < 0) {
		free(j);
		mgr_err_set(e, 500, "", "out of memory");
		return NULL;
	}
	j->id = mgr_next_id_locked(MGR_JOB);
	j->kind = kind;
	j->state = MGR_JOB_QUEUED;
	j->priority = heavy(kind);
	j->desktop_id = d->id;
	j->host_id = d->host_id;
	j->tenant_id = d->tenant_id;
	j->created = time(NULL);
	j->timeout_sec = mgr_conf.jobs.timeout_sec;
	j->after = d->last_job;
	if (place(h, j) < 0) {
		mgr_err_set(e, 500, "", "out of memory");
		mgr.n_jobs--;
		free(j);
		return NULL;
	}
	d->last_job = j->id;
	if (t)
		t->jobs_queued++;
	pending++;
	if (mgr_store_put_job(j) < 0 || mgr_store_next_ids(mgr.next_id, MGR_KINDS) < 0) {
		mgr_err_set(e, 500, "", "cannot store the job");
		mgr_job_cancel_locked(j, d);
		return NULL;
	}
	pthread_cond_signal(&wake);
	mgr_event_job_locked(j);
	return j;
}

void mgr_job_cancel_locked(struct mgr_job *j, struct mgr_desktop *d)
{
	struct mgr_host *h = mgr_host_get(&mgr, j->host_id);
	struct mgr_tenant *t = mgr_tenant_get(&mgr, j->tenant_id);
	struct mgr_job *prev = j->after ? mgr_job_get(&mgr, j->after) : NULL;

	if (j->parked) {
		if (prev && prev->then == j->id)
			prev->then = 0;
		if (h)
			h->n_parked--;
	} else if (h) {
		host_dequeue(h, j);
	}
	if (t && t->jobs_queued)
		t->jobs_queued--;
	if (d && d->last_job == j->id)
		d->last_job = j->after;
	for (uint32_t i = 0; i < mgr.n_jobs; i++) {
		if (mgr.jobs[i] == j) {
			memmove(&mgr.jobs[i], &mgr.jobs[i + 1],
				(--mgr.n_jobs - i) * sizeof(*mgr.jobs));
			break;
		}
	}
	pending--;
	free(j);
}

/*
 * A host's next job: its oldest light job, but its oldest heavy one when
 * there is no light job or jobs.light_burst light jobs started in a row
 * while a heavy one waited. Light jobs (start, stop) stay quick to answer,
 * and a tenant that keeps posting them cannot starve other tenants'
 * creates and deletes on a shared host (review 1.7).
 */
static struct mgr_job *host_next(const struct mgr_host *h)
{
	bool heavy_waits = h->n_queued > h->n_light;

	if (h->n_light && (!heavy_waits || h->light_streak < mgr_conf.jobs.light_burst))
		return h->queue[0];
	return heavy_waits ? h->queue[h->n_light] : NULL;
}

/* The next job to run, among the hosts under jobs.per_host: one look per host. */
static struct mgr_job *pick(struct mgr_host **host)
{
	struct mgr_job *best = NULL;

	for (uint32_t i = 0; i < mgr.n_hosts; i++) {
		struct mgr_host *h = mgr.hosts[i];
		struct mgr_job *j;
		if (h->n_queued == 0 || h->jobs_running >= mgr_conf.jobs.per_host)
			continue;
		j = host_next(h);
		if (j && (best == NULL || j->id < best->id)) {
			best = j;
			*host = h;
		}
	}
	return best;
}

/* Finished jobs beyond jobs.history go, oldest first, from memory and the store. */
static void prune_locked(void)
{
	for (uint32_t i = 0; mgr.n_jobs - pending > mgr_conf.jobs.history && i < mgr.n_jobs;) {
		struct mgr_job *j = mgr.jobs[i];
		/* A leftover definition waits for its host on the job (mgr_jobs_finish_moves). */
		if (j->state <= MGR_JOB_RUNNING ||
		    (j->leftover_host_id && mgr_host_get(&mgr, j->leftover_host_id))) {
			i++;
			continue;
		}
		if (mgr_store_del_job(j->id) < 0)
			return; /* kept; tried again after the next job */
		memmove(&mgr.jobs[i], &mgr.jobs[i + 1], (--mgr.n_jobs - i) * sizeof(*mgr.jobs));
		json_decref(j->tasks);
		free(j);
	}
}

/*
 * A job the store does not know runs is not run (review 1.5): whatever it
 * did, the next start would undo it. Its desktop is as the job found it.
 */
static int not_run(const struct mgr_job *j, char *err, size_t len)
{
	snprintf(err, len, "cannot store the job's state: not run");
	if (j->kind == MGR_JOB_CREATE)
		mgr_op_undo_create(j->desktop_id, MGR_STEP_NONE);
	else if (j->kind == MGR_JOB_MIGRATE)
		mgr_op_migrate_not_run(j);
	else
		mgr_op_resync(j->desktop_id);
	return -EIO;
}

static int run(const struct mgr_job *j, char *err, size_t len)
{
	switch (j->kind) {
	case MGR_JOB_CREATE:
		return mgr_op_create(j, err, len);
	case MGR_JOB_DELETE:
		return mgr_op_delete(j, true, err, len);
	case MGR_JOB_MIGRATE:
		return mgr_op_migrate(j, err, len);
	default:
		return mgr_op_power(j, err, len);
	}
}

/* As mgr_job_take_locked; *stored: whether the store says it runs. */
static struct mgr_job *take_locked(bool *stored)
{
	struct mgr_host *h = NULL;
	struct mgr_job *j = pick(&h);

	if (j == NULL)
		return NULL;
	/* A light job passing a waiting heavy one counts towards jobs.light_burst. */
	h->light_streak = j->priority || h->n_queued == h->n_light ? 0 : h->light_streak + 1;
	host_dequeue(h, j);
	h->jobs_running++;
	struct mgr_tenant *t = mgr_tenant_get(&mgr, j->tenant_id);
	if (t && t->jobs_queued)
		t->jobs_queued--;
	j->state = MGR_JOB_RUNNING;
	j->started = time(NULL);
	mgr_event_job_locked(j);
	*stored = MGR_FAULT("job.store_take", NULL, 0) == 0 && mgr_store_put_job(j) == 0;
	return j;
}

/* The job parked behind j (its desktop's next) can run now: into its host's queue. */
static void release(struct mgr_job *j)
{
	struct mgr_job *next = j->then ? mgr_job_get(&mgr, j->then) : NULL;
	struct mgr_host *h = next ? mgr_host_get(&mgr, next->host_id) : NULL;

	j->then = 0;
	if (next == NULL || !next->parked)
		return;
	next->parked = false;
	if (h) {
		h->n_parked--;
		if (host_enqueue(h, next) == 0)
			return;
	}
	/* No host any more, or no memory: it fails rather than wait for good. */
	next->state = MGR_JOB_FAILED;
	next->finished = time(NULL);
	snprintf(next->error, sizeof(next->error), "could not be queued on its host");
	mgr_store_put_job(next);
	mgr_event_job_locked(next);
	struct mgr_tenant *t = mgr_tenant_get(&mgr, next->tenant_id);
	if (t && t->jobs_queued)
		t->jobs_queued--;
	pending--;
	release(next);
}

struct mgr_job *mgr_job_take_locked(void)
{
	bool stored;

	return take_locked(&stored);
}

/*
 * A job's error as valid UTF-8 cut at a whole character: the job's JSON (answers, events,
 * the store) and its log line are void otherwise. in was cut to its buffer, maybe inside
 * one, and holds tools' own bytes (qemu-img's, libvirt's).
 */
static void mend(const char *in, char *out, size_t len)
{
	char cut[sizeof(((struct mgr_job *)0)->error)];

	snprintf(cut, sizeof(cut), "%.*s", (int)http_utf8_prefix(in, sizeof(cut) - 1), in);
	http_utf8_escape(cut, out, len);
}

void mgr_job_finish_locked(const struct mgr_job *ran, int rc, const char *err)
{
	/* Looked up again: the host may be gone once a delete job released it. */
	struct mgr_host *h = mgr_host_get(&mgr, ran->host_id);
	struct mgr_job *j = mgr_job_get(&mgr, ran->id);

	if (h)
		h->jobs_running--;
	mgr_usage_active_stale(); /* its domain may run, or not, since */
	if (j) {
		/* The tasks' results the job's thread gathered (its copy's array) become the job's.
		 */
		if (j->tasks != ran->tasks && ran->tasks && json_array_size(ran->tasks)) {
			json_decref(j->tasks);
			j->tasks = json_incref(ran->tasks);
		}
		j->state = rc == 0 ? MGR_JOB_SUCCEEDED : MGR_JOB_FAILED;
		j->finished = time(NULL);
		mend(rc == 0 ? "" : err, j->error, sizeof(j->error));
		mgr_event_job_locked(j);
		/* Not stored: the next start sees it running and checks libvirt (review 1.5). */
		if (MGR_FAULT("job.store_finish", NULL, 0) < 0 || mgr_store_put_job(j) < 0)
			tlog(LOG_ERR,
			     TLOG_F(.job = j->id, .desktop = j->desktop_id, .tenant = j->tenant_id,
				    .host = j->host_id),
			     "job %u: cannot store that it %s", j->id,
			     rc == 0 ? "succeeded" : "failed");
		release(j);
	}
	pending--;
	prune_locked();
	pthread_cond_broadcast(&done);
	/* A finished job may unblock others of its host or desktop. */
	pthread_cond_broadcast(&wake);
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mgr.lock);
	while (!stopping) {
		bool stored = false;
		struct mgr_job *j = take_locked(&stored), copy;
		char raw[512] = "", err[512];
		int rc;

		if (j == NULL) {
			pthread_cond_wait(&wake, &mgr.lock);
			continue;
		}
		copy = *j;
		copy.tasks = json_array(); /* its tasks' results, run without the lock */
		pthread_mutex_unlock(&mgr.lock);
		const struct tlog_fields *f =
			TLOG_F(.job = copy.id, .tenant = copy.tenant_id, .desktop = copy.desktop_id,
			       .host = copy.host_id);
		tlog(LOG_DEBUG, f, "job %u: %s of desktop %u on host %u: started", copy.id,
		     mgr_job_kind_names[copy.kind], copy.desktop_id, copy.host_id);
		rc = stored ? run(&copy, raw, sizeof(raw)) : not_run(&copy, raw, sizeof(raw));
		mend(raw, err, sizeof(err));
		tlog(rc == 0 ? LOG_INFO : LOG_WARNING, f, "job %u: %s of desktop %u: %s%s%s",
		     copy.id, mgr_job_kind_names[copy.kind], copy.desktop_id,
		     rc == 0 ? "succeeded" : "failed", rc == 0 ? "" : ": ", rc == 0 ? "" : err);
		pthread_mutex_lock(&mgr.lock);
		mgr_job_finish_locked(&copy, rc, err);
		json_decref(copy.tasks);
	}
	pthread_mutex_unlock(&mgr.lock);
	return NULL;
}

void mgr_jobs_loaded_locked(void)
{
	pending = 0; /* mgr_jobs_recover() failed those a restart interrupted */
	for (uint32_t i = 0; i < mgr.n_jobs; i++)
		pending += mgr.jobs[i]->state <= MGR_JOB_RUNNING;
	prune_locked();
}

int mgr_jobs_start(void)
{
	threads = calloc(mgr_conf.jobs.workers, sizeof(*threads));
	if (threads == NULL)
		return -ENOMEM;
	stopping = false;
	pthread_mutex_lock(&mgr.lock);
	mgr_jobs_loaded_locked();
	pthread_mutex_unlock(&mgr.lock);
	for (n_threads = 0; n_threads < mgr_conf.jobs.workers; n_threads++)
		if (pthread_create(&threads[n_threads], NULL, worker, NULL) != 0)
			return -EAGAIN;
	return 0;
}

void mgr_jobs_stop(void)
{
	pthread_mutex_lock(&mgr.lock);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	n_threads = 0;
}

void mgr_jobs_shutdown(void)
{
	pthread_mutex_lock(&mgr.lock);
	shutting_down = true;
	stopping = true; /* no new job starts; the running ones end (rolled back) */
	pthread_cond_broadcast(&done);
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&mgr.lock);
	mgr_image_abort();
	mgr_tasks_abort();
}

int mgr_jobs_drain(unsigned timeout_sec)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_sec;
	pthread_mutex_lock(&mgr.lock);
	while (pending) {
		if (pthread_cond_timedwait(&done, &mgr.lock, &until) == ETIMEDOUT) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

int mgr_job_set_step(uint32_t id, uint8_t step, char *err, size_t len)
{
	struct mgr_job *j;
	int rc = 0;

	pthread_mutex_lock(&mgr.lock);
	j = mgr_job_get(&mgr, id);
	if (j) {
		j->step = step;
		if (mgr_store_put_job(j) < 0) {
			snprintf(err, len, "cannot store the progress of job %u", id);
			rc = -EIO;
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

int mgr_job_wait(uint32_t id, unsigned timeout_sec, struct mgr_job *out)
{
	struct timespec until;
	int rc = -ETIMEDOUT;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_sec;
	pthread_mutex_lock(&mgr.lock);
	for (;;) {
		const struct mgr_job *j = mgr_job_get(&mgr, id);
		if (j == NULL) {
			rc = -ENOENT;
			break;
		}
		if (j->state > MGR_JOB_RUNNING) {
			*out = *j;
			out->tasks = NULL; /* the job's: read under the lock only */
			rc = 0;
			break;
		}
		if (shutting_down) {
			*out = *j;
			out->tasks = NULL;
			rc = -ESHUTDOWN;
			break;
		}
		if (pthread_cond_timedwait(&done, &mgr.lock, &until) == ETIMEDOUT) {
			/* Looked up again: it may have finished and been pruned meanwhile. */
			j = mgr_job_get(&mgr, id);
			if (j) {
				*out = *j;
				out->tasks = NULL;
			}
			rc = j == NULL ? -ENOENT : j->state > MGR_JOB_RUNNING ? 0 : -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

/* Undoes or keeps what create job job_id (0: no longer known) left of desktop_id; the job says
 * which, or that its host did not answer. */
static void finish_create(uint32_t desktop_id, uint32_t job_id, uint8_t step)
{
	int rc = mgr_op_undo_create(desktop_id, step);
	struct mgr_job *j;

	if (rc == 0)
		return;
	pthread_mutex_lock(&mgr.lock);
	j = mgr_job_get(&mgr, job_id);
	if (j) {
		if (rc > 0) { /* its work was done */
			j->state = MGR_JOB_SUCCEEDED;
			j->error[0] = '\0';
		} else {
			snprintf(j->error, sizeof(j->error),
				 "interrupted by a restart of tessmgrd; its host did not answer: "
				 "undone once it is back");
		}
		if (mgr_store_put_job(j) < 0)
			tlog(LOG_ERR,
			     TLOG_F(.job = j->id, .desktop = j->desktop_id, .tenant = j->tenant_id,
				    .host = j->host_id),
			     "job %u: cannot store its end", j->id);
	}
	pthread_mutex_unlock(&mgr.lock);
}

void mgr_jobs_finish_creates(uint32_t host_id)
{
	uint32_t *ids, *jobs, n = 0;
	uint8_t *steps;

	pthread_mutex_lock(&mgr.lock);
	ids = calloc(mgr.n_desktops + 1, sizeof(*ids));
	jobs = calloc(mgr.n_desktops + 1, sizeof(*jobs));
	steps = calloc(mgr.n_desktops + 1, sizeof(*steps));
	for (uint32_t i = 0; ids && jobs && steps && i < mgr.n_desktops; i++) {
		const struct mgr_desktop *d = mgr.desktops[i];
		bool active = false;
		if (d->host_id != host_id || d->state != MGR_DESK_CREATING)
			continue;
		/* Creating with its create job queued or running is a create under way. The
		 * newest create job of the desktop has the step it got to. */
		jobs[n] = 0;
		steps[n] = MGR_STEP_NONE;
		for (uint32_t k = 0; k < mgr.n_jobs && !active; k++) {
			const struct mgr_job *j = mgr.jobs[k];
			if (j->desktop_id != d->id)
				continue;
			active = j->state == MGR_JOB_QUEUED || j->state == MGR_JOB_RUNNING;
			if (j->kind == MGR_JOB_CREATE && j->id > jobs[n]) {
				jobs[n] = j->id;
				steps[n] = j->step;
			}
		}
		if (!active)
			ids[n++] = d->id;
	}
	pthread_mutex_unlock(&mgr.lock);
	if (!ids || !jobs || !steps)
		tlog(LOG_ERR, TLOG_F(.host = host_id),
		     "host %u: out of memory: its interrupted creates wait for its next connect",
		     host_id);
	for (uint32_t i = 0; i < n; i++)
		finish_create(ids[i], jobs[i], steps[i]);
	free(steps);
	free(jobs);
	free(ids);
}

/*
 * The definitions rolled-back moves left on host_id (0: on any host up now)
 * of desktop_id (0: any desktop) are removed.
 */
static void finish_leftovers(uint32_t host_id, uint32_t desktop_id)
{
	struct mgr_job *left;
	uint32_t n = 0;

	pthread_mutex_lock(&mgr.lock);
	left = calloc(mgr.n_jobs + 1, sizeof(*left));
	for (uint32_t i = 0; left && i < mgr.n_jobs; i++) {
		const struct mgr_job *j = mgr.jobs[i];
		const struct mgr_host *h;
		if (!j->leftover_host_id || j->state <= MGR_JOB_RUNNING ||
		    (desktop_id && j->desktop_id != desktop_id))
			continue;
		/* The host that connects, or any that is up (a lookup only for a leftover). */
		h = host_id ? NULL : mgr_host_get(&mgr, j->leftover_host_id);
		if (host_id ? j->leftover_host_id != host_id : !(h && h->up))
			continue;
		left[n] = *j;
		left[n++].tasks = NULL; /* the copy does not own them */
	}
	pthread_mutex_unlock(&mgr.lock);
	if (left == NULL)
		tlog(LOG_ERR, TLOG_F(.host = host_id, .desktop = desktop_id),
		     "out of memory: the definitions moves left wait for their host's next "
		     "connect");
	for (uint32_t i = 0; i < n; i++)
		mgr_op_remove_leftover(&left[i]);
	free(left);
}

void mgr_jobs_finish_moves(uint32_t host_id)
{
	finish_leftovers(host_id, 0);
}

void mgr_jobs_finish_moves_of(uint32_t desktop_id)
{
	finish_leftovers(0, desktop_id);
}

void mgr_jobs_recover(void)
{
	uint32_t *undo = NULL, *undo_job = NULL, *resync = NULL, *redo = NULL, n_undo = 0,
		 n_resync = 0, n_redo = 0, n_moves = 0;
	uint8_t *undo_step = NULL, *redo_step = NULL;
	struct mgr_job *moves = NULL;

	pthread_mutex_lock(&mgr.lock);
	undo = calloc(mgr.n_jobs + 1, sizeof(*undo));
	resync = calloc(mgr.n_jobs + 1, sizeof(*resync));
	moves = calloc(mgr.n_jobs + 1, sizeof(*moves));
	redo = calloc(mgr.n_jobs + 1, sizeof(*redo));
	undo_job = calloc(mgr.n_jobs + 1, sizeof(*undo_job));
	undo_step = calloc(mgr.n_jobs + 1, sizeof(*undo_step));
	redo_step = calloc(mgr.n_jobs + 1, sizeof(*redo_step));
	for (uint32_t i = 0; undo && undo_job && undo_step && redo_step && resync && moves &&
			     redo && i < mgr.n_jobs;
	     i++) {
		struct mgr_job *j = mgr.jobs[i];
		if (j->state != MGR_JOB_QUEUED && j->state != MGR_JOB_RUNNING)
			continue;
		j->state = MGR_JOB_FAILED;
		j->finished = time(NULL);
		snprintf(j->error, sizeof(j->error), "interrupted by a restart of tessmgrd");
		if (mgr_store_put_job(j) < 0)
			tlog(LOG_ERR,
			     TLOG_F(.job = j->id, .desktop = j->desktop_id, .tenant = j->tenant_id,
				    .host = j->host_id),
			     "job %u: cannot store that it failed", j->id);
		if (j->kind == MGR_JOB_CREATE) {
			undo_job[n_undo] = j->id;
			undo_step[n_undo] = j->step;
			undo[n_undo++] = j->desktop_id;
		} else if (j->kind == MGR_JOB_MIGRATE)
			moves[n_moves++] = *j;
		else if (j->kind == MGR_JOB_DELETE) {
			redo_step[n_redo] = j->step;
			redo[n_redo++] = j->desktop_id;
		} else
			resync[n_resync++] = j->desktop_id;
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n_undo; i++)
		finish_create(undo[i], undo_job[i], undo_step[i]);
	for (uint32_t i = 0; i < n_moves; i++)
		mgr_op_undo_migrate(&moves[i]);
	for (uint32_t i = 0; i < n_redo; i++)
		mgr_op_redo_delete(redo[i], redo_step[i]);
	for (uint32_t i = 0; i < n_resync; i++)
		mgr_op_resync(resync[i]);
	free(redo);
	free(redo_step);
	free(undo_step);
	free(undo_job);
	free(undo);
	free(resync);
	free(moves);
}
