/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd's control socket: accepts clients, frames requests, decodes params
 * through each method's schema and dispatches. Modules register methods.
 */
#ifndef TESS_CTL_SERVER_H
#define TESS_CTL_SERVER_H

#include "ctl_msg.h"
#include "evloop.h"
#include "tessd_config.h"

/*
 * "params" is the decoded struct of the method's schema, NULL if it has
 * none, or the request's params object itself (json_t *) for raw methods.
 */
typedef int (*ctl_handler)(const void *params, json_t **result, struct ctl_error *err);

struct ctl_method {
	const char *name;
	const struct cfg_node *params; /* NULL: takes no params (unless raw) */
	ctl_handler fn;
	const char *summary;
	/*
	 * The handler decodes params itself (partial updates); "params", if set,
	 * only describes the keys it accepts, any subset of them.
	 */
	bool raw;
	/*
	 * A successful call turns the connection into a stream (events.subscribe):
	 * after the answer, it gets what ctl_server_stream() sends and no longer
	 * reads requests. The result's "kinds" (an array, if any) filters it.
	 */
	bool stream;
};

/* Registers a table terminated by an entry with name == NULL; checks its schemas. */
int ctl_register(const struct ctl_method *methods);
/* Runs one parsed request: 0 with *result, or -code with err. */
int ctl_dispatch(const struct ctl_request *req, json_t **result, struct ctl_error *err);
/* A registered method, or NULL. */
const struct ctl_method *ctl_method_find(const char *name);
json_t *ctl_methods_json(void);
/*
 * A method as clients build requests from it: {method, summary, params (the
 * schema's description, or null), partial (any subset of params)}; NULL
 * (errno ENOENT) when there is no such method.
 */
json_t *ctl_method_json(const char *name);
/* ctl_method_json of every method, in registration order. */
json_t *ctl_methods_schema_json(void);

/* Checks what the config cannot (the socket's group exists). */
int ctl_server_check(const struct tessd_ctl_cfg *cfg, char *err, size_t len);
/*
 * Before EAL, after ctl_server_check: takes "<socket>.lock" so a second
 * tessd refuses to start with a clear message.
 */
int ctl_server_prepare(const struct tessd_ctl_cfg *cfg, char *err, size_t len);
/* After set-up: binds the socket (clients connecting means tessd is ready). */
int ctl_server_open(const struct tessd_ctl_cfg *cfg, struct evloop *l, char *err, size_t len);
/* Housekeeping from the control loop's timer: drops stalled clients, resumes accepting. */
void ctl_server_tick(void);
struct ctl_server_counters {
	uint64_t idle_dropped;   /* clients idle for control.idle_sec */
	uint64_t stall_dropped;  /* clients that read no answer for 30 s */
	uint64_t buffer_refused; /* clients refused: control.max_buffered reached */
	uint64_t clients;        /* connected now */
	uint64_t streams;        /* of them, streams (events.subscribe) */
	uint64_t buffered;       /* request buffer bytes held now */
};
void ctl_server_get_counters(struct ctl_server_counters *c);
/*
 * A line (ending in '\n') of kind to every stream whose filter takes it,
 * without blocking: a stream with CTL_STREAM_HIGH bytes unread misses it
 * (counted in *dropped). Returns the streams it was queued for.
 */
#define CTL_STREAM_HIGH (256u << 10)
unsigned ctl_server_stream(const char *kind, const char *line, size_t len, uint64_t *dropped);
/* Closes clients and removes the socket. */
void ctl_server_close(void);

#endif
