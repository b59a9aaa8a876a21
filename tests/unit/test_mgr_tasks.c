/* SPDX-License-Identifier: BSD-3-Clause */
/* Workflow tasks: the spec's validation, substitution, and running programs (exit codes,
 * output, timeouts, continue_on_error, scoping, disabled tasks). */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tasks.h"

static int decode(const char *text, struct mgr_task_spec *t, struct cfg_errs *errs)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	cfg_errs_init(errs);
	rc = cfg_decode(&mgr_task_schema, j, t, "", errs);
	json_decref(j);
	return rc;
}

static void test_schema(void **state)
{
	struct mgr_task_spec t;
	struct cfg_errs errs;

	(void)state;
	assert_int_equal(decode("{\"name\":\"join\",\"when\":\"after_create\","
				"\"program\":\"/bin/true\",\"args\":[\"${desktop}\"]}",
				&t, &errs),
			 0);
	assert_int_equal(t.when, MGR_TASK_AFTER_CREATE);
	assert_int_equal(t.n_ok_codes, 1);
	assert_int_equal(t.ok_codes[0], 0);
	assert_int_equal(t.timeout_sec, 60);
	assert_true(t.enabled);
	assert_false(t.continue_on_error);
	assert_string_equal(t.model, "");
	cfg_free(&mgr_task_schema, &t);

	assert_int_not_equal(decode("{\"name\":\"x\",\"when\":\"after_delete\","
				    "\"program\":\"/bin/true\"}",
				    &t, &errs),
			     0);
	assert_string_equal(errs.e[0].path, "/when");
	assert_int_not_equal(
		decode("{\"name\":\"x\",\"when\":\"before_create\",\"program\":\"true\"}", &t,
		       &errs),
		0);
	assert_string_equal(errs.e[0].path, "/program");
	assert_int_not_equal(decode("{\"name\":\"x\",\"when\":\"before_create\",\"program\":"
				    "\"/bin/true\",\"args\":[\"ok\",\"${desk}\"]}",
				    &t, &errs),
			     0);
	assert_string_equal(errs.e[0].path, "/args/1");
	assert_string_equal(errs.e[0].msg, "unknown variable at '${desk}': known are ${desktop} "
					   "${tenant} ${host} ${address} ${ip}");
	assert_int_not_equal(decode("{\"name\":\"x\",\"when\":\"before_create\",\"program\":"
				    "\"/bin/true\",\"ok_codes\":[256]}",
				    &t, &errs),
			     0);
	assert_string_equal(errs.e[0].path, "/ok_codes/0");
	assert_int_not_equal(decode("{\"name\":\"x\",\"when\":\"before_create\",\"program\":"
				    "\"/bin/true\",\"timeout_sec\":0}",
				    &t, &errs),
			     0);
	assert_string_equal(errs.e[0].path, "/timeout_sec");
}

static void test_subst(void **state)
{
	struct mgr_task_vars v = { "d1", "acme", "h1", "02:7e:00:01:aa:bb", "192.168.50.100" };
	char out[64];

	(void)state;
	assert_int_equal(
		mgr_task_subst("--name=${desktop}.${tenant}@${host}", &v, out, sizeof(out)), 0);
	assert_string_equal(out, "--name=d1.acme@h1");
	assert_int_equal(mgr_task_subst("${address}${address}", &v, out, sizeof(out)), 0);
	assert_string_equal(out, "02:7e:00:01:aa:bb02:7e:00:01:aa:bb");
	assert_int_equal(mgr_task_subst("$desktop ${x} $", &v, out, sizeof(out)), 0);
	assert_string_equal(out, "$desktop ${x} $");
	assert_int_equal(mgr_task_subst("${address}", &v, out, 17), -ENOSPC);
	assert_string_equal(out, "");
	assert_int_equal(mgr_task_subst("${address}", &v, out, 18), 0);
	assert_int_equal(mgr_task_subst("ip=${ip}/${ipx}", &v, out, sizeof(out)), 0);
	assert_string_equal(out, "ip=192.168.50.100/${ipx}");
	v.ip[0] = '\0'; /* a desktop without one */
	assert_int_equal(mgr_task_subst("[${ip}]", &v, out, sizeof(out)), 0);
	assert_string_equal(out, "[]");
}

