/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TESSCTL_H
#define TESSCTL_H

#include <stdbool.h>

#include <jansson.h>

#include "ctl_client.h"
#include "schema_opts.h"

struct cfg_node;

struct tessctl {
	const char *socket;
	const char *mgr_url; /* tessmgrd */
	const char *token;
	int timeout_ms;
	bool json;
	bool connected;
	struct ctl_client client;
};

/* Command handlers return 0, -errno (exit 1), or TESSCTL_USAGE (exit 2). */
#define TESSCTL_USAGE 2

/* max_args of commands whose options come from a schema: the parser bounds them. */
#define TESSCTL_ANY_ARGS 1000000

/*
 * A command either has its own fn, or (fn NULL) sends "method" with the
 * positional arguments as the keys "pos" and the options the method's
 * params schema defines (tessctl_run_schema).
 */
struct tessctl_cmd {
	const char *words; /* e.g. "xconnect add" */
	const char *args;  /* usage of the arguments after the words; NULL: generated */
	int min_args, max_args;
	int (*fn)(struct tessctl *ctx, int argc, char **argv);
	const char *help;
	const char *method;                  /* whose params schema gives the options */
	const char *pos[4];                  /* keys of the positional arguments, in order */
	void (*human)(const json_t *result); /* NULL: JSON */
	/*
	 * tessmgrd's: the object its add|set take, whose schema gives their options and
	 * the usage's "add|set POS... --required... [options]" (after args), with
	 * schema_args, the options of add|set that tessctl itself handles; schema_verb,
	 * when the schema's options are another verb's than add|set ("set" of rates).
	 */
	const struct cfg_node *schema;
	const char *schema_args;
	const char *schema_verb;
};

/* Calls a tessd method; prints the error and returns -code on failure. */
int tessctl_call(struct tessctl *ctx, const char *method, json_t *params, json_t **result);
void tessctl_print_json(const json_t *j);
/* Calls, then prints the result as JSON (--json, or no human printer) or with "human". */
int tessctl_run(struct tessctl *ctx, const char *method, json_t *params,
		void (*human)(const json_t *result));
/* Prints a daemon's answer r as JSON (--json, or no human printer) or with human; frees r. */
int tessctl_show(const struct tessctl *ctx, json_t *r, void (*human)(const json_t *result));
/*
 * Adds the --options of argv to params as the method's params schema (from
 * tessd) defines them, checks required keys unless the method takes a
 * partial update, then runs like tessctl_run. Keys in skip (positional or
 * set by the command) are not options; "words" names the command in errors.
 */
int tessctl_run_schema(struct tessctl *ctx, const char *words, const char *method,
		       const char *const *skip, json_t *params, int argc, char **argv,
		       void (*human)(const json_t *r));
/*
 * tessmgrd's API at ctx->mgr_url (cmd_mgr.c): METHOD /v1/path with body (stolen). On an
 * error answer prints it (its body too with --json) and returns -1; < 0 when tessmgrd
 * could not be asked. tessctl_mgr_call gives the answer (owned); tessctl_mgr_run prints it
 * (human, or JSON with --json or without human).
 */
int tessctl_mgr_call(struct tessctl *ctx, const char *method, const char *path, json_t *body,
		     json_t **result);
int tessctl_mgr_run(struct tessctl *ctx, const char *method, const char *path, json_t *body,
		    void (*human)(const json_t *r));
/* A human printer that says "ok". */
void tessctl_done(const json_t *r);
/* A human printer for {"flushed": N}. */
void tessctl_flushed(const json_t *r);
/* "a,b,c" of a list of strings, "-" when empty. */
const char *tessctl_join(const json_t *list, const char *sep, char *buf, size_t len);
/* "k=v k=v" of an object's non-zero integers, "-" when none. */
const char *tessctl_join_counts(const json_t *obj, char *buf, size_t len);
/* Integer member of an object, 0 when missing. */
json_int_t jint(const json_t *o, const char *key);
const char *jstr(const json_t *o, const char *key);

/* An option before the command (tessctl_opts ends with name == NULL). */
struct tessctl_opt {
	const char *name; /* --name */
	int key;          /* getopt's value, and the short option when has_short */
	bool has_short;
	const char *arg; /* its value's name; NULL: a flag */
	const char *help;
};
#define TESSCTL_MAX_OPTS 16
extern const struct tessctl_opt tessctl_opts[];

/* Every command table (core, modules, tessmgrd, help), NULL-terminated. */
extern const struct tessctl_cmd *tessctl_tables[];
/* The command with the most words that start argv; *used: how many words. */
const struct tessctl_cmd *tessctl_match(int argc, char **argv, int *used);
/* "port add NAME DEVARGS": a command's usage line without its options. */
void tessctl_synopsis(const struct tessctl_cmd *c, char *buf, size_t len);
/* How many positional arguments a schema command takes (c->pos). */
int tessctl_n_pos(const struct tessctl_cmd *c);

/* Hidden commands (complete.c): the command table as JSON, for the man page. */
int tessctl_dump_commands(void);
/* Candidates for the last of argv (the word being completed), one a line: bash completion. */
int tessctl_complete(struct tessctl *ctx, int argc, char **argv);

extern const struct tessctl_cmd tessd_cmds[];
extern const struct tessctl_cmd mgr_cmds[];
/* The flags of tessmgrd's add|set options older than their schema, kept for scripts. */
extern const struct sopts_alias tessctl_mgr_aliases[];
/* user ... and desktop assign ... (cmd_users.c), in mgr_cmds: completed from their usage. */
int tessctl_cmd_user(struct tessctl *ctx, int argc, char **argv);
int tessctl_cmd_assign(struct tessctl *ctx, int argc, char **argv);
/* desktop console ID [--type vnc|serial] (cmd_console.c): a ticket and its WebSocket URL. */
int tessctl_cmd_console(struct tessctl *ctx, int argc, char **argv);

/* tessmgrd's usage history, chargeback and rates (cmd_usage.c). */
int tessctl_cmd_usage_history(struct tessctl *ctx, int argc, char **argv);
int tessctl_cmd_chargeback(struct tessctl *ctx, int argc, char **argv);
int tessctl_cmd_rates(struct tessctl *ctx, int argc, char **argv);

/*
 * A tessd module's commands (a table ending with words == NULL), from the
 * module's own directory: listed after the core's, in link order.
 */
void tessctl_register(const struct tessctl_cmd *table);
#define TESSCTL_COMMANDS(table)                                                 \
	__attribute__((constructor)) static void tessctl_register_##table(void) \
	{                                                                       \
		tessctl_register(table);                                        \
	}

#endif
