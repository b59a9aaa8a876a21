/* SPDX-License-Identifier: BSD-3-Clause */
/* Blocking client of tessd's control socket (tessctl, tessmgrd). */
#ifndef TESS_CTL_CLIENT_H
#define TESS_CTL_CLIENT_H

#include <stdint.h>

#include "ctl_msg.h"

struct ctl_client {
	int fd;
	int timeout_ms;
	json_int_t next_id;
	struct ctl_linebuf lb;
};

/* Connects (tried until timeout_ms while tessd's backlog is full); timeout_ms bounds each call. */
int ctl_client_open(struct ctl_client *c, const char *path, int timeout_ms, struct ctl_error *err);
/* Sends one request ("params" is stolen) and waits for its answer. */
int ctl_client_call(struct ctl_client *c, const char *method, json_t *params, json_t **result,
		    struct ctl_error *err);
/*
 * Sends one request ("params" is stolen) without waiting for its answer: 0
 * with its id, or -errno.
 */
int ctl_client_send(struct ctl_client *c, const char *method, json_t *params, json_int_t *id,
		    struct ctl_error *err);
/*
 * The answer to request id, waiting up to timeout_ms (0: what has arrived):
 * 1 with *result (owned), 0 not yet, -errno (tessd's error, or the connection's).
 */
int ctl_client_answer(struct ctl_client *c, json_int_t id, int timeout_ms, json_t **result,
		      struct ctl_error *err);
/*
 * The next line tessd sends unasked (a stream: events.subscribe), waiting up
 * to timeout_ms (-1: for ever): 1 with *msg (owned), 0 on timeout, -errno.
 */
int ctl_client_next(struct ctl_client *c, int timeout_ms, json_t **msg, struct ctl_error *err);
void ctl_client_close(struct ctl_client *c);
/* CLOCK_MONOTONIC in milliseconds: the clients' deadlines (tessctl monitor's too). */
int64_t ctl_now_ms(void);

#endif