/* One desktop d1 of tenant acme, model small, on host h1; tasks as given. */
static struct mgr_desktop desk = { .id = 7,
				   .name = "d1",
				   .tenant_id = 1,
				   .model_id = 1,
				   .host_id = 1,
				   .mac = "02:7e:00:07:00:01" };
static struct mgr_desktop *desks[] = { &desk };
static struct mgr_tenant tenant = { .id = 1, .spec = { .name = "acme" } };
static struct mgr_model model = { .id = 1, .spec = { .name = "small" } };
static struct mgr_host host = { .id = 1, .spec = { .name = "h1" } };
static struct mgr_host *hosts[] = { &host };
static char dir[] = "/tmp/tess-tasks-XXXXXX";

static void set_tasks(const char *const *texts, uint32_t n)
{
	struct cfg_errs errs;

	for (uint32_t i = 0; i < mgr.n_tasks; i++)
		cfg_free(&mgr_task_schema, &mgr.tasks[i].spec);
	free(mgr.tasks);
	mgr.tasks = calloc(n + 1, sizeof(*mgr.tasks));
	mgr.n_tasks = n;
	for (uint32_t i = 0; i < n; i++) {
		mgr.tasks[i].id = i + 1;
		assert_int_equal(decode(texts[i], &mgr.tasks[i].spec, &errs), 0);
	}
}

static json_t *run(enum mgr_task_when when, int *rc, char *err, size_t len)
{
	struct mgr_job j = { .id = 3, .desktop_id = 7, .tasks = json_array() };

	err[0] = '\0';
	*rc = mgr_tasks_run(&j, when, NULL, err, len);
	return j.tasks;
}

