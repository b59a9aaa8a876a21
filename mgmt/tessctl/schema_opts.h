/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command options derived from a tessd method's params schema (as tessd's
 * "help" describes it, see cfg_schema_json), the way ovs-vsctl is generic
 * over the schema it fetches: --some-key sets some_key; integers, numbers
 * and strings take a value; a boolean is --key (true) or --no-key (false);
 * a list of scalars takes a comma list and repeats. Nested objects and
 * lists of objects are not options (commands that need them parse their
 * own flags, or use "call").
 */
#ifndef TESSCTL_SCHEMA_OPTS_H
#define TESSCTL_SCHEMA_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/*
 * A flag that is not the mechanical --some-key of its key, kept because
 * scripts use it; it applies wherever the object has its key. Tables end
 * with a zeroed entry.
 */
struct sopts_alias {
	const char *flag;
	const char *key;
	bool value; /* booleans: what the flag sets */
	bool item;  /* lists: the value is one item, whole (commas kept), appended */
};
/* tessd's (its methods' params). */
extern const struct sopts_alias sopts_tessd_aliases[];

/*
 * Adds the options in argv to obj. "params" is the object description;
 * keys in "skip" (NULL-terminated, may be NULL) are given otherwise (as
 * positional arguments) and are not options; aliases may be NULL.
 * Returns 0, or -1 after printing what is wrong.
 */
int sopts_parse(const json_t *params, const char *const *skip, const struct sopts_alias *aliases,
		int argc, char **argv, json_t *obj);
/* 0 when obj has every required key of params; else -1 after naming the first missing. */
int sopts_check_required(const json_t *params, const json_t *obj, const char *words);
/* " --vlan N" for each required option of params not in skip (a synopsis). */
/* Whether field is an option (a scalar, a boolean, a list of scalars) and not in skip. */
bool sopts_offered(const json_t *field, const char *const *skip);
void sopts_synopsis(char *buf, size_t len, const json_t *params, const char *const *skip);
/* Lists the options of params not in skip, with their aliases, types and defaults. */
void sopts_usage(FILE *f, const json_t *params, const char *const *skip,
		 const struct sopts_alias *aliases);
/* "integer 1-4094", "one of none, access, trunk", ... of a node description. */
void sopts_type_text(char *buf, size_t len, const json_t *node);
/* "KERNEL-NAME" for "kernel_name": how usage names a key's value. */
void sopts_meta(char *buf, size_t len, const char *key);

#endif
