/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's ssh tunnels (tunnel.c) with a stand-in for ssh (ssh.command): a
 * forget waits for the tunnel's users and a use that loaded the old address
 * keeps nothing up; a tunnel waiting to be restarted fails callers at once;
 * ssh is ended without the tunnels' lock held.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mgr.h"
#include "tunnel.h"

static char dir[] = "/tmp/tess-unit-tunnel-XXXXXX";

/* FAKE_SSH: up (binds the -L socket), deaf (the same, ignoring SIGTERM), refused (exits). */
static const char fake_ssh[] =
	"#!/usr/bin/python3\n"
	"import os, signal, socket, sys, time\n"
	"mode = os.environ.get('FAKE_SSH', 'up')\n"
	"if mode == 'refused':\n"
	"    print('ssh: connect to host h port 22: Connection refused', file=sys.stderr)\n"
	"    sys.exit(255)\n"
	"if mode == 'deaf':\n"
	"    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
	"s = socket.socket(socket.AF_UNIX)\n"
	"s.bind(sys.argv[sys.argv.index('-L') + 1].split(':')[0])\n"
	"s.listen(8)\n"
	"while True:\n"
	"    time.sleep(60)\n";

static uint64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	memcpy(dir, "/tmp/tess-unit-tunnel-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return -1;
	memset(&mgr_conf, 0, sizeof(mgr_conf));
	snprintf(mgr_conf.state_dir, sizeof(mgr_conf.state_dir), "%s", dir);
	snprintf(mgr_conf.ssh.command, sizeof(mgr_conf.ssh.command), "%s/fake-ssh", dir);
	mgr_conf.ssh.connect_timeout_sec = 5;
	mgr_conf.ssh.alive_interval_sec = 15;
	mgr_conf.ssh.restart_max_sec = 60;
	f = fopen(mgr_conf.ssh.command, "w");
	if (f == NULL || fputs(fake_ssh, f) < 0 || fclose(f) != 0 ||
	    chmod(mgr_conf.ssh.command, 0700) < 0)
		return -1;
	setenv("FAKE_SSH", "up", 1);
	return mgr_tunnel_start();
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	(void)state;
	mgr_tunnel_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The tunnel's state ("up", "down"...), its ssh's pid and its starts. */
static void look(const char *addr, char *state, size_t len, int *pid, int *starts)
{
	json_t *o = mgr_tunnel_json(addr);

	assert_non_null(o);
	snprintf(state, len, "%s", json_string_value(json_object_get(o, "state")));
	*pid = (int)json_integer_value(json_object_get(o, "pid"));
	*starts = (int)json_integer_value(json_object_get(o, "starts"));
	json_decref(o);
}

static bool in_state(const char *addr, const char *want, uint64_t within_ms)
{
	uint64_t until = ms() + within_ms;
	char st[16];
	int pid, starts;

	for (;;) {
		look(addr, st, sizeof(st), &pid, &starts);
		if (strcmp(st, want) == 0)
			return true;
		if (ms() >= until)
			return false;
		usleep(20000);
	}
}

static bool gone(int pid, uint64_t within_ms)
{
	uint64_t until = ms() + within_ms;

	while (kill(pid, 0) == 0) { /* reaped by the tunnel thread: ESRCH */
		if (ms() >= until)
			return false;
		usleep(20000);
	}
	return true;
}

static void use(const char *addr)
{
	char path[128], err[512];

	if (mgr_tunnel_socket(addr, path, sizeof(path), err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/*
 * A forget does not stop a tunnel under a caller that holds it; once the last
 * is done it stops. A later use (a job that loaded the address before the
 * host changed) gets a tunnel for itself, stopped after it and never
 * restarted; adopted again, the tunnel is kept up and restarted.
 */
static void test_forget_waits_for_users_and_keeps_nothing_up(void **state)
{
	const char *a = "ssh://h1/run/t1.sock";
	char st[16];
	int pid, pid2, starts;

	(void)state;
	use(a);
	look(a, st, sizeof(st), &pid, &starts);
	assert_string_equal(st, "up");
	mgr_tunnel_forget(a);
	usleep(300000);
	look(a, st, sizeof(st), &pid2, &starts);
	assert_string_equal(st, "up"); /* its user's connection still goes through it */
	assert_int_equal(pid2, pid);
	mgr_tunnel_release(a);
	assert_true(in_state(a, "down", 3000));
	assert_true(gone(pid, 3000));

	use(a); /* the stale use */
	look(a, st, sizeof(st), &pid, &starts);
	assert_string_equal(st, "up");
	assert_int_equal(starts, 2);
	mgr_tunnel_release(a);
	assert_true(in_state(a, "down", 3000));
	assert_true(gone(pid, 3000));
	usleep(2500000); /* past any restart wait: nothing starts it again */
	look(a, st, sizeof(st), &pid, &starts);
	assert_string_equal(st, "down");
	assert_int_equal(starts, 2);

	mgr_tunnel_adopt(a);
	use(a);
	mgr_tunnel_release(a);
	usleep(300000);
	look(a, st, sizeof(st), &pid, &starts);
	assert_string_equal(st, "up"); /* kept up, idle */
	assert_int_equal(starts, 3);
	kill(pid, SIGKILL);
	for (uint64_t until = ms() + 5000;; usleep(20000)) { /* restarted after 1 s */
		look(a, st, sizeof(st), &pid2, &starts);
		if ((strcmp(st, "up") == 0 && pid2 != pid) || ms() >= until)
			break;
	}
	assert_string_equal(st, "up");
	assert_int_equal(starts, 4);
}

/* A tunnel waiting to be restarted: callers fail at once with its reason, no ssh each. */
static void test_down_tunnel_fails_at_once_while_it_waits(void **state)
{
	const char *a = "ssh://h2/run/t2.sock";
	char path[128], err[512], st[16];
	int pid, starts;

	(void)state;
	setenv("FAKE_SSH", "refused", 1);
	assert_int_equal(mgr_tunnel_socket(a, path, sizeof(path), err, sizeof(err)), -EHOSTUNREACH);
	assert_non_null(strstr(err, "Connection refused"));
	for (int i = 0; i < 5; i++) {
		uint64_t t0 = ms();
		assert_int_equal(mgr_tunnel_socket(a, path, sizeof(path), err, sizeof(err)),
				 -EHOSTUNREACH);
		assert_true(ms() - t0 < 200);
		look(a, st, sizeof(st), &pid, &starts);
		assert_int_equal(starts, 1); /* no ssh started for it */
		assert_string_equal(st, "down");
		assert_non_null(strstr(err, "Connection refused"));
		assert_non_null(strstr(err, "next try in"));
	}
}

/* An ssh that ignores SIGTERM is ended (SIGKILL after 500 ms) with nobody waiting on the lock. */
static void test_ssh_ended_without_the_lock(void **state)
{
	const char *a = "ssh://h3/run/t3.sock";
	uint64_t most = 0, until;
	char st[16];
	int pid, starts;

	(void)state;
	setenv("FAKE_SSH", "deaf", 1);
	use(a);
	mgr_tunnel_release(a);
	look(a, st, sizeof(st), &pid, &starts);
	assert_string_equal(st, "up");
	mgr_tunnel_forget(a);
	for (until = ms() + 1000; ms() < until;) {
		uint64_t t0 = ms();
		json_decref(mgr_tunnel_json(a));
		if (ms() - t0 > most)
			most = ms() - t0;
		usleep(10000);
	}
	assert_true(most < 250);
	assert_true(gone(pid, 3000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forget_waits_for_users_and_keeps_nothing_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_tunnel_fails_at_once_while_it_waits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ssh_ended_without_the_lock, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
