/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The libvirt domain of a desktop, as XML: vCPUs pinned to its tenant's
 * partition, CPU shares and (when throttled) period/quota, memory, its
 * linked-clone disk, a vhost-user NIC labelled with the tenant's VLAN name
 * into the host's tessd, and Tessera's metadata. Pure: no libvirt calls.
 *
 * On a real (QEMU) host also: the guest's memory shared (memfd), which
 * vhost-user needs, QEMU serving the socket (mode='server') that tessd's
 * client port connects to (vswitch.c); a serial console on a pty, logged
 * to a file; a VNC display on the host's loopback only, its port chosen by
 * libvirt.
 */
#ifndef TESS_MGR_DOMAIN_XML_H
#define TESS_MGR_DOMAIN_XML_H

#include <stdint.h>

#include "model.h"

#define MGR_XML_NS "https://tessera.dev/ns/desktop/1"

struct mgr_domain_def {
	char name[2 * MGR_NAME_LEN];
	char uuid[37];              /* "" for a new domain */
	bool test;                  /* libvirt's test driver (type 'test'), else virt_type */
	uint8_t virt_type;          /* enum mgr_virt_type: kvm, or qemu (TCG) */
	char console_log[PATH_MAX]; /* the serial console's log file ("": none) */
	uint32_t vcpus;
	uint64_t memory_mb;
	mgr_cpuset cpus;
	uint32_t shares;
	uint32_t period_us, quota_us; /* quota 0: not throttled */
	char disk[PATH_MAX];
	/* Direct kernel boot ("": the disk boots): the kernel, its initrd and command line. */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char cmdline[MGR_CMDLINE_LEN];
	char vhost_socket[PATH_MAX];
	char mac[18];
	char vlan_name[MGR_NAME_LEN];
	char tenant[MGR_NAME_LEN];
	char model[MGR_NAME_LEN];
	uint32_t desktop_id;
	/* The base image version and the links to its copies (seed 004): the first is active. */
	char base[PATH_MAX];
	char base_version[65];
	uint32_t n_links;
	char link_sites[MGR_MAX_LINKS][MGR_NAME_LEN];
};

/* The XML (malloc'd), or NULL without memory. */
char *mgr_domain_xml(const struct mgr_domain_def *d);

#endif
