/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The domain XML tessmgrd writes: a real (QEMU) host's desktop has its
 * memory shared (memfd, as vhost-user needs), its NIC a vhost-user client of
 * tessd's socket, a serial console logged to a file, a VNC display on the
 * loopback only, and the cputune of a test host's; both kinds are valid
 * against libvirt's own schema (virt-xml-validate, or xmllint with the
 * schema libvirt0 installs).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "domain_xml.h"

static const char schema[] = "/usr/share/libvirt/schemas/domain.rng";

static struct mgr_domain_def def(bool test)
{
	struct mgr_domain_def d = { .test = test,
				    .vcpus = 2,
				    .memory_mb = 128,
				    .shares = 512,
				    .period_us = 100000,
				    .quota_us = 50000,
				    .desktop_id = 7 };

	snprintf(d.name, sizeof(d.name), "acme-d0");
	mgr_cpuset_add(&d.cpus, 2);
	mgr_cpuset_add(&d.cpus, 6);
	snprintf(d.disk, sizeof(d.disk), "/srv/paris/overlays/acme/d0-7.qcow2");
	snprintf(d.vhost_socket, sizeof(d.vhost_socket), "/run/tessera/vhost/desk7.sock");
	snprintf(d.mac, sizeof(d.mac), "52:54:00:00:00:07");
	snprintf(d.vlan_name, sizeof(d.vlan_name), "acme-vlan");
	snprintf(d.tenant, sizeof(d.tenant), "acme");
	snprintf(d.model, sizeof(d.model), "std");
	if (!test)
		snprintf(d.console_log, sizeof(d.console_log),
			 "/var/log/tessera/console/desk7.log");
	return d;
}

static bool has(const char *xml, const char *s)
{
	if (strstr(xml, s))
		return true;
	print_error("no \"%s\" in:\n%s\n", s, xml);
	return false;
}

/* Whether libvirt's schema takes xml: 1, 0, or -1 when no validator is installed. */
static int valid(const char *xml)
{
	char path[] = "/tmp/tess-unit-domxml-XXXXXX", cmd[512];
	int fd = mkstemp(path), st;
	bool vxv = access("/usr/bin/virt-xml-validate", X_OK) == 0;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);
	if (vxv)
		snprintf(cmd, sizeof(cmd), "virt-xml-validate %s domain", path);
	else if (access("/usr/bin/xmllint", X_OK) == 0 && access(schema, R_OK) == 0)
		snprintf(cmd, sizeof(cmd), "xmllint --noout --relaxng %s %s", schema, path);
	else {
		unlink(path);
		return -1;
	}
	st = system(cmd);
	unlink(path);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_qemu_host_xml(void **state)
{
	struct mgr_domain_def d = def(false);
	char *xml;

	(void)state;
	xml = mgr_domain_xml(&d);
	assert_non_null(xml);
	assert_true(has(xml, "<domain type='kvm'>"));
	/* vhost-user: the guest's memory shared with tessd. */
	assert_true(has(xml, "<memoryBacking>\n    <source type='memfd'/>\n"
			     "    <access mode='shared'/>\n  </memoryBacking>"));
	/* The NIC: QEMU serves the socket, tessd's port is its client. */
	assert_true(has(xml, "<interface type='vhostuser'>"));
	assert_true(has(xml, "<source type='unix' path='/run/tessera/vhost/desk7.sock' "
			     "mode='server'/>"));
	assert_false(has(xml, "<reconnect"));
	/* A serial console, logged; a display on the loopback only. */
	assert_true(has(xml, "<serial type='pty'>\n      <log "
			     "file='/var/log/tessera/console/desk7.log' append='on'/>"));
	assert_true(has(xml, "<console type='pty'>\n      <target type='serial' port='0'/>"));
	assert_true(has(xml, "<graphics type='vnc' autoport='yes' listen='127.0.0.1'>\n"
			     "      <listen type='address' address='127.0.0.1'/>"));
	/* cputune as on any host. */
	assert_true(has(xml, "<shares>512</shares>"));
	assert_true(has(xml, "<quota>50000</quota>"));
	assert_true(has(xml, "<vcpupin vcpu='1' cpuset='2,6'/>"));
	assert_true(has(xml, "<emulatorpin cpuset='2,6'/>"));
	int v = valid(xml);
	if (v < 0) {
		free(xml);
		skip();
	}
	if (v != 1)
		print_error("libvirt's schema refuses:\n%s\n", xml);
	assert_int_equal(v, 1);
	free(xml);

	/* TCG where KVM does not work; no console log without a directory. */
	d.virt_type = MGR_VIRT_QEMU;
	d.console_log[0] = '\0';
	xml = mgr_domain_xml(&d);
	assert_non_null(xml);
	assert_true(has(xml, "<domain type='qemu'>"));
	assert_null(strstr(xml, "<log "));
	assert_int_equal(valid(xml), 1);
	free(xml);
}

/* A model with a kernel boots it directly: <kernel>, <initrd>, <cmdline> (escaped) in <os>;
 * without one, <os> has only its type (the disk boots). */
static void test_direct_kernel_boot_xml(void **state)
{
	struct mgr_domain_def d = def(false);
	char *xml;

	(void)state;
	xml = mgr_domain_xml(&d);
	assert_non_null(xml);
	assert_true(has(xml, "<os>\n    <type arch='x86_64'>hvm</type>\n  </os>"));
	assert_null(strstr(xml, "<kernel>"));
	free(xml);

	snprintf(d.kernel, sizeof(d.kernel), "/srv/boot/vmlinuz");
	snprintf(d.initrd, sizeof(d.initrd), "/srv/boot/initrd.cpio");
	snprintf(d.cmdline, sizeof(d.cmdline), "console=ttyS0 tess.ping=a&b");
	xml = mgr_domain_xml(&d);
	assert_non_null(xml);
	assert_true(has(xml,
			"<type arch='x86_64'>hvm</type>\n    <kernel>/srv/boot/vmlinuz</kernel>\n"
			"    <initrd>/srv/boot/initrd.cpio</initrd>\n"
			"    <cmdline>console=ttyS0 tess.ping=a&amp;b</cmdline>\n  </os>"));
	int v = valid(xml);
	if (v >= 0)
		assert_int_equal(v, 1);
	free(xml);

	/* A kernel alone: no <initrd>, no <cmdline>. */
	d.initrd[0] = d.cmdline[0] = '\0';
	xml = mgr_domain_xml(&d);
	assert_non_null(xml);
	assert_true(has(xml, "<kernel>/srv/boot/vmlinuz</kernel>\n  </os>"));
	free(xml);
}

/* A test-driver host's domain stays as it was: the test driver has no use for the rest. */
static void test_test_host_xml(void **state)
{
	struct mgr_domain_def d = def(true);
	char *xml = mgr_domain_xml(&d);

	(void)state;
	assert_non_null(xml);
	assert_true(has(xml, "<domain type='test'>"));
	assert_null(strstr(xml, "<memoryBacking>"));
	assert_null(strstr(xml, "<serial"));
	assert_null(strstr(xml, "<graphics"));
	int v = valid(xml);
	if (v >= 0)
		assert_int_equal(v, 1);
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_host_xml),
		cmocka_unit_test(test_test_host_xml),
		cmocka_unit_test(test_direct_kernel_boot_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
