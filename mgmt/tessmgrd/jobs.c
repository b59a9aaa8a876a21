/* SPDX-License-Identifier: BSD-3-Clause */
#include "jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_t *threads;
static uint32_t n_threads;
static bool stopping;

static bool heavy(uint8_t kind)
{
	return kind == MGR_JOB_CREATE || kind == MGR_JOB_DELETE;
}

struct mgr_job *mgr_job_queue_locked(uint8_t kind, const struct mgr_desktop *d, struct mgr_err *e)
{
	struct mgr_job *j = calloc(1, sizeof(*j));

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
	if (mgr_store_put_job(j) < 0 || mgr_store_next_ids(mgr.next_id, 8) < 0) {
		mgr_err_set(e, 500, "", "cannot store the job");
		mgr.n_jobs--;
		free(j);
		return NULL;
	}
	pthread_cond_signal(&wake);
	return j;
}

/* Whether a job of this desktop, or too many of this host, run now. */
static bool blocked(const struct mgr_job *j)
{
	uint32_t on_host = 0;

	for (uint32_t i = 0; i < mgr.n_jobs; i++) {
		const struct mgr_job *o = mgr.jobs[i];
		if (o->state != MGR_JOB_RUNNING)
			continue;
		if (o->desktop_id == j->desktop_id)
			return true;
		on_host += o->host_id == j->host_id;
	}
	return on_host >= mgr_conf.jobs.per_host;
}

/* The next job to run: light before heavy, oldest first, not blocked. */
static struct mgr_job *pick(void)
{
	struct mgr_job *best = NULL;

	for (uint32_t i = 0; i < mgr.n_jobs; i++) {
		struct mgr_job *j = mgr.jobs[i];
		if (j->state != MGR_JOB_QUEUED || blocked(j))
			continue;
		/* Jobs of one desktop run in the order they were queued. */
		bool earlier = false;
		for (uint32_t k = 0; k < mgr.n_jobs && !earlier; k++)
			earlier = mgr.jobs[k]->state == MGR_JOB_QUEUED &&
				  mgr.jobs[k]->desktop_id == j->desktop_id &&
				  mgr.jobs[k]->id < j->id;
		if (earlier)
			continue;
		if (best == NULL || j->priority < best->priority ||
		    (j->priority == best->priority && j->id < best->id))
			best = j;
	}
	return best;
}

static int run(const struct mgr_job *j, char *err, size_t len)
{
	switch (j->kind) {
	case MGR_JOB_CREATE:
		return mgr_op_create(j, err, len);
	case MGR_JOB_DELETE:
		return mgr_op_delete(j, err, len);
	default:
		return mgr_op_power(j, err, len);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mgr.lock);
	while (!stopping) {
		struct mgr_job *j = pick(), copy;
		char err[512] = "";
		int rc;

		if (j == NULL) {
			pthread_cond_wait(&wake, &mgr.lock);
			continue;
		}
		j->state = MGR_JOB_RUNNING;
		j->started = time(NULL);
		mgr_store_put_job(j);
		copy = *j;
		pthread_mutex_unlock(&mgr.lock);
		rc = run(&copy, err, sizeof(err));
		pthread_mutex_lock(&mgr.lock);
		j = mgr_job_get(&mgr, copy.id);
		if (j) {
			j->state = rc == 0 ? MGR_JOB_SUCCEEDED : MGR_JOB_FAILED;
			j->finished = time(NULL);
			snprintf(j->error, sizeof(j->error), "%s", rc == 0 ? "" : err);
			mgr_store_put_job(j);
		}
		pthread_cond_broadcast(&done);
		/* A finished job may unblock others of its host or desktop. */
		pthread_cond_broadcast(&wake);
	}
	pthread_mutex_unlock(&mgr.lock);
	return NULL;
}

int mgr_jobs_start(void)
{
	threads = calloc(mgr_conf.jobs.workers, sizeof(*threads));
	if (threads == NULL)
		return -ENOMEM;
	stopping = false;
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

int mgr_jobs_drain(unsigned timeout_sec)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_sec;
	pthread_mutex_lock(&mgr.lock);
	for (;;) {
		bool busy = false;
		for (uint32_t i = 0; i < mgr.n_jobs && !busy; i++)
			busy = mgr.jobs[i]->state == MGR_JOB_QUEUED ||
			       mgr.jobs[i]->state == MGR_JOB_RUNNING;
		if (!busy)
			break;
		if (pthread_cond_timedwait(&done, &mgr.lock, &until) == ETIMEDOUT) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

void mgr_jobs_recover(void)
{
	uint32_t *undo = NULL, *resync = NULL, n_undo = 0, n_resync = 0;

	pthread_mutex_lock(&mgr.lock);
	undo = calloc(mgr.n_jobs + 1, sizeof(*undo));
	resync = calloc(mgr.n_jobs + 1, sizeof(*resync));
	for (uint32_t i = 0; undo && resync && i < mgr.n_jobs; i++) {
		struct mgr_job *j = mgr.jobs[i];
		if (j->state != MGR_JOB_QUEUED && j->state != MGR_JOB_RUNNING)
			continue;
		j->state = MGR_JOB_FAILED;
		j->finished = time(NULL);
		snprintf(j->error, sizeof(j->error), "interrupted by a restart of tessmgrd");
		mgr_store_put_job(j);
		if (j->kind == MGR_JOB_CREATE)
			undo[n_undo++] = j->desktop_id;
		else
			resync[n_resync++] = j->desktop_id;
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n_undo; i++)
		mgr_op_undo_create(undo[i]);
	for (uint32_t i = 0; i < n_resync; i++)
		mgr_op_resync(resync[i]);
	free(undo);
	free(resync);
}
