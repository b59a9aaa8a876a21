/* SPDX-License-Identifier: BSD-3-Clause */
/* Command options (--key value) mapped onto the JSON params of a request. */
#ifndef TESSCTL_OPTS_H
#define TESSCTL_OPTS_H

#include <jansson.h>

enum opt_type {
	OPT_STR,   /* --group acme          -> "group": "acme" */
	OPT_INT,   /* --vlan 100            -> "vlan": 100 */
	OPT_NUM,   /* --vcpu-ratio 1.5      -> "vcpu_ratio": 1.5 */
	OPT_INTS,  /* --vlans 100,200       -> "vlans": [100, 200] */
	OPT_LIST,  /* --groups a,b          -> "groups": ["a", "b"] (empty: []; repeats add) */
	OPT_ITEM,  /* --arg a,b --arg c     -> "args": ["a,b", "c"] (whole, commas too) */
	OPT_TRUE,  /* --all-groups          -> "all_groups": true */
	OPT_FALSE, /* --no-promiscuous      -> "promiscuous": false */
};

struct opt_map {
	const char *flag;
	const char *key;
	enum opt_type type;
};

/* Parses argv into obj; prints what is wrong and returns -1 on a bad option. */
int opts_parse(int argc, char **argv, const struct opt_map *map, json_t *obj);

#endif
