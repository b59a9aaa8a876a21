/* SPDX-License-Identifier: BSD-3-Clause */
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *list(const char *s)
{
	json_t *a = json_array();
	char *copy = strdup(s), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(t));
	free(copy);
	return a;
}

int opts_parse(int argc, char **argv, const struct opt_map *map, json_t *obj)
{
	for (int i = 0; i < argc; i++) {
		const struct opt_map *m = map;
		json_t *v = NULL;

		while (m->flag && strcmp(m->flag, argv[i]) != 0)
			m++;
		if (m->flag == NULL) {
			fprintf(stderr, "tessctl: unknown option '%s'\n", argv[i]);
			return -1;
		}
		if (m->type == OPT_TRUE || m->type == OPT_FALSE) {
			json_object_set_new(obj, m->key, json_boolean(m->type == OPT_TRUE));
			continue;
		}
		if (++i == argc) {
			fprintf(stderr, "tessctl: %s needs a value\n", m->flag);
			return -1;
		}
		if (m->type == OPT_NUM) {
			char *end;
			double d = strtod(argv[i], &end);
			if (*end || end == argv[i]) {
				fprintf(stderr, "tessctl: %s takes a number, not '%s'\n", m->flag,
					argv[i]);
				return -1;
			}
			json_object_set_new(obj, m->key, json_real(d));
			continue;
		}
		if (m->type == OPT_INTS) {
			json_t *a = list(argv[i]), *item;
			size_t k;
			json_array_foreach (a, k, item) {
				char *end;
				long long n = strtoll(json_string_value(item), &end, 10);
				if (*end || end == json_string_value(item)) {
					fprintf(stderr, "tessctl: %s takes numbers, not '%s'\n",
						m->flag, json_string_value(item));
					json_decref(a);
					return -1;
				}
				json_array_set_new(a, k, json_integer(n));
			}
			json_object_set_new(obj, m->key, a);
			continue;
		}
		if (m->type == OPT_ITEM) {
			json_t *a = json_object_get(obj, m->key);
			if (!json_is_array(a)) {
				a = json_array();
				json_object_set_new(obj, m->key, a);
			}
			json_array_append_new(a, json_string(argv[i]));
			continue;
		}
		if (m->type == OPT_INT) {
			char *end;
			errno = 0;
			long long n = strtoll(argv[i], &end, 10);
			if (errno || *end || end == argv[i]) {
				fprintf(stderr, "tessctl: %s takes a number, not '%s'\n", m->flag,
					argv[i]);
				return -1;
			}
			v = json_integer(n);
		} else if (m->type == OPT_LIST && json_is_array(json_object_get(obj, m->key))) {
			/* Repeated: --address A --address B is --address A,B. */
			json_array_extend(json_object_get(obj, m->key), v = list(argv[i]));
			json_decref(v);
			continue;
		} else {
			v = m->type == OPT_LIST ? list(argv[i]) : json_string(argv[i]);
		}
		json_object_set_new(obj, m->key, v);
	}
	return 0;
}
