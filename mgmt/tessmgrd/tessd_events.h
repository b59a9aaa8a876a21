/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tessds' events in GET /v1/events: one thread keeps a subscription
 * (events.subscribe, of events.tessd_kinds) on the tessd of every router
 * and host, and relays each event to the provider's streams as
 * "tessd.KIND" with the router and host it belongs to; "tessd.up" and
 * "tessd.down" say when a subscription is made and lost.
 */
#ifndef TESS_MGR_TESSD_EVENTS_H
#define TESS_MGR_TESSD_EVENTS_H

#include <stdint.h>

int mgr_tessd_events_start(void);
void mgr_tessd_events_stop(void);
/* Tessds subscribed now, events relayed and lines that were no JSON since the start. */
void mgr_tessd_events_counts(uint32_t *subscribed, uint64_t *relayed, uint64_t *unreadable);

#endif
