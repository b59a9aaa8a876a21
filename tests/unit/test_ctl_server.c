/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd's control server with its system calls watched (linked with
 * -Wl,--wrap=bind,--wrap=time,--wrap=clock_gettime): the socket gets its
 * mode without the process umask changing, and idle clients are timed by
 * the monotonic clock, not the wall clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_server.h"
#include "evloop.h"
#include "unit_assert.h"

int __real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len);
time_t __real_time(time_t *t);
time_t __wrap_time(time_t *t);
int __real_clock_gettime(clockid_t c, struct timespec *ts);
int __wrap_clock_gettime(clockid_t c, struct timespec *ts);

static mode_t umask_at_bind;
static time_t wall_offset, mono_offset;

/* The umask other threads would see while the socket is bound. */
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	umask_at_bind = umask(0);
	umask(umask_at_bind);
	return __real_bind(fd, sa, len);
}

time_t __wrap_time(time_t *t)
{
	time_t v = __real_time(NULL) + wall_offset;

	if (t)
		*t = v;
	return v;
}

int __wrap_clock_gettime(clockid_t c, struct timespec *ts)
{
	int rc = __real_clock_gettime(c, ts);

	if (rc == 0 && c == CLOCK_REALTIME)
		ts->tv_sec += wall_offset;
	else if (rc == 0 && c == CLOCK_MONOTONIC)
		ts->tv_sec += mono_offset;
	return rc;
}

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tess-ctl-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int rm_dir(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/s.sock.lock", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/s.sock", dir);
	unlink(p); /* left by a test that failed */
	return rmdir(dir);
}

/* After a test, also one that failed half-way: the next one can serve the same path. */
static int stop(void **state)
{
	(void)state;
	ctl_server_close();
	wall_offset = mono_offset = 0;
	umask(022);
	return 0;
}

static void config(struct tessd_ctl_cfg *cfg, const char *mode)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket, sizeof(cfg->socket), "%s/s.sock", dir);
	snprintf(cfg->mode, sizeof(cfg->mode), "%s", mode);
	cfg->max_request = 4096;
	cfg->max_depth = 8;
	cfg->max_clients = 4;
	cfg->idle_sec = 60;
	cfg->max_buffered = 1 << 20;
}

/* Second review of 2.3: the socket has its mode, and no other thread ever saw another umask. */
static void test_socket_mode_without_umask(void **state)
{
	static const char *const modes[] = { "0660", "0600", "0640" };
	mode_t old = umask(022);

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct tessd_ctl_cfg cfg;
		struct evloop *l = ev_create();
		char err[256];
		struct stat st;

		assert_non_null(l);
		config(&cfg, modes[i]);
		umask_at_bind = 0777;
		assert_int_equal(ctl_server_prepare(&cfg, err, sizeof(err)), 0);
		assert_int_equal(ctl_server_open(&cfg, l, err, sizeof(err)), 0);
		assert_int_equal(umask_at_bind, 022);
		assert_int_equal(umask(022), 022);
		assert_int_equal(stat(cfg.socket, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		assert_int_equal(st.st_mode & 07777, strtoul(modes[i], NULL, 8));
		ctl_server_close();
		ev_destroy(l);
	}
	umask(old);
}

/* Idle clients go after control.idle_sec of the monotonic clock; a wall clock step changes
 * nothing. */
static void test_idle_clients_by_the_monotonic_clock(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_server_counters cnt;
	struct tessd_ctl_cfg cfg;
	struct evloop *l = ev_create();
	char err[256];
	int fd;

	(void)state;
	assert_non_null(l);
	config(&cfg, "0600");
	assert_int_equal(ctl_server_prepare(&cfg, err, sizeof(err)), 0);
	assert_int_equal(ctl_server_open(&cfg, l, err, sizeof(err)), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg.socket);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	for (int i = 0; i < 100; i++) {
		ctl_server_get_counters(&cnt);
		if (cnt.clients == 1)
			break;
		ev_run_once(l, 100);
	}
	assert_int_equal(cnt.clients, 1);
	/* The wall clock jumps an hour ahead (NTP, an operator): the client stays. */
	wall_offset = 3600;
	ctl_server_tick();
	ctl_server_get_counters(&cnt);
	assert_int_equal(cnt.idle_dropped, 0);
	assert_int_equal(cnt.clients, 1);
	/* And back a day: still there, and still timed from its last request. */
	wall_offset = -86400;
	ctl_server_tick();
	ctl_server_get_counters(&cnt);
	assert_int_equal(cnt.clients, 1);
	/* idle_sec of monotonic time: dropped. */
	mono_offset = cfg.idle_sec + 1;
	ctl_server_tick();
	ctl_server_get_counters(&cnt);
	assert_int_equal(cnt.idle_dropped, 1);
	assert_int_equal(cnt.clients, 0);
	wall_offset = mono_offset = 0;
	close(fd);
	ctl_server_close();
	ev_destroy(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_idle_clients_by_the_monotonic_clock, stop),
		cmocka_unit_test_teardown(test_socket_mode_without_umask, stop),
	};

	return cmocka_run_group_tests(tests, make_dir, rm_dir);
}
