/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TESSCTL_H
#define TESSCTL_H

#include <stdbool.h>

#include <jansson.h>

#include "ctl_client.h"

struct tessctl {
	const char *socket;
	int timeout_ms;
	bool json;
	bool connected;
	struct ctl_client client;
};

/* Command handlers return 0, -errno (exit 1), or TESSCTL_USAGE (exit 2). */
#define TESSCTL_USAGE 2

struct tessctl_cmd {
	const char *words; /* e.g. "xconnect add" */
	const char *args;  /* usage of the arguments after the words */
	int min_args, max_args;
	int (*fn)(struct tessctl *ctx, int argc, char **argv);
	const char *help;
};

/* Calls a tessd method; prints the error and returns -code on failure. */
int tessctl_call(struct tessctl *ctx, const char *method, json_t *params, json_t **result);
void tessctl_print_json(const json_t *j);
/* Integer member of an object, 0 when missing. */
json_int_t jint(const json_t *o, const char *key);
const char *jstr(const json_t *o, const char *key);

extern const struct tessctl_cmd tessd_cmds[];
extern const struct tessctl_cmd switch_cmds[];
extern const char tessctl_port_options[];

#endif
