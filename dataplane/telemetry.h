/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK telemetry commands /tessd/status, /tessd/stats, /tessd/ports, /tessd/drops. */
#ifndef TESS_TELEMETRY_H
#define TESS_TELEMETRY_H

#include <jansson.h>

#include "evloop.h"

/* Registers the commands; the control loop answers them, status() gives the status. */
int dp_telemetry_start(struct evloop *loop, json_t *(*status)(void));
/* Before the loop goes: callbacks from now on answer an error. */
void dp_telemetry_stop(void);

#endif
