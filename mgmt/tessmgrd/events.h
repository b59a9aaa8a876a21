/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /v1/events: a long-lived answer of one JSON object a line as things
 * happen (job transitions, hosts up and down), for tessctl monitor --mgr.
 * A tenant token sees its tenant's events only; a provider token all.
 */
#ifndef TESS_MGR_EVENTS_H
#define TESS_MGR_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "state.h"

/*
 * Sends {"event": kind, "time": ..., ...fields} (fields stolen) to the
 * subscribers that may see it: tenant_id's, and the provider's (tenant_id
 * 0: provider only). Never waits for one: a slow one misses it (counted).
 */
void mgr_event_emit(const char *kind, uint32_t tenant_id, json_t *fields);
/*
 * The same, with what the tenant's streams get instead (tenant_fields, stolen): the
 * provider's may name its own infrastructure, a tenant's must not. tenant_fields NULL (a
 * json_pack that failed): tenants miss the event (counted), never get the provider's.
 */
void mgr_event_emit_split(const char *kind, uint32_t tenant_id, json_t *fields,
			  json_t *tenant_fields);
/* A job's state as it is now ("job"); with the state lock held. */
void mgr_event_job_locked(const struct mgr_job *j);
/* "host.up" or "host.down" if h->up is not was; with the state lock held. */
void mgr_event_host_locked(const struct mgr_host *h, bool was);
/* GET /v1/events. */
void api_events(struct api_ctx *c);
/* Streams open now, and events they missed since the start (GET /v1/stats). */
void mgr_events_counts(unsigned *streams, uint64_t *dropped);
/* Ends every stream (before http_stop: their threads are waiting). */
/* Ends the streams of a deleted tenant (under mgr.lock, as the delete is). */
void mgr_events_end_tenant(uint32_t tenant_id);
void mgr_events_stop(void);

#endif
