/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Jobs (seed 001): every desktop operation is a job, persisted, run by a
 * pool of threads. On a host, light jobs (start, stop, reboot) go before
 * heavy ones (create, delete, migrate), but a heavy job goes next once
 * jobs.light_burst light ones started while it waited; between hosts, the
 * oldest of their next jobs goes first (so no host's jobs wait for ever). At
 * most jobs.per_host at once on one host and one at a time per desktop (a job
 * waits parked behind its desktop's previous one, out of its host's queue).
 * A job of the kind of its desktop's newest queued job is refused (409) and
 * a tenant has at most jobs.per_tenant queued jobs (429). A job failing or running past its
 * timeout is rolled back; one a restart interrupted is marked failed and
 * rolled back at the next start. The last jobs.history finished jobs are
 * kept (GET /jobs).
 */
#ifndef TESS_MGR_JOBS_H
#define TESS_MGR_JOBS_H

#include "mgr.h"

int mgr_jobs_start(void);
void mgr_jobs_stop(void);
/* Shutdown begins (before the HTTP server stops): requests waiting for a job return at once
 * (mgr_job_wait: -ESHUTDOWN), no job starts, a running qemu-img is stopped so that its job ends
 * and rolls back now rather than after a restart. */
void mgr_jobs_shutdown(void);

/* Queues a job of kind for desktop d (stored); NULL with e set. */
struct mgr_job *mgr_job_queue_locked(uint8_t kind, struct mgr_desktop *d, struct mgr_err *e);
/* Forgets a job just queued, whose store transaction is rolled back. */
void mgr_job_cancel_locked(struct mgr_job *j, struct mgr_desktop *d);
/* The scheduler, which the worker threads run: the next job to run, marked running (NULL: none can
 * run now). */
struct mgr_job *mgr_job_take_locked(void);
/* Records the end of a job taken (rc 0: succeeded, else failed with err). */
void mgr_job_finish_locked(const struct mgr_job *ran, int rc, const char *err);
/* Counts the jobs loaded from the store, and drops history beyond jobs.history. */
void mgr_jobs_loaded_locked(void);
/* At start: jobs queued or running before are failed and rolled back. */
void mgr_jobs_recover(void);
/* Host host_id answers again (connected): the creates a restart interrupted while it did not
 * (its desktops still creating, with no create job queued or running) are undone or kept. */
void mgr_jobs_finish_creates(uint32_t host_id);
/* Host host_id answers again: the domain definitions that moves rolled back while it did not
 * left there (a job's leftover_host_id) are removed. */
void mgr_jobs_finish_moves(uint32_t host_id);
/* A move of desktop_id ended: the definitions earlier moves of it left on hosts up now (whose
 * connect found it moving) are removed. */
void mgr_jobs_finish_moves_of(uint32_t desktop_id);
/* Waits until no job is queued or running (tests, shutdown), up to timeout_sec; 0 or -ETIMEDOUT. */
int mgr_jobs_drain(unsigned timeout_sec);

/* Waits until job id has finished (copied to out): 0, -ETIMEDOUT or -ESHUTDOWN (out: as it is
 * now), -ENOENT. */
int mgr_job_wait(uint32_t id, unsigned timeout_sec, struct mgr_job *out);

/* The work of each kind (desktop_ops.c): 0, or -errno with err. */
int mgr_op_create(const struct mgr_job *j, char *err, size_t len);
/* run_tasks false: its before_delete tasks are not run (the recovery's redo: they had run). */
int mgr_op_delete(const struct mgr_job *j, bool run_tasks, char *err, size_t len);
/* Stores job id's step (enum mgr_job_step): 0, or -EIO with err. */
int mgr_job_set_step(uint32_t id, uint8_t step, char *err, size_t len);
int mgr_op_power(const struct mgr_job *j, char *err, size_t len);
/* Moves a desktop to j->target_host_id (migrate.c): cold, or live on qemu hosts. */
int mgr_op_migrate(const struct mgr_job *j, char *err, size_t len);
/* Sets a desktop's state (and uuid when given) in memory and in the store: 0, or -EIO if the
 * store could not be written (memory has it anyway), -ENOENT if the desktop is gone. */
int mgr_op_set_state(uint32_t id, uint8_t state, const char *uuid);
/* Rolls back a migration a restart interrupted. */
void mgr_op_undo_migrate(const struct mgr_job *j);
/* Removes the definition a rolled-back move j left on j->leftover_host_id, now connected, unless
 * the desktop lives there again; the job forgets the host once done. */
void mgr_op_remove_leftover(const struct mgr_job *j);
/*
 * After a restart: undoes what a create job of desktop_id did, whatever it got to, and forgets
 * the desktop (0); unless the create had done its work (the domain with the stored UUID runs,
 * and step, the job's, does not say its after_create tasks were cut short), then the desktop
 * is kept (1, review 1.5). A host that does not answer leaves the desktop as it is, creating
 * (-errno): mgr_jobs_finish_creates() ends it once the host is back.
 */
int mgr_op_undo_create(uint32_t desktop_id, uint8_t step);
/* After a restart: finishes a delete that was interrupted (its steps may be done again) if its
 * before_delete tasks had finished (step), without running them; else the desktop is kept as
 * libvirt has it. */
void mgr_op_redo_delete(uint32_t desktop_id, uint8_t step);
/* A migration that did not run (its job could not be stored): the target's room goes back. */
void mgr_op_migrate_not_run(const struct mgr_job *j);
/* Brings a desktop's state back in line with libvirt after an interrupted job. */
void mgr_op_resync(uint32_t desktop_id);

#endif
