/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hosts' libvirt connections checked every libvirt.health_sec (see
 * mgr_host_check() and review 1.10), each host's check on a thread of its
 * own, at most libvirt.health_threads of down hosts at once: a reconnect may wait for ever
 * on a daemon that accepts and never answers (libvirt has no connect
 * timeout), and that must hold up no other host's check. A host whose check
 * is still running when its next is due is skipped that time, as is one for
 * which no thread is free; both are counted in the host's checks_skipped,
 * and check_running says a check is in flight. A check older than
 * libvirt.check_timeout_sec (0: 2 x health_sec) is hung: its host is marked
 * down (check_hung, counted in checks_hung) and it no longer holds a slot.
 * Checks of up hosts (virConnectIsAlive) never wait for a slot. Threads in
 * all: one per host at most, capped at hosts + health_threads (hung checks of
 * hosts deleted since included).
 */
#ifndef TESS_MGR_HEALTH_H
#define TESS_MGR_HEALTH_H

#include <stdbool.h>

int mgr_health_start(void);
/*
 * Stops the checks, waiting a few seconds for those in flight: false if some still wait on
 * libvirt then, which may still use the hosts' state when they end (do not free it).
 */
bool mgr_health_stop(void);

#endif
