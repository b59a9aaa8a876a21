/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control-socket codec: bytes from a client through the line buffer,
 * each line through the request parser, its params through the schema of
 * the method it names and of every other method (each API method's params
 * decoder), the answer encoded; and each line as a client reads an answer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cfg_schema.h"
#include "ctl_msg.h"
#include "ctl_server.h"
#include "module.h"
#include "tessd.h"

static const struct ctl_method **methods;
static size_t n_methods;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_t *empty = json_object(), *all, *m;
	size_t i;

	(void)argc;
	(void)argv;
	/* Every method tessd registers, and the control defaults (max_request, max_depth). */
	if (tess_modules_sort() < 0 || core_api_register() < 0 || port_api_register() < 0 ||
	    tess_modules_register_api() < 0 ||
	    tessd_cfg_decode(empty, &tessd.cfg, NULL, dp_cfg_validate) < 0) {
		fprintf(stderr, "fuzz: cannot register the API\n");
		exit(1);
	}
	json_decref(empty);
	all = ctl_methods_json();
	methods = calloc(json_array_size(all), sizeof(*methods));
	json_array_foreach (all, i, m) {
		const struct ctl_method *cm =
			ctl_method_find(json_string_value(json_object_get(m, "method")));
		if (cm && cm->params)
			methods[n_methods++] = cm;
	}
	json_decref(all);
	return 0;
}

/* params through one method's schema, as ctl_dispatch decodes them. */
static json_t *decode(const struct ctl_method *m, json_t *params, struct ctl_error *err)
{
	struct cfg_errs errs;
	void *p = calloc(1, m->params->obj.size);
	json_t *back = NULL;

	if (p == NULL)
		return NULL;
	cfg_errs_init(&errs);
	if (cfg_decode(m->params, params, p, "/params", &errs) < 0)
		ctl_error_from_cfg(err, &errs);
	else
		back = cfg_encode(m->params, p);
	cfg_free(m->params, p);
	free(p);
	return back;
}

static void request(const char *line, size_t len)
{
	struct ctl_request req = { 0 };
	struct ctl_error err = { 0 };
	json_t *result = NULL, *resp;
	char *text;
	size_t n;

	if (ctl_request_parse(line, len, tessd.cfg.control.max_depth, &req, &err) == 0) {
		const struct ctl_method *named = ctl_method_find(req.method);
		for (size_t i = 0; i < n_methods; i++) {
			struct ctl_error e = { 0 };
			json_t *r = decode(methods[i], req.params, &e);
			if (methods[i] == named) {
				result = r;
				err = e;
			} else {
				json_decref(r);
			}
		}
	}
	resp = result ? ctl_response_ok(req.id, result) : ctl_response_error(req.id, &err);
	text = resp ? ctl_msg_encode(resp, &n) : NULL;
	free(text);
	json_decref(resp);
	ctl_request_clear(&req);

	/* The same line as an answer, on the client's side. */
	result = NULL;
	if (ctl_response_parse(line, len, 1, &result, &err) == 0)
		json_decref(result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_linebuf lb;
	const char *line;
	bool overflow = false;
	size_t len;

	if (ctl_linebuf_init(&lb, tessd.cfg.control.max_request) < 0)
		return 0;
	/* Fed in reads of up to 512 bytes, as a socket gives them. */
	while (size && !overflow) {
		size_t avail, n;
		char *space = ctl_linebuf_space(&lb, &avail);

		if (space == NULL || avail == 0)
			break;
		n = size < avail ? size : avail;
		n = n < 512 ? n : 512;
		memcpy(space, data, n);
		ctl_linebuf_commit(&lb, n);
		data += n;
		size -= n;
		while ((line = ctl_linebuf_next(&lb, &len, &overflow)) != NULL)
			request(line, len);
	}
	ctl_linebuf_free(&lb);
	return 0;
}
