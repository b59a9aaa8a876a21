/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd's log: rte_log to the journal when stderr is it (a FILE whose writes become
 * journal datagrams, tlog.h), and the methods log.get and log.set, which read and change
 * the levels of rte_log types at run time (rte_log_set_level_pattern).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_server.h"
#include "log.h"
#include "tlog.h"

#define TYPE_MAX 64

__thread const struct tlog_fields *dp_log_fields;

/* rte_log's stream under the journal: one datagram per message. The stream is unbuffered,
 * so glibc formats each fprintf of rte_vlog whole (in a buffer of the calling thread, under
 * the stream's lock) and writes it once: each call is one datagram with its own thread's
 * level and fields, never two threads' messages merged nor one cut at a buffer's end. */
static ssize_t journal_write(void *cookie, const char *buf, size_t n)
{
	char msg[4096];
	/* rte_log's levels are syslog's plus one (RTE_LOG_EMERG is 1). */
	int prio = rte_log_cur_msg_loglevel() - 1;

	(void)cookie;
	snprintf(msg, sizeof(msg), "%.*s", (int)(n < sizeof(msg) ? n : sizeof(msg) - 1), buf);
	tlog_msg(prio < LOG_EMERG ? LOG_INFO : prio, dp_log_fields, msg);
	return (ssize_t)n;
}

int dp_log_init(void)
{
	FILE *f;

	if (tlog_init("tessd") < 0)
		return -1;
	tlog_set_level(LOG_DEBUG); /* rte_log filters by type first */
	if (tlog_get_output() != TLOG_JOURNAL)
		return 0; /* stderr, as rte_log does by default */
	f = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = journal_write });
	/* Kept open for good: rte_log writes to it until exit. */
	if (f && setvbuf(f, NULL, _IONBF, 0) == 0 && rte_openlog_stream(f) == 0)
		return 0;
	fprintf(stderr, "tessd: cannot log to the journal: %s; on stderr\n", strerror(errno));
	if (f)
		fclose(f);
	return 0;
}

/* Each registered type and its level, from rte_log_dump (22.11 has no iterator). */
static json_t *types_json(const char *pattern)
{
	json_t *a = json_array();
	char *text = NULL, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL || a == NULL) {
		if (f)
			fclose(f);
		json_decref(a);
		return NULL;
	}
	rte_log_dump(f);
	fclose(f);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[TYPE_MAX], level[16];
		/* "id 3: tess.dp, level is info" */
		if (sscanf(l, "id %*u: %63[^,], level is %15s", name, level) != 2)
			continue;
		if (pattern && fnmatch(pattern, name, 0) != 0)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s}", "type", name, "level",
						   strcmp(level, "error") == 0 ? "err" : level));
	}
	free(text);
	return a;
}

struct log_params {
	uint32_t level; /* index in tlog_level_names */
	char type[TYPE_MAX];
};

static int log_get(const void *params, json_t **result, struct ctl_error *err)
{
	const struct log_params *p = params;
	json_t *types = types_json(p->type[0] ? p->type : NULL);

	(void)err;
	*result = types ? json_pack("{s:o}", "types", types) : NULL;
	return *result ? 0 : -ENOMEM;
}

static int log_set(const void *params, json_t **result, struct ctl_error *err)
{
	const struct log_params *p = params;
	json_t *types = types_json(p->type);

	if (types == NULL)
		return -ENOMEM;
	/* A pattern that names nothing is a typo more often than a type yet to come. */
	if (json_array_size(types) == 0) {
		json_decref(types);
		ctl_error_set(err, ENOENT, "/params/type", "no log type matches '%s'", p->type);
		return -ENOENT;
	}
	json_decref(types);
	if (rte_log_set_level_pattern(p->type, RTE_LOG_ERR + p->level) < 0) {
		ctl_error_set(err, EINVAL, "/params/type", "rte_log refused '%s'", p->type);
		return -EINVAL;
	}
	DP_LOG(NOTICE, "log level of %s: %s", p->type, tlog_level_names[p->level]);
	types = types_json(p->type);
	*result = types ? json_pack("{s:s, s:s, s:o}", "type", p->type, "level",
				    tlog_level_names[p->level], "types", types)
			: NULL;
	return *result ? 0 : -ENOMEM;
}

/* A type or a pattern: "" (all) for log.get, a pattern for log.set. */
#define TYPE_NODE(min)                                       \
	{                                                    \
		.type = CFG_STRING,                          \
		.str = {.min_len = (min),                    \
			.max_len = TYPE_MAX - 1,             \
			.charset = CFG_NAME_CHARSET "*?[]" } \
	}
static const struct cfg_node type_node = TYPE_NODE(0);
static const struct cfg_node pattern_node = TYPE_NODE(1);
static const struct cfg_node level_node = {
	.type = CFG_ENUM,
	.str = { .max_len = 7, .choices = tlog_level_names },
};
static const struct cfg_field get_fields[] = {
	CFG_FIELD(struct log_params, type, "type", &type_node, false, "\"\""),
	{ 0 },
};
static const struct cfg_node get_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = get_fields, .size = sizeof(struct log_params) },
};
static const struct cfg_field set_fields[] = {
	CFG_FIELD(struct log_params, level, "level", &level_node, true, NULL),
	CFG_FIELD(struct log_params, type, "type", &pattern_node, false, "\"tess.*\""),
	{ 0 },
};
static const struct cfg_node set_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = set_fields, .size = sizeof(struct log_params) },
};

static const struct ctl_method log_methods[] = {
	{ "log.get", &get_schema, log_get, "rte_log types and their levels (of params.type)" },
	{ "log.set", &set_schema, log_set,
	  "the level (err..debug) of the rte_log types matching params.type (tess.*)" },
	{ 0 },
};

int log_api_register(void)
{
	return ctl_register(log_methods);
}
