/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libvirt for tessmgrd: one connection per host, kept open (a libvirt
 * connection is thread-safe), domains by UUID. A test-driver host (seed
 * "embedded default") is a node XML file tessmgrd writes from the host's
 * shape and keeps up to date with its domains, so the simulated host keeps
 * them across restarts as a real one would.
 *
 * Functions return 0 or -errno with err filled with libvirt's message.
 */
#ifndef TESS_MGR_VIRT_H
#define TESS_MGR_VIRT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "domain_xml.h"
#include "model.h"

/* Where test-driver hosts' node files live (<dir>/hosts/<name>.xml). */
void mgr_virt_set_state_dir(const char *dir);

/*
 * libvirt's event loop in a thread of its own, so that remote connections notice a closed
 * socket, and keepalives every keepalive_sec (0: none); before the first mgr_virt_open().
 * mgr_virt_close_all() stops it.
 */
int mgr_virt_init(unsigned keepalive_sec);

/* Connects to h (writing its node file first for a test host); fills memory and topology. */
int mgr_virt_open(struct mgr_host *h, char *err, size_t len);
void mgr_virt_close(uint32_t host_id);
void mgr_virt_close_all(void);
/* Whether the host's connection is alive: 1, 0, or -EHOSTUNREACH (none). */
int mgr_virt_alive(uint32_t host_id);

int mgr_virt_define(uint32_t host_id, const struct mgr_domain_def *def, char uuid[37], char *err,
		    size_t len);
int mgr_virt_start(uint32_t host_id, const char *uuid, char *err, size_t len);
/* Graceful shutdown; after timeout_sec still running: destroyed. */
int mgr_virt_stop(uint32_t host_id, const char *uuid, unsigned timeout_sec, char *err, size_t len);
int mgr_virt_reboot(uint32_t host_id, const char *uuid, char *err, size_t len);
/* Off (if running) and undefined; a domain that is gone already is fine. */
int mgr_virt_undefine(uint32_t host_id, const char *uuid, char *err, size_t len);
/* The domain, for a caller that uses libvirt itself (console_relay.c; virDomainFree() frees
 * it, and it keeps its connection open until then); NULL with err. */
struct _virDomain *mgr_virt_domain_get(uint32_t host_id, const char *uuid, char *err, size_t len);
/* Whether it runs: 1, 0, or -errno (-ENOENT: no such domain). */
int mgr_virt_running(uint32_t host_id, const char *uuid);

/* Re-pins a running domain's vCPUs and emulator threads now (its saved config is redefined by
 * the caller). */
int mgr_virt_pin_live(uint32_t host_id, const char *uuid, uint32_t vcpus, const mgr_cpuset *cpus,
		      char *err, size_t len);
/* Live CPU shares and vCPU bandwidth (period/quota; quota 0: none), as the QEMU driver takes
 * them (cgroups); -EOPNOTSUPP where only the config can (the test driver). */
int mgr_virt_bandwidth_live(uint32_t host_id, const char *uuid, uint32_t shares, uint32_t period_us,
			    uint32_t quota_us, char *err, size_t len);
/* The domain's CPU time so far, in ns. */
int mgr_virt_cpu_time(uint32_t host_id, const char *uuid, uint64_t *ns);

/*
 * Live migration to dest_uri (virDomainMigrateToURI3, LIVE | PERSIST_DEST |
 * UNDEFINE_SOURCE, and unless shared_disk NON_SHARED_INC with the overlay
 * "vda" listed), defined there as dest says. libvirt's test driver cannot
 * migrate: it fails saying so.
 */
int mgr_virt_migrate_live(uint32_t host_id, const char *uuid, const char *dest_uri,
			  const struct mgr_domain_def *dest, bool shared_disk, char *err,
			  size_t len);

/*
 * What libvirt says of a domain: state, vCPU pinning (live if running),
 * and its saved XML's cputune; NULL if unknown.
 */
json_t *mgr_virt_domain_info(uint32_t host_id, const char *uuid);
/* Every domain of a host: name, uuid, state, and Tessera's metadata when it has some. */
json_t *mgr_virt_list(uint32_t host_id, char *err, size_t len);

#endif
