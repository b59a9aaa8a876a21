/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's libvirt connections (virt.c, included here for its internals):
 * a test-driver host's node file is written only by the host's current
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
#include <unistd.h>

#include <cmocka.h>

#include "virt.c"

static char dir[] = "/tmp/tess-unit-virt-XXXXXX";

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
	a = find(1); /* a job's reference */
	assert_non_null(a);
	define(a, "before");
	persist(a);
	assert_int_equal(mgr_virt_open(&h, err, sizeof(err)), 0); /* the reconnect */
	b = find(1);
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
	a = find(1);
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
		cmocka_unit_test_setup_teardown(test_superseded_connection_does_not_save, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
