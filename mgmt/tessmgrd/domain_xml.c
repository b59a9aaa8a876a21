/* SPDX-License-Identifier: BSD-3-Clause */
#include "domain_xml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* Text with XML's five special characters escaped (for text and quoted attributes). */
static void put_esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			put(b, "&amp;");
			break;
		case '<':
			put(b, "&lt;");
			break;
		case '>':
			put(b, "&gt;");
			break;
		case '\'':
			put(b, "&apos;");
			break;
		case '"':
			put(b, "&quot;");
			break;
		default:
			put(b, "%c", *s);
		}
	}
}

char *mgr_domain_xml(const struct mgr_domain_def *d)
{
	struct buf b = { 0 };
	char cpus[MGR_CPUSET_STRLEN];

	if (mgr_cpuset_format(&d->cpus, cpus, sizeof(cpus)) < 0)
		return NULL;
	put(&b, "<domain type='%s'>\n  <name>",
	    d->test                         ? "test"
	    : d->virt_type == MGR_VIRT_QEMU ? "qemu"
					    : "kvm");
	put_esc(&b, d->name);
	put(&b, "</name>\n");
	if (d->uuid[0])
		put(&b, "  <uuid>%s</uuid>\n", d->uuid);
	put(&b, "  <metadata>\n    <tess:desktop xmlns:tess='%s'>\n", MGR_XML_NS);
	put(&b, "      <tess:id>%u</tess:id>\n      <tess:tenant>", d->desktop_id);
	put_esc(&b, d->tenant);
	put(&b, "</tess:tenant>\n      <tess:vlan_name>");
	put_esc(&b, d->vlan_name);
	put(&b, "</tess:vlan_name>\n      <tess:model>");
	put_esc(&b, d->model);
	put(&b, "</tess:model>\n");
	if (d->base_version[0]) {
		put(&b, "      <tess:base version='%s'>", d->base_version);
		put_esc(&b, d->base);
		put(&b, "</tess:base>\n      <tess:links>\n");
		for (uint32_t i = 0; i < d->n_links; i++) {
			put(&b, "        <tess:link site='");
			put_esc(&b, d->link_sites[i]);
			put(&b, "' state='%s'/>\n", i == 0 ? "active" : "passive");
		}
		put(&b, "      </tess:links>\n");
	}
	put(&b, "    </tess:desktop>\n  </metadata>\n");
	put(&b, "  <memory unit='MiB'>%llu</memory>\n", (unsigned long long)d->memory_mb);
	/* vhost-user: tessd maps the guest's memory, so QEMU must share it. */
	if (!d->test)
		put(&b, "  <memoryBacking>\n    <source type='memfd'/>\n"
			"    <access mode='shared'/>\n  </memoryBacking>\n");
	put(&b, "  <vcpu placement='static'%s%s%s>%u</vcpu>\n", cpus[0] ? " cpuset='" : "", cpus,
	    cpus[0] ? "'" : "", d->vcpus);
	put(&b, "  <cputune>\n    <shares>%u</shares>\n", d->shares);
	if (d->quota_us)
		put(&b, "    <period>%u</period>\n    <quota>%u</quota>\n", d->period_us,
		    d->quota_us);
	for (uint32_t v = 0; cpus[0] && v < d->vcpus; v++)
		put(&b, "    <vcpupin vcpu='%u' cpuset='%s'/>\n", v, cpus);
	/* QEMU's other threads in the partition as well, never on reserved CPUs. */
	if (cpus[0])
		put(&b, "    <emulatorpin cpuset='%s'/>\n", cpus);
	put(&b, "  </cputune>\n");
	put(&b, "  <os>\n    <type arch='x86_64'>hvm</type>\n");
	if (d->kernel[0]) {
		put(&b, "    <kernel>");
		put_esc(&b, d->kernel);
		put(&b, "</kernel>\n");
		if (d->initrd[0]) {
			put(&b, "    <initrd>");
			put_esc(&b, d->initrd);
			put(&b, "</initrd>\n");
		}
		if (d->cmdline[0]) {
			put(&b, "    <cmdline>");
			put_esc(&b, d->cmdline);
			put(&b, "</cmdline>\n");
		}
	}
	put(&b, "  </os>\n");
	put(&b, "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n");
	put(&b, "  <devices>\n    <disk type='file' device='disk'>\n"
		"      <driver name='qemu' type='qcow2'/>\n      <source file='");
	put_esc(&b, d->disk);
	put(&b, "'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n");
	/*
	 * The NIC, labelled with the tenant's VLAN: QEMU serves the vhost-user socket and the
	 * host tessd's port connects to it (reconnecting when QEMU or tessd restarts), so the
	 * tessd holds 1024 running desktops (a served socket costs it a second fd).
	 */
	put(&b, "    <interface type='vhostuser'>\n      <mac address='%s'/>\n", d->mac);
	put(&b, "      <source type='unix' path='");
	put_esc(&b, d->vhost_socket);
	put(&b, "' mode='server'/>\n      <model type='virtio'/>\n      <alias name='ua-");
	put_esc(&b, d->vlan_name);
	put(&b, "'/>\n    </interface>\n");
	if (!d->test) {
		/* A serial console (virsh console) logged where tests and operators read it, and
		 * a display reachable only from the host (an ssh tunnel for a remote viewer). */
		put(&b, "    <serial type='pty'>\n");
		if (d->console_log[0]) {
			put(&b, "      <log file='");
			put_esc(&b, d->console_log);
			put(&b, "' append='on'/>\n");
		}
		put(&b, "      <target port='0'/>\n    </serial>\n"
			"    <console type='pty'>\n      <target type='serial' port='0'/>\n"
			"    </console>\n"
			"    <graphics type='vnc' autoport='yes' listen='127.0.0.1'>\n"
			"      <listen type='address' address='127.0.0.1'/>\n    </graphics>\n");
	}
	put(&b, "  </devices>\n</domain>\n");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
