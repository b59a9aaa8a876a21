/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's libvirt connections (virt.c, included here for its internals):
 * libvirt's event loop thread always stops, its wake-up timer failing or
 * not; a test-driver host's node file is written only by the host's current
 * connection, never by one a reconnect superseded that a user still held.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "virt.c"

static char dir[] = "/tmp/tess-unit-virt-XXXXXX";

/*
 * mgr_virt_init then mgr_virt_close_all in a child (a hung join must not hang the test), with
 * TESS_FAULT set to fault: its exit status (0, or 2 if init failed), or -1 if it had not ended
 * after 60 s.
 */
static int init_and_stop(const char *fault)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (fault)
			setenv("TESS_FAULT", fault, 1);
		int rc = mgr_virt_init(5);
		usleep(300000); /* the loop blocked in poll(), as it is in a tessmgrd that runs */
		mgr_virt_close_all();
		_exit(rc < 0 ? 2 : 0);
	}
	for (int i = 0; i < 600; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void test_event_loop_stops(void **state)
{
	(void)state;
	assert_int_equal(init_and_stop(NULL), 0);
}

/*
 * The wake-up timer that tells the loop to stop cannot be added (no memory): the loop, blocked
 * in poll() with nothing else to wait for, was never woken and the join at shutdown hung. Now
 * the timer is made with the loop, at start: tessmgrd refuses to start, it never hangs.
 */
static void test_event_loop_stops_without_its_wake_timer(void **state)
{
	(void)state;
#ifdef TESS_FAULT_POINTS
	int rc = init_and_stop("virt.wake_timer:fail");
	assert_int_not_equal(rc, -1); /* the join hung */
	assert_int_equal(rc, 2);      /* refused at start, not after */
#else
	skip();
#endif
}

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/tess-unit-virt-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return -1;
	mgr_virt_set_state_dir(dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	(void)state;
	mgr_virt_close_all();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct mgr_host test_host(uint32_t id)
{
	struct mgr_host h = { .id = id };

	snprintf(h.spec.name, sizeof(h.spec.name), "h%u", id);
	h.spec.test_host = (struct mgr_test_host_spec){
		.sockets = 1, .cores = 2, .threads = 2, .memory_mb = 4096
	};
	return h;
}

/* The node file's text. */
static char *node_text(uint32_t id)
{
	char path[PATH_MAX];
	FILE *f;
	char *text = calloc(1, 1 << 20);

	snprintf(path, sizeof(path), "%s/hosts/h%u.xml", dir, id);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(text);
	assert_true(fread(text, 1, (1 << 20) - 1, f) > 0);
	fclose(f);
	return text;
}

/* A user's reference to the host's connection, as a job takes one. */
static struct conn *held(uint32_t id)
{
	struct conn *k = find(id);

	if (k == NULL) {
		print_error("host %u has no connection\n", id);
		abort(); /* not fail(): the analyzer is to know it does not return */
	}
	return k;
}

static void define(struct conn *k, const char *name)
{
	char xml[256];
	virDomainPtr d;

	snprintf(xml, sizeof(xml),
		 "<domain type='test'><name>%s</name><memory>1024</memory>"
		 "<os><type>hvm</type></os></domain>",
		 name);
	d = virDomainDefineXML(k->c, xml);
	assert_non_null(d);
	virDomainFree(d);
}

/*
 * A job holds the host's connection (A) while a host PUT or a health check reconnects it (B):
 * B reads the node file and goes on from there. A's user finishing afterwards must not save
 * A's domains over B's file (B's define would be lost at the next restart).
 */
static void test_superseded_connection_does_not_save(void **state)
{
	struct mgr_host h = test_host(1);
	struct conn *a, *b;
	char err[256];
	char *text;

	(void)state;
	assert_int_equal(mgr_virt_open(&h, err, sizeof(err)), 0);
	a = held(1); /* a job's reference */
	define(a, "before");
	persist(a);
	assert_int_equal(mgr_virt_open(&h, err, sizeof(err)), 0); /* the reconnect */
	b = held(1);
	assert_ptr_not_equal(a, b);
	define(b, "after");
	persist(b);
	put(b);
	/* The job on the old connection ends as release(k, d, true) does. */
	define(a, "lost");
	persist(a);
	put(a);
	text = node_text(1);
	assert_non_null(strstr(text, "<name>before</name>"));
	assert_non_null(strstr(text, "<name>after</name>"));
	assert_null(strstr(text, "<name>lost</name>"));
	free(text);
	/* Closed (host DELETE) while in use: its user does not write the file either. */
	a = held(1);
	mgr_virt_close(1);
	define(a, "closed");
	persist(a);
	put(a);
	text = node_text(1);
	assert_null(strstr(text, "<name>closed</name>"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: they fork, best before libvirt has any thread. */
		cmocka_unit_test(test_event_loop_stops),
		cmocka_unit_test(test_event_loop_stops_without_its_wake_timer),
		cmocka_unit_test_setup_teardown(test_superseded_connection_does_not_save, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
