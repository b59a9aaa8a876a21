/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Workflow tasks (seed 001): programs the provider runs at points of desktop
 * jobs (before/after a create, before a delete, after a move), for every
 * desktop or those of one model and/or tenant. A task runs from its job's
 * thread, without mgr.lock: posix_spawn (no shell), a cleared environment
 * but for TESS_* variables, its own process group (killed at its timeout),
 * stdout and stderr kept up to 64 KiB. Each result goes into the job
 * (tasks[] in GET /v1/jobs/ID); a task that fails fails its job, which
 * rolls back, unless the task says continue_on_error.
 */
#ifndef TESS_MGR_TASKS_H
#define TESS_MGR_TASKS_H

#include <stddef.h>

#include "mgr.h"

#define MGR_TASK_OUTPUT_MAX (64 * 1024) /* of a task's output to the log */
#define MGR_TASK_KEEP       (2 * 1024)  /* the job keeps its first and last MGR_TASK_KEEP bytes */

/* What ${desktop} ${tenant} ${host} ${address} ${ip} stand for (mgr_task_var_names). */
struct mgr_task_vars {
	char desktop[MGR_NAME_LEN], tenant[MGR_NAME_LEN], host[MGR_NAME_LEN];
	char address[18]; /* the desktop's MAC address */
	char ip[16];      /* its IPv4 address, "" without one (network.h) */
};

/* arg with the variables substituted, into out (len): 0, or -ENOSPC if it does not fit. */
int mgr_task_subst(const char *arg, const struct mgr_task_vars *v, char *out, size_t len);

/*
 * Runs the enabled tasks of when that apply to job j's desktop (its tenant's and model's,
 * and those for all), in id order, appending each result to j->tasks. 0, or -EIO with err
 * when one failed that does not continue on error (the tasks after it are not run). Their time
 * is added to *ms (NULL: not told): a task's bound is its own timeout_sec, and the job's
 * jobs.timeout_sec leaves it out.
 */
int mgr_tasks_run(const struct mgr_job *j, enum mgr_task_when when, uint64_t *ms, char *err,
		  size_t len);

/* Shutdown: running tasks are killed (their jobs fail and roll back), none starts. */
void mgr_tasks_abort(void);

#endif
