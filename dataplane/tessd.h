/* SPDX-License-Identifier: BSD-3-Clause */
/* tessd's control-thread state: the running config and how tessd was started. */
#ifndef TESS_TESSD_H
#define TESS_TESSD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "eal.h"
#include "evloop.h"
#include "tessd_config.h"

struct tessd {
	/* What is running now, kept equal to the dataplane: `config save` writes it. */
	struct tessd_cfg cfg;
	char config_path[PATH_MAX]; /* "" when started without -c */
	struct dp_eal_info eal;
	/* ev_mono_sec() at start: status's uptime_sec is monotonic (a wall-clock step
	 * moves no uptime; tessmgrd tells a restart by it, usage_net.c). */
	time_t started;
	uint64_t devargs_refused; /* port.add requests control.port_drivers/port_dirs refused */
	struct evloop *loop;
	bool stop;
};

extern struct tessd tessd;

/* Methods of the core: status, stats, config, and ports. */
int core_api_register(void);
/* The control API's status (for telemetry). */
json_t *core_status_json(void);
/* {config, methods}: the config schema and every API method's (the "schema" method). */
json_t *core_schema_json(void);
int port_api_register(void);

#endif
