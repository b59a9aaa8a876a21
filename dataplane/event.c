/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.subscribe and tess_event_emit: an event is encoded once and queued
 * on every subscribed connection by the control server (ctl_server_stream),
 * which bounds what each holds (CTL_STREAM_HIGH) and drops for slow ones.
 */
#include "event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_server.h"
#include "event_proto.h"

static struct tess_event_counters cnt;

bool tess_event_wanted(void)
{
	struct ctl_server_counters cc;

	ctl_server_get_counters(&cc);
	return cc.streams > 0;
}

void tess_event_emit(const char *kind, json_t *fields)
{
	json_t *ev = fields ? fields : json_object();
	size_t len;
	char *line;

	if (ev == NULL || !tess_event_wanted()) {
		json_decref(ev);
		return;
	}
	event_stamp(ev, kind);
	line = ctl_msg_encode(ev, &len);
	json_decref(ev);
	if (line && ctl_server_stream(kind, line, len, &cnt.dropped))
		cnt.emitted++;
	free(line);
}

void tess_event_get_counters(struct tess_event_counters *c)
{
	struct ctl_server_counters cc;

	ctl_server_get_counters(&cc);
	*c = cnt;
	c->subscribers = cc.streams;
}

struct sub_params {
	char (*kinds)[EVENT_KIND_LEN];
	uint32_t n_kinds;
};

static const struct cfg_field sub_fields[] = {
	CFG_ARRAY_FIELD(struct sub_params, kinds, n_kinds, "kinds",
			CFG_ARR_NODE(&event_kind_node, EVENT_MAX_KINDS, char[EVENT_KIND_LEN]),
			false, "[]"),
	{ 0 },
};
static const struct cfg_node sub_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = sub_fields, .size = sizeof(struct sub_params) },
};

/* The connection becomes a stream after this answer (ctl_method.stream). */
static int subscribe(const void *params, json_t **result, struct ctl_error *err)
{
	const struct sub_params *sp = params;
	json_t *kinds = json_array();

	(void)err;
	for (uint32_t i = 0; i < sp->n_kinds; i++)
		json_array_append_new(kinds, json_string(sp->kinds[i]));
	*result = json_pack("{s:b, s:o}", "subscribed", 1, "kinds", kinds);
	return *result ? 0 : -ENOMEM;
}

static const struct ctl_method methods[] = {
	{ "events.subscribe", &sub_schema, subscribe,
	  "turn this connection into a stream of events, one JSON object a line", .stream = true },
	{ 0 },
};

int tess_event_api_register(void)
{
	return ctl_register(methods);
}
