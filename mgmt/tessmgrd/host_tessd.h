/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A host's tessd as placement sees it: whether it answers, and how many more
 * desktop (vhost client) ports it can take, from its `status` port_capacity
 * (tessd's own limits: vhost slots and the vhost library's fd set). Looked at
 * when an API change connects the host, and every libvirt.health_sec by a
 * ticker of its own, one host after the other (a tessd that does not answer
 * holds the others' looks up for the control client's 10 s; an ssh tunnel
 * that is down, ssh.connect_timeout_sec). Placement (capacity.c) refuses a
 * host whose tessd was found not answering or full; one not looked at yet
 * (tessmgrd just started) is not refused: its desktop's job says so.
 */
#ifndef TESS_MGR_HOST_TESSD_H
#define TESS_MGR_HOST_TESSD_H

#include <stdint.h>

#include <jansson.h>

struct mgr_host;

int mgr_host_tessd_start(void);
void mgr_host_tessd_stop(void);
/* Asks the host's tessd its status (without mgr.lock) and records what it said. */
void mgr_host_tessd_check(uint32_t host_id);
/* The desktop ports its tessd can still take now (UINT32_MAX: no tessd, or no limit
 * reported): what it reported free, less the desktops placed there since. */
uint32_t mgr_host_tessd_room(const struct mgr_host *h);
/* What GET /v1/hosts shows of it (NULL for a host without a tessd). */
json_t *mgr_host_tessd_json(const struct mgr_host *h);

#endif
