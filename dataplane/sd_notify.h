/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * systemd's readiness protocol (sd_notify(3)), without libsystemd: datagrams
 * such as "READY=1" to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or
 * "@name" in the abstract namespace). Shared by tessd and tessmgrd. Without
 * $NOTIFY_SOCKET every call is a no-op; a bad value is logged once and ignored.
 */
#ifndef TESS_SD_NOTIFY_H
#define TESS_SD_NOTIFY_H

#include <stdint.h>

/*
 * Reads and unsets $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (children
 * such as qemu-img must not inherit them). prog prefixes the log lines (stderr).
 */
void sdn_init(const char *prog);
/* Sends one state ("READY=1", "STOPPING=1", ...); 0, or -errno (logged once). */
int sdn_send(const char *state);
/* The watchdog's period in microseconds ($WATCHDOG_USEC), 0 when there is none. */
uint64_t sdn_watchdog_usec(void);
/*
 * Sends WATCHDOG=1 when half the period has passed since the last one. Called
 * from the loop whose progress proves the daemon alive, as often as it likes.
 */
void sdn_watchdog_tick(void);
/* "RELOADING=1" with the MONOTONIC_USEC systemd 253+ wants beside it. */
int sdn_reloading(void);

#endif
