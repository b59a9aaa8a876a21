/* SPDX-License-Identifier: BSD-3-Clause */
/* What tessd's and tessmgrd's event streams share: the kinds' schema and the stamp. */
#ifndef TESS_EVENT_PROTO_H
#define TESS_EVENT_PROTO_H

#include <jansson.h>

#include "cfg_schema.h"

#define EVENT_KIND_LEN  32 /* "port.link", "config.commit"... with the '\0' */
#define EVENT_MAX_KINDS 16 /* in a subscription's filter */

/* A kind (or a prefix of kinds) in a filter: tessd's events.subscribe "kinds",
 * tessmgrd's events.tessd_kinds that it subscribes to on its tessds. */
extern const struct cfg_node event_kind_node;

/* Sets an event's "event" (its kind) and "time" (Unix seconds, fractional)
 * fields, the same in tessd's and tessmgrd's streams. */
void event_stamp(json_t *ev, const char *kind);

#endif
