/* SPDX-License-Identifier: BSD-3-Clause */
#include "event_proto.h"

#include <time.h>

const struct cfg_node event_kind_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1,
		 .max_len = EVENT_KIND_LEN - 1,
		 .charset = "._-abcdefghijklmnopqrstuvwxyz" },
};

void event_stamp(json_t *ev, const char *kind)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(ev, "event", json_string(kind));
	json_object_set_new(ev, "time", json_real((double)ts.tv_sec + ts.tv_nsec / 1e9));
}
