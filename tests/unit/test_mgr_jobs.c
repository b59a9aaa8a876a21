/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's job scheduler, on a real SQLite store: light jobs before
 * heavy ones, oldest first, but a heavy one after jobs.light_burst light
 * ones passed it; jobs.per_host; one job at a time per desktop, in the
 * order queued, the waiting ones parked out of the host's queue; one
 * queued job per kind and desktop; jobs.per_tenant; a cancelled job
 * forgotten; finished jobs beyond jobs.history dropped from memory and the
 * store.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "jobs.h"
#include "store.h"
#include "unit_store_rm.h"
#include "unit_mgr_users.h"

static char dir[] = "/tmp/tess-unit-jobs-XXXXXX";
static char db[sizeof(dir) + 16];

static struct mgr_host *add_host(uint32_t id)
{
	struct mgr_host **a = realloc(mgr.hosts, (mgr.n_hosts + 1) * sizeof(*a));
	struct mgr_host *h = calloc(1, sizeof(*h));

	assert_non_null(a);
	assert_non_null(h);
	h->id = id;
	mgr.hosts = a;
	a[mgr.n_hosts++] = h;
	return h;
}

static struct mgr_desktop *add_desktop(uint32_t id, uint32_t host_id)
{
	struct mgr_desktop *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->id = id;
	d->host_id = host_id;
	d->tenant_id = 1;
	snprintf(d->name, sizeof(d->name), "d%u", id);
	assert_int_equal(mgr_add_desktop_locked(d), 0);
	return d;
}

static struct mgr_job *queue(uint8_t kind, struct mgr_desktop *d)
{
	struct mgr_err e = { 0 };
	struct mgr_job *j = mgr_job_queue_locked(kind, d, &e);

	assert_non_null(j);
	return j;
}

/* Takes the next job, which must be want (NULL: none may run). */
static void take(const struct mgr_job *want)
{
	struct mgr_job *j = mgr_job_take_locked();

	assert_ptr_equal(j, want);
	if (j)
		assert_int_equal(j->state, MGR_JOB_RUNNING);
}

static void finish(struct mgr_job *j)
{
	struct mgr_job copy = *j;

	mgr_job_finish_locked(&copy, 0, "");
}