static void test_run(void **state)
{
	char err[512], file[300], got[512] = "", task[1200];
	json_t *r;
	int rc;

	(void)state;
	snprintf(file, sizeof(file), "%s/out", dir);
	snprintf(task, sizeof(task),
		 "{\"name\":\"w\",\"when\":\"after_create\",\"program\":\"/bin/sh\",\"args\":"
		 "[\"-c\",\"echo \\\"$0 $1 $2 $TESS_DESKTOP $TESS_WHEN $HOME\\\" > %s; echo "
		 "said; exit 3\",\"${desktop}\",\"${tenant}\",\"${host}\"],\"ok_codes\":[0,3]}",
		 file);
	const char *const one[] = {
		task,
		"{\"name\":\"other\",\"when\":\"after_create\",\"tenant\":\"bigco\","
		"\"program\":\"/bin/false\"}",
		"{\"name\":\"othermodel\",\"when\":\"after_create\",\"model\":\"large\","
		"\"program\":\"/bin/false\"}",
		"{\"name\":\"off\",\"when\":\"after_create\",\"enabled\":false,"
		"\"program\":\"/bin/false\"}",
		"{\"name\":\"before\",\"when\":\"before_delete\",\"program\":\"/bin/false\"}",
	};
	set_tasks(one, 5);
	r = run(MGR_TASK_AFTER_CREATE, &rc, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "output")),
			    "said\n");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "rc")), 3);
	assert_true(json_is_true(json_object_get(json_array_get(r, 0), "ok")));
	json_decref(r);
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	/* No shell between: $0 is the first argument; the environment is cleared (no HOME). */
	assert_string_equal(got, "d1 acme h1 d1 after_create \n");

	/* A failure stops the tasks after it, unless it continues on error. */
	const char *const two[] = {
		/* Parenthesised: one element of two literals (clang's -Wstring-concatenation). */
		("{\"name\":\"a\",\"when\":\"before_create\",\"program\":\"/bin/false\","
		 "\"continue_on_error\":true}"),
		"{\"name\":\"b\",\"when\":\"before_create\",\"program\":\"/bin/false\"}",
		"{\"name\":\"c\",\"when\":\"before_create\",\"program\":\"/bin/true\"}",
	};
	set_tasks(two, 3);
	r = run(MGR_TASK_BEFORE_CREATE, &rc, err, sizeof(err));
	assert_int_equal(rc, -EIO);
	assert_string_equal(err, "task b failed: exit code 1");
	assert_int_equal(json_array_size(r), 2);
	assert_false(json_is_true(json_object_get(json_array_get(r, 0), "ok")));
	json_decref(r);

	/* A timeout kills its group: the sleep its shell started too. */
	const char *const three[] = {
		"{\"name\":\"slow\",\"when\":\"after_move\",\"program\":\"/bin/sh\",\"args\":"
		"[\"-c\",\"sleep 30 & sleep 30\"],\"timeout_sec\":1}",
	};
	set_tasks(three, 1);
	time_t t0 = time(NULL);
	r = run(MGR_TASK_AFTER_MOVE, &rc, err, sizeof(err));
	assert_true(time(NULL) - t0 < 5);
	assert_int_equal(rc, -EIO);
	assert_string_equal(err, "task slow failed: timed out: killed");
	assert_true(json_is_true(json_object_get(json_array_get(r, 0), "timed_out")));
	json_decref(r);

	/* A program that exits leaving a child with its output open is done when it exits (not
	 * timed out at its deadline); the child is killed with its group. */
	const char *const bg[] = {
		"{\"name\":\"bg\",\"when\":\"after_move\",\"program\":\"/bin/sh\",\"args\":"
		"[\"-c\",\"echo hi; sleep 30 & exit 0\"],\"timeout_sec\":20}",
	};
	set_tasks(bg, 1);
	t0 = time(NULL);
	r = run(MGR_TASK_AFTER_MOVE, &rc, err, sizeof(err));
	assert_true(time(NULL) - t0 < 5);
	assert_int_equal(rc, 0);
	assert_false(json_is_true(json_object_get(json_array_get(r, 0), "timed_out")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "output")),
			    "hi\n");
	json_decref(r);

	/* Of a long output the job keeps the first and last 2 KiB and says what was cut between
	 * them; reading it all does not block the program. */
	const char *const four[] = {
		"{\"name\":\"loud\",\"when\":\"after_move\",\"program\":\"/usr/bin/seq\",\"args\":"
		"[\"1\", \"40000\"]}",
	};
	set_tasks(four, 1);
	r = run(MGR_TASK_AFTER_MOVE, &rc, err, sizeof(err));
	assert_int_equal(rc, 0);
	const char *out = json_string_value(json_object_get(json_array_get(r, 0), "output"));
	/* seq 1 40000 prints 228894 bytes. */
	char cut[64];
	snprintf(cut, sizeof(cut), "\n[... %d bytes cut ...]\n", 228894 - 2 * MGR_TASK_KEEP);
	assert_int_equal(strlen(out), 2 * MGR_TASK_KEEP + strlen(cut));
	assert_memory_equal(out, "1\n2\n3\n", 6);
	assert_memory_equal(out + MGR_TASK_KEEP, cut, strlen(cut));
	assert_string_equal(out + strlen(out) - 12, "39999\n40000\n");
	json_decref(r);

	/* A short one is kept whole. */
	const char *const four2[] = {
		"{\"name\":\"short\",\"when\":\"after_move\",\"program\":\"/usr/bin/seq\",\"args\":"
		"[\"1\", \"3\"]}",
	};
	set_tasks(four2, 1);
	r = run(MGR_TASK_AFTER_MOVE, &rc, err, sizeof(err));
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "output")),
			    "1\n2\n3\n");
	json_decref(r);

	/* A program that cannot run fails. */
	const char *const five[] = {
		"{\"name\":\"gone\",\"when\":\"after_move\",\"program\":\"/nonexistent/x\"}",
	};
	set_tasks(five, 1);
	r = run(MGR_TASK_AFTER_MOVE, &rc, err, sizeof(err));
	assert_int_equal(rc, -EIO);
	assert_non_null(strstr(err, "cannot run /nonexistent/x"));
	json_decref(r);
	set_tasks(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_subst),
		cmocka_unit_test(test_run),
	};
	int rc;

	assert_non_null(mkdtemp(dir));
	pthread_mutex_init(&mgr.lock, NULL);
	mgr.desktops = desks;
	mgr.n_desktops = 1;
	mgr.tenants = &tenant;
	mgr.n_tenants = 1;
	mgr.models = &model;
	mgr.n_models = 1;
	mgr.hosts = hosts;
	mgr.n_hosts = 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	char path[300];
	snprintf(path, sizeof(path), "%s/out", dir);
	remove(path);
	rmdir(dir);
	return rc;
}
