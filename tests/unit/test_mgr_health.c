/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's host health check (review 1.10), on real libvirt connections:
 * a host down is retried once its wait is over, the wait doubling after
 * each failure up to libvirt.backoff_max_sec; a host that connects is up
 * and counted in reconnects; a host up whose connection is gone is marked
 * lost and reconnected at once; a host deleted is skipped.
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

#include "mgr.h"
#include "virt.h"
#include "unit_mgr_users.h"

static char dir[] = "/tmp/tess-unit-health-XXXXXX";

static int setup(void **state)
{
	char err[256];

	(void)state;
	memset(&mgr_conf, 0, sizeof(mgr_conf));
	unit_users_conf();
	mgr_conf.libvirt.health_sec = 3;
	mgr_conf.libvirt.backoff_max_sec = 10;
	memcpy(dir, "/tmp/tess-unit-health-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(mgr_conf.store, sizeof(mgr_conf.store), "%s/store.db", dir);
	snprintf(mgr_conf.state_dir, sizeof(mgr_conf.state_dir), "%s", dir);
	if (mgr_init(err, sizeof(err)) < 0) {
		fprintf(stderr, "mgr_init: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	(void)state;
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		mgr.hosts[i]->spec.n_vlans = 0; /* set by hand: nothing to free */
	mgr_fini();
	memset(&mgr, 0, sizeof(mgr));
	pthread_mutex_init(&mgr.lock, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A host down that has never been tried; uri "" makes it a test-driver host of 4 CPUs. */
static struct mgr_host *add_host(uint32_t id, const char *uri)
{
	struct mgr_host **a = realloc(mgr.hosts, (mgr.n_hosts + 1) * sizeof(*a));
	struct mgr_host *h = calloc(1, sizeof(*h));

	assert_non_null(a);
	assert_non_null(h);
	h->id = id;
	snprintf(h->spec.name, sizeof(h->spec.name), "h%u", id);
	snprintf(h->spec.uri, sizeof(h->spec.uri), "%s", uri);
	if (!uri[0])
		h->spec.test_host = (struct mgr_test_host_spec){
			.sockets = 1, .cores = 2, .threads = 2, .memory_mb = 4096
		};
	h->spec.vcpu_ratio = 1;
	h->spec.memory_overalloc = 1;
	mgr.hosts = a;
	a[mgr.n_hosts++] = h;
	return h;
}

static void test_backoff_doubles_up_to_its_max(void **state)
{
	struct mgr_host *h = add_host(1, "test+unix:///default?socket=/nonexistent/libvirt-sock");

	(void)state;
	mgr_host_check(1);
	assert_false(h->up);
	assert_non_null(strstr(h->down_reason, "/nonexistent/libvirt-sock"));
	assert_int_equal(h->retry_sec, 3);
	/* Not due yet: no attempt, the wait unchanged. */
	mgr_host_check(1);
	assert_int_equal(h->retry_sec, 3);
	const uint32_t want[] = { 6, 10, 10 };
	for (unsigned i = 0; i < 3; i++) {
		h->retry_at = 0; /* its wait is over */
		mgr_host_check(1);
		assert_false(h->up);
		assert_int_equal(h->retry_sec, want[i]);
	}
	assert_int_equal(h->reconnects, 0);
	assert_int_equal(h->conn_lost, 0);
}

static void test_host_back_then_lost_then_back(void **state)
{
	struct mgr_host *h = add_host(1, "");

	(void)state;
	h->retry_sec = 10; /* after failures */
	mgr_host_check(1);
	assert_true(h->up);
	assert_int_equal(h->topo.ncpus, 4);
	assert_int_equal(h->reconnects, 1);
	assert_int_equal(h->retry_sec, 0);
	assert_int_equal(mgr_virt_alive(1), 1);
	/* Alive: nothing to do. */
	mgr_host_check(1);
	assert_int_equal(h->reconnects, 1);
	assert_int_equal(h->conn_lost, 0);
	/* Its connection gone while it is up: lost, and reconnected at once. */
	mgr_virt_close(1);
	assert_int_equal(mgr_virt_alive(1), -EHOSTUNREACH);
	mgr_host_check(1);
	assert_int_equal(h->conn_lost, 1);
	assert_true(h->up);
	assert_int_equal(h->reconnects, 2);
	assert_int_equal(mgr_virt_alive(1), 1);
}

static void test_unknown_host_is_skipped(void **state)
{
	(void)state;
	mgr_host_check(42);
	assert_int_equal(mgr_virt_alive(42), -EHOSTUNREACH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backoff_doubles_up_to_its_max, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_back_then_lost_then_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_host_is_skipped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