static int64_t stored_jobs(void)
{
	sqlite3 *s;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(s, "SELECT count(*) FROM jobs", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(s);
	return n;
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	memset(&mgr_conf, 0, sizeof(mgr_conf));
	unit_users_conf();
	mgr_conf.jobs.per_host = 1;
	mgr_conf.jobs.history = 10;
	mgr_conf.jobs.timeout_sec = 600;
	mgr_conf.jobs.per_tenant = 100;
	mgr_conf.jobs.light_burst = 100;
	memcpy(dir, "/tmp/tess-unit-jobs-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, sizeof(db), "%s/store.db", dir);
	snprintf(mgr_conf.store, sizeof(mgr_conf.store), "%s", db);
	snprintf(mgr_conf.state_dir, sizeof(mgr_conf.state_dir), "%s", dir);
	if (mgr_init(err, sizeof(err)) < 0) {
		fprintf(stderr, "mgr_init: %s\n", err);
		return -1;
	}
	mgr_jobs_loaded_locked();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mgr_fini();
	memset(&mgr, 0, sizeof(mgr));
	pthread_mutex_init(&mgr.lock, NULL);
	unit_store_remove(db, dir);
	return 0;
}

/*
 * A scheduling script: desktop i + 1 on host desk_host[i] (hosts 1..n made first), then
 * steps in order: QUEUE a job of kind for desktop n (jobs are numbered 1, 2, ... as queued),
 * TAKE the job the scheduler must run next (job n; 0: none may run), FINISH job n.
 */
enum step_op { END, QUEUE, TAKE, FINISH };

struct step {
	enum step_op op;
	uint32_t n;
	uint8_t kind;
};

struct script {
	uint32_t per_host;
	uint32_t desk_host[4];
	struct step steps[20];
};

#define Q(kind, desk)                       \
	{                                   \
		QUEUE, desk, MGR_JOB_##kind \
	}
#define T(job)               \
	{                    \
		TAKE, job, 0 \
	}
#define F(job)                 \
	{                      \
		FINISH, job, 0 \
	}

/* Runs s; jobs: the jobs it queued, in order. */
static void run(const struct script *s, struct mgr_job *jobs[20])
{
	struct mgr_desktop *d[4] = { NULL };
	uint32_t n_jobs = 0, hosts = 0;

	mgr_conf.jobs.per_host = s->per_host;
	for (uint32_t i = 0; i < 4; i++)
		while (hosts < s->desk_host[i])
			add_host(++hosts);
	for (uint32_t i = 0; i < 4 && s->desk_host[i]; i++)
		d[i] = add_desktop(i + 1, s->desk_host[i]);
	for (const struct step *st = s->steps; st->op != END; st++) {
		print_message("step %td\n", st - s->steps);
		if (st->op == QUEUE)
			jobs[n_jobs++] = queue(st->kind, d[st->n - 1]);
		else if (st->op == TAKE)
			take(st->n ? jobs[st->n - 1] : NULL);
		else
			finish(jobs[st->n - 1]);
	}
}

static void test_light_jobs_before_heavy_ones_oldest_first(void **state)
{
	/* A desktop's next job (4) runs once its previous one (2) has finished. */
	static const struct script s = {
		4,
		{ 1, 1, 1 },
		{ Q(CREATE, 1), Q(STOP, 2), Q(REBOOT, 3), T(2), T(3), T(1), T(0), F(2),
		  Q(DELETE, 2), T(4), T(0) },
	};
	struct mgr_job *j[20];

	(void)state;
	run(&s, j);
	assert_int_equal(j[3]->priority, 1);
}

static void test_per_host_limit(void **state)
{
	/* Host 1 is at its limit: host 2's job (4), queued later, runs. */
	static const struct script s = {
		2,
		{ 1, 1, 1, 2 },
		{ Q(CREATE, 1), Q(CREATE, 2), Q(CREATE, 3), Q(CREATE, 4), T(1), T(2), T(4), T(0),
		  F(2), T(3) },
	};
	struct mgr_job *j[20];

	(void)state;
	run(&s, j);
	assert_int_equal(mgr.hosts[0]->jobs_running, 2);
	assert_int_equal(mgr.hosts[0]->n_queued, 0);
}

static void test_one_job_per_desktop_in_order(void **state)
{
	/* The light jobs of desktop 1 (2, 3) wait for its delete (1), queued first. */
	static const struct script s = {
		4,
		{ 1, 1 },
		{ Q(DELETE, 1), Q(START, 1), Q(STOP, 1), Q(CREATE, 2), T(1), T(4), T(0), F(1), T(2),
		  T(0), F(2), T(3), F(3), F(4), T(0) },
	};
	struct mgr_job *j[20];

	(void)state;
	run(&s, j);
}

static void test_cancelled_job_is_forgotten(void **state)
{
	struct mgr_desktop *a;
	struct mgr_job *first, *second;
	uint32_t n;

	(void)state;
	add_host(1);
	a = add_desktop(1, 1);
	first = queue(MGR_JOB_CREATE, a);
	n = mgr.n_jobs;
	second = queue(MGR_JOB_START, a);
	mgr_job_cancel_locked(second, a);
	assert_int_equal(mgr.n_jobs, n);
	assert_int_equal(a->last_job, first->id);
	assert_int_equal(mgr.hosts[0]->n_queued, 1);
	take(first);
	finish(first);
	take(NULL);
	assert_int_equal(mgr_jobs_drain(0), 0);
}

static void test_history_is_bounded(void **state)
{
	struct mgr_desktop *a;
	struct mgr_job *held;

	(void)state;
	mgr_conf.jobs.per_host = 2;
	add_host(1);
	add_host(2);
	a = add_desktop(1, 1);
	/* A job still running is never dropped, however old. */
	held = queue(MGR_JOB_CREATE, add_desktop(2, 2));
	take(held);
	for (unsigned i = 0; i < 25; i++) {
		struct mgr_job *j = queue(MGR_JOB_STOP, a);
		take(j);
		finish(j);
	}
	assert_int_equal(mgr.n_jobs, 11);
	assert_int_equal(stored_jobs(), 11);
	assert_ptr_equal(mgr_job_get(&mgr, held->id), held);
	assert_int_equal(mgr.jobs[1]->id, held->id + 16);
	assert_int_equal(mgr_jobs_drain(0), -ETIMEDOUT);
	finish(held);
	assert_int_equal(mgr.n_jobs, 10);
	assert_int_equal(stored_jobs(), 10);
	assert_int_equal(mgr_jobs_drain(0), 0);
}

static void test_repeat_of_newest_queued_job_is_refused(void **state)
{
	struct mgr_err e = { 0 };
	struct mgr_desktop *a, *b;
	struct mgr_job *create, *start;

	(void)state;
	add_host(1);
	a = add_desktop(1, 1);
	b = add_desktop(2, 1);
	create = queue(MGR_JOB_CREATE, a);
	queue(MGR_JOB_START, a);
	queue(MGR_JOB_STOP, a);
	/* The newest queued job is a stop: another stop would do nothing more. */
	assert_null(mgr_job_queue_locked(MGR_JOB_STOP, a, &e));
	assert_int_equal(e.status, 409);
	/* A start after it is what the user asks last: start, stop, start ends started. */
	queue(MGR_JOB_START, a);
	/* Queued behind the create, not in the host's queue: a pick never looks at them. */
	assert_int_equal(mgr.hosts[0]->n_queued, 1);
	assert_int_equal(mgr.hosts[0]->n_parked, 3);
	take(create);
	finish(create);
	/* Running is not queued: another start may wait behind it. */
	start = queue(MGR_JOB_START, b);
	assert_int_equal(mgr.hosts[0]->n_queued, 2); /* a's first start, then b's */
	mgr_conf.jobs.per_host = 2;
	take(mgr.hosts[0]->queue[0]);
	take(start);
	queue(MGR_JOB_START, b);
}

static void test_heavy_job_after_light_burst(void **state)
{
	struct mgr_desktop *d[4];
	struct mgr_job *create, *stop[3];

	(void)state;
	mgr_conf.jobs.light_burst = 2;
	add_host(1);
	for (uint32_t i = 0; i < 4; i++)
		d[i] = add_desktop(i + 1, 1);
	create = queue(MGR_JOB_CREATE, d[3]);
	for (uint32_t i = 0; i < 3; i++)
		stop[i] = queue(MGR_JOB_STOP, d[i]);
	take(stop[0]);
	finish(stop[0]);
	take(stop[1]);
	finish(stop[1]);
	/* Two light jobs passed the create: it goes next. */
	take(create);
	finish(create);
	take(stop[2]);
	finish(stop[2]);
	take(NULL);
}

static void test_tenant_cap(void **state)
{
	struct mgr_err e = { 0 };
	struct mgr_desktop *d[3];
	struct mgr_job *first;

	(void)state;
	mgr_conf.jobs.per_tenant = 2;
	mgr.tenants = calloc(1, sizeof(*mgr.tenants));
	assert_non_null(mgr.tenants);
	mgr.tenants[0].id = 1;
	mgr.n_tenants = 1;
	add_host(1);
	for (uint32_t i = 0; i < 3; i++)
		d[i] = add_desktop(i + 1, 1);
	first = queue(MGR_JOB_STOP, d[0]);
	queue(MGR_JOB_STOP, d[1]);
	assert_null(mgr_job_queue_locked(MGR_JOB_STOP, d[2], &e));
	assert_int_equal(e.status, 429);
	/* A job running is no longer queued. */
	take(first);
	queue(MGR_JOB_STOP, d[2]);
	assert_int_equal(mgr.tenants[0].jobs_queued, 2);
}

/* Review 1.13: ids 1 and 65537 share the MAC's id bits; the random bits must not make a
 * second desktop's MAC (same seed, same draw) equal to the first one's. */
static void test_new_macs_are_unique(void **state)
{
	struct mgr_desktop *d;
	char first[18], again[18];

	(void)state;
	add_host(1);
	srandom(7);
	assert_int_equal(mgr_new_mac_locked(first, 65537), 0);
	d = add_desktop(1, 1);
	snprintf(d->mac, sizeof(d->mac), "%s", first);
	srandom(7);
	assert_int_equal(mgr_new_mac_locked(again, 65537), 0);
	assert_string_not_equal(again, first);
	assert_memory_equal(again, "02:7e:00:01:", 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_light_jobs_before_heavy_ones_oldest_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_host_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_job_per_desktop_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancelled_job_is_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeat_of_newest_queued_job_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_heavy_job_after_light_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_macs_are_unique, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
