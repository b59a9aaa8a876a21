/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events for the control API's subscribers (events.subscribe): one JSON
 * object a line, {"event": KIND, "time": UNIX-SECONDS, ...fields}. Modules
 * emit their own kinds ("fdb.learn", "route.add"); the core names none but
 * its own ("port.link", "config.commit"). Control thread only: workers hand
 * what happened to the control thread first (their rings), as for learning.
 */
#ifndef TESS_EVENT_H
#define TESS_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* True while someone subscribes: build an event's fields only then. */
bool tess_event_wanted(void);
/*
 * Sends kind with fields (an object, stolen; NULL: none) to the subscribers
 * that take it, never waiting for one (a slow one misses it, counted).
 */
void tess_event_emit(const char *kind, json_t *fields);

struct tess_event_counters {
	uint64_t emitted;     /* events sent to at least one subscriber */
	uint64_t dropped;     /* events a slow subscriber missed (one per subscriber) */
	uint64_t subscribers; /* now */
};
void tess_event_get_counters(struct tess_event_counters *c);
/* Registers events.subscribe. */
int tess_event_api_register(void);

#endif
