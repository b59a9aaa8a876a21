/* SPDX-License-Identifier: BSD-3-Clause */
/* /v1/tasks: workflow tasks (tasks.h), provider admins only. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_crud.h"

API_ARRAY_OPS(task, tasks, n_tasks)

/* Its model and tenant exist (they are matched by name when a job runs): a typo shows now, not
 * as a failed job (its program: task_remote_check). */
static bool task_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_task_spec *t = spec;

	(void)old;
	if (t->model[0] && mgr_model_by_name(&mgr, t->model) == NULL) {
		mgr_err_set(e, 400, "/model", "no model named '%s'", t->model);
		return false;
	}
	if (t->tenant[0] && mgr_tenant_by_name(&mgr, t->tenant) == NULL) {
		mgr_err_set(e, 400, "/tenant", "no tenant named '%s'", t->tenant);
		return false;
	}
	return true;
}
/* Only root or tessmgrd's user may change it (it runs as tessmgrd's user). */
static bool safe_owner(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}
/* Its program is an executable file that only root or tessmgrd's user can change, nor its
 * directory (symlinks followed, checked when the task is defined): asked before mgr.lock,
 * as the file system may be slow. */
static int task_remote_check(const void *spec, struct mgr_err *e)
{
	const struct mgr_task_spec *t = spec;
	char real[PATH_MAX], *slash;
	struct stat st, dir;

	if (stat(t->program, &st) < 0 || !S_ISREG(st.st_mode) || access(t->program, X_OK) < 0 ||
	    realpath(t->program, real) == NULL) {
		mgr_err_set(e, 400, "/program", "'%s' is not an executable file", t->program);
		return -EINVAL;
	}
	slash = strrchr(real, '/');
	if (slash)
		slash[slash == real ? 1 : 0] = '\0';
	if (!safe_owner(&st) || stat(real, &dir) < 0 || !safe_owner(&dir)) {
		mgr_err_set(e, 400, "/program",
			    "'%s' or its directory may be changed by others than root and "
			    "tessmgrd's user (owner, or group or world writable)",
			    t->program);
		return -EPERM;
	}
	return 0;
}

static const struct api_kind tasks = {
	API_ARRAY_FIELDS(task, MGR_TASK),
	.check = task_check,
	.ordered = true, /* tasks run in the order they were defined */
	.remote_check = task_remote_check,
};

void api_tasks(struct api_ctx *c)
{
	api_crud(c, &tasks);
}
