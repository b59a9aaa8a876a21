/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control protocol: one JSON object per line over a Unix stream socket.
 *   request:  {"id": 7, "method": "xconnect.add", "params": {"a": "p0", "b": "p1"}}
 *   response: {"id": 7, "result": {...}}
 *          or {"id": 7, "error": {"code": 2, "message": "...", "path": "/params/a"}}
 * "id" is an integer, a string or null and is echoed back; "params" is an
 * object and may be left out. Error codes are positive errno values.
 */
#ifndef TESS_CTL_MSG_H
#define TESS_CTL_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cfg_schema.h"

#define CTL_DEFAULT_SOCKET "/run/tessera/tessd.sock"
#define CTL_METHOD_MAX     64

struct ctl_error {
	int code;
	char message[CFG_MSG_MAX];
	char path[CFG_PATH_MAX];
};

struct ctl_request {
	json_t *id;     /* owned; json null when absent */
	json_t *params; /* owned; empty object when absent */
	char method[CTL_METHOD_MAX];
};

void ctl_error_set(struct ctl_error *err, int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* An error from a "path: message" text (as port set-up reports them). */
void ctl_error_from_text(struct ctl_error *err, int code, const char *text);
/* The first error of a schema decode, as an API error. */
void ctl_error_from_cfg(struct ctl_error *err, const struct cfg_errs *errs);

/* Nesting depth of JSON text, counted without parsing it; strings are skipped. */
unsigned ctl_json_depth(const char *buf, size_t len);

/*
 * Parses one request line. On error fills "err" (EBADMSG malformed, E2BIG
 * too deep, EINVAL bad shape) and, when the id could be read, keeps it in
 * req->id so the error response can carry it. Always ctl_request_clear() after.
 */
int ctl_request_parse(const char *buf, size_t len, unsigned max_depth, struct ctl_request *req,
		      struct ctl_error *err);
void ctl_request_clear(struct ctl_request *req);

json_t *ctl_request_new(json_int_t id, const char *method, json_t *params);
json_t *ctl_response_ok(json_t *id, json_t *result);
json_t *ctl_response_error(json_t *id, const struct ctl_error *err);
/* Client side: 0 with *result (owned), or -code with err filled in. */
int ctl_response_parse(const char *buf, size_t len, json_int_t want_id, json_t **result,
		       struct ctl_error *err);

/* Compact JSON followed by '\n'; free() it. */
char *ctl_msg_encode(const json_t *msg, size_t *len);

/* A line buffer's size when idle (at most max); it grows to max + 1 for a long line. */
#define CTL_LINEBUF_BASE 4096u

/* Accumulates bytes from a stream and cuts them into lines. */
struct ctl_linebuf {
	char *buf;
	size_t len, cap, max;
	size_t scanned;  /* bytes already searched for '\n' */
	size_t consumed; /* the line handed out last, dropped on the next call */
};

int ctl_linebuf_init(struct ctl_linebuf *lb, size_t max);
void ctl_linebuf_free(struct ctl_linebuf *lb);
/* Room to read into: at least one byte unless the buffer is at its limit. */
char *ctl_linebuf_space(struct ctl_linebuf *lb, size_t *avail);
void ctl_linebuf_commit(struct ctl_linebuf *lb, size_t n);
/* Gives back the memory of a long line once it is consumed (keeps any partial line). */
void ctl_linebuf_trim(struct ctl_linebuf *lb);
/*
 * Next complete line (without '\n') or NULL. *overflow is set when max
 * bytes are buffered without a newline: the peer sent an oversize request.
 * The returned line stays valid until the next call to next() or space().
 */
const char *ctl_linebuf_next(struct ctl_linebuf *lb, size_t *len, bool *overflow);

#endif
