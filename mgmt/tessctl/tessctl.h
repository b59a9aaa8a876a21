/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TESSCTL_H
#define TESSCTL_H

#include <stdbool.h>

#include <jansson.h>

#include "ctl_client.h"

struct tessctl {
	const char *socket;
	const char *mgr_url; /* tessmgrd */
	const char *token;
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
/* Calls, then prints the result as JSON (--json, or no human printer) or with "human". */
int tessctl_run(struct tessctl *ctx, const char *method, json_t *params,
		void (*human)(const json_t *result));
struct opt_map;
/* Adds --options (map) of argv to params, then runs like tessctl_run. */
int tessctl_run_opts(struct tessctl *ctx, const char *method, json_t *params, int argc, char **argv,
		     const struct opt_map *map, void (*human)(const json_t *r));
/* A human printer that says "ok". */
void tessctl_done(const json_t *r);
/* A human printer for {"flushed": N}. */
void tessctl_flushed(const json_t *r);
/* "a,b,c" of a list of strings, "-" when empty. */
const char *tessctl_join(const json_t *list, const char *sep, char *buf, size_t len);
/* "k=v k=v" of an object's non-zero integers, "-" when none. */
const char *tessctl_join_counts(const json_t *obj, char *buf, size_t len);
/* Integer member of an object, 0 when missing. */
json_int_t jint(const json_t *o, const char *key);
const char *jstr(const json_t *o, const char *key);

extern const struct tessctl_cmd tessd_cmds[];
extern const struct tessctl_cmd switch_cmds[];
extern const struct tessctl_cmd router_cmds[];
extern const struct tessctl_cmd mgr_cmds[];
extern const char tessctl_port_options[];

#endif
