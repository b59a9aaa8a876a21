/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hosts' libvirt connections checked every libvirt.health_sec by a thread of
 * their own (a reconnect may wait on a host that does not answer): see
 * mgr_host_check() and review 1.10.
 */
#ifndef TESS_MGR_HEALTH_H
#define TESS_MGR_HEALTH_H

int mgr_health_start(void);
void mgr_health_stop(void);

#endif
