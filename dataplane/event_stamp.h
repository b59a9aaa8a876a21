/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TESS_EVENT_STAMP_H
#define TESS_EVENT_STAMP_H

#include <jansson.h>

/* Sets an event's "event" (its kind) and "time" (Unix seconds, fractional)
 * fields, the same in tessd's and tessmgrd's streams. */
void event_stamp(json_t *ev, const char *kind);

#endif
