/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd's stats as Prometheus metrics (dataplane/prom_stats.c): names found by their hash
 * (thousands of metrics, one family each, in the order first seen), two fields that map to
 * one name ("a-b", "a_b") or two labels that do, label names Prometheus reserves ("__"),
 * and names too long: left out and counted in the gauge tessera_tessd_metrics_skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_assert.h"

#include "prom.h"

/* prom_stats_format's text for the JSON in s (asserted to parse and format). */
static char *format(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(j);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(prom_stats_format(j, f), 0);
	assert_int_equal(fclose(f), 0);
	json_decref(j);
	assert_non_null(text);
	return text;
}

/* How many lines of text start with line (a whole line: up to its newline). */
static int lines(const char *text, const char *line)
{
	size_t n = strlen(line);
	int c = 0;

	for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			c++;
	return c;
}

static void assert_skipped(const char *text, const char *reason, int n)
{
	char line[128];

	snprintf(line, sizeof(line), "tessera_tessd_metrics_skipped{reason=\"%s\"} %d", reason, n);
	assert_int_equal(lines(text, line), 1);
}

static void test_plain(void **state)
{
	char *t = format("{\"seconds\": 3, \"ports\": [{\"name\": \"a\", \"rx_packets\": 5},"
			 " {\"name\": \"b\", \"rx_packets\": 7}]}");

	(void)state;
	assert_int_equal(lines(t, "# TYPE tessera_tessd_seconds untyped"), 1);
	assert_int_equal(lines(t, "tessera_tessd_seconds 3"), 1);
	assert_int_equal(lines(t, "# TYPE tessera_tessd_ports_rx_packets_total counter"), 1);
	assert_int_equal(lines(t, "tessera_tessd_ports_rx_packets_total{name=\"a\"} 5"), 1);
	assert_int_equal(lines(t, "tessera_tessd_ports_rx_packets_total{name=\"b\"} 7"), 1);
	/* What this render left out: a gauge, not a counter, and named so. */
	assert_int_equal(lines(t, "# TYPE tessera_tessd_metrics_skipped gauge"), 1);
	assert_null(strstr(t, "metrics_skipped_total"));
	assert_skipped(t, "name_clash", 0);
	assert_skipped(t, "label_clash", 0);
	assert_skipped(t, "too_long", 0);
	free(t);
}

/*
 * One JSON's render: the lines it has once (once), has not (none, whole lines), the text
 * nowhere in it (nowhere), and how many samples it left out for skip_reason.
 */
struct prom_case {
	const char *what;
	const char *json;
	const char *once[6], *none[3], *nowhere[3];
	const char *skip_reason;
	int skipped;
};

static void check(const struct prom_case *c)
{
	char *t = format(c->json);

	print_message("case: %s\n", c->what);
	for (int i = 0; i < 6 && c->once[i]; i++)
		assert_int_equal(lines(t, c->once[i]), 1);
	for (int i = 0; i < 3 && c->none[i]; i++)
		assert_int_equal(lines(t, c->none[i]), 0);
	for (int i = 0; i < 3 && c->nowhere[i]; i++)
		assert_null(strstr(t, c->nowhere[i]));
	if (c->skip_reason)
		assert_skipped(t, c->skip_reason, c->skipped);
	free(t);
}

static const struct prom_case name_clashes[] = {
	{ "the first field keeps the name, the other is left out, whichever way round",
	  "{\"a_b\": 1, \"a-b\": 2, \"c.d\": 3, \"c_d\": 4}",
	  { "tessera_tessd_a_b 1", "tessera_tessd_c_d 3", "# TYPE tessera_tessd_a_b untyped" },
	  { "tessera_tessd_a_b 2", "tessera_tessd_c_d 4" },
	  { NULL },
	  "name_clash",
	  2 },
	{ "in a list, every object's sample of the later field is left out",
	  "{\"ports\": [{\"name\": \"a\", \"rx-errors\": 1, \"rx_errors\": 2},"
	  " {\"name\": \"b\", \"rx-errors\": 3, \"rx_errors\": 4}]}",
	  { "tessera_tessd_ports_rx_errors_total{name=\"a\"} 1",
	    "tessera_tessd_ports_rx_errors_total{name=\"b\"} 3" },
	  { NULL },
	  { NULL },
	  "name_clash",
	  2 },
	{ "a counter's _total meets a field that has it",
	  "{\"x_packets\": 1, \"x_packets_total\": 2}",
	  { "tessera_tessd_x_packets_total 1" },
	  { NULL },
	  { NULL },
	  "name_clash",
	  1 },
	{ "two sections and fields whose joins look alike (\"a/b\" \"c\", \"a\" \"b/c\") clash",
	  "{\"a/b\": [{\"name\": \"x\", \"c\": 1}], \"a\": [{\"name\": \"y\", \"b/c\": 2}]}",
	  { "tessera_tessd_a_b_c{name=\"x\"} 1" },
	  { NULL },
	  { "tessera_tessd_a_b_c{name=\"y\"}" },
	  "name_clash",
	  1 },
	{ "the count's own name is taken first",
	  "{\"metrics_skipped\": 9}",
	  { NULL },
	  { "tessera_tessd_metrics_skipped 9" },
	  { NULL },
	  "name_clash",
	  1 },
};

static const struct prom_case label_names[] = {
	{ "label names Prometheus reserves",
	  "{\"ports\": [{\"__name__\": \"evil\", \"n\": 1},"
	  " {\"___x\": \"y\", \"n\": 2}, {\"9lives\": \"z\", \"n\": 3}]}",
	  { "tessera_tessd_ports_n{_name__=\"evil\"} 1", "tessera_tessd_ports_n{_x=\"y\"} 2",
	    "tessera_tessd_ports_n{_lives=\"z\"} 3" },
	  { NULL },
	  { "{__" },
	  NULL,
	  0 },
	{ "leading underscores are collapsed after mapping: a digit, a '-', a UTF-8 byte",
	  "{\"ports\": [{\"1_x\": \"a\", \"n\": 1}, {\"-_y\": \"b\", \"n\": 2},"
	  " {\"\u00e9_z\": \"c\", \"n\": 3}, {\"_\": \"d\", \"n\": 4},"
	  " {\"-\": \"e\", \"n\": 5}]}",
	  { "tessera_tessd_ports_n{_x=\"a\"} 1", "tessera_tessd_ports_n{_y=\"b\"} 2",
	    "tessera_tessd_ports_n{_z=\"c\"} 3", "tessera_tessd_ports_n{_=\"d\"} 4",
	    "tessera_tessd_ports_n{_=\"e\"} 5" },
	  { NULL },
	  { "{__" },
	  NULL,
	  0 },
	{ "two labels of one name: the sample is left out, no empty metric is made for it",
	  "{\"ports\": [{\"a-b\": \"x\", \"a_b\": \"y\", \"n\": 1},"
	  " {\"__k\": \"x\", \"_k\": \"y\", \"m\": 2}]}",
	  { NULL },
	  { NULL },
	  { "tessera_tessd_ports_n", "tessera_tessd_ports_m" },
	  "label_clash",
	  2 },
};

static void test_name_clash(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(name_clashes) / sizeof(name_clashes[0]); i++)
		check(&name_clashes[i]);
}

static void test_label_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(label_names) / sizeof(label_names[0]); i++)
		check(&label_names[i]);
}

static void test_too_long(void **state)
{
	char key[80], field[200], json[400];
	char *t;

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	memset(field, 'f', sizeof(field) - 1);
	field[sizeof(field) - 1] = '\0';
	snprintf(json, sizeof(json),
		 "{\"%s\": 1, \"ports\": [{\"%s\": \"v\", \"n\": 2}], \"ok\": 3}", field, key);
	t = format(json);
	assert_null(strstr(t, "fff"));
	assert_null(strstr(t, "kkk"));
	assert_null(strstr(t, "tessera_tessd_ports_n"));
	assert_int_equal(lines(t, "tessera_tessd_ok 3"), 1);
	assert_skipped(t, "too_long", 2);
	free(t);
	/* 63 characters still fit a label name. */
	key[63] = '\0';
	snprintf(json, sizeof(json), "{\"ports\": [{\"%s\": \"v\", \"n\": 2}]}", key);
	t = format(json);
	assert_non_null(strstr(t, "tessera_tessd_ports_n{kkk"));
	assert_skipped(t, "too_long", 0);
	free(t);
}

/* Many metrics (by the hash): each once, in the order first seen, each sample under it. */
static void test_many(void **state)
{
	enum { N = 5000 };
	json_t *list = json_array();
	json_t *stats = json_pack("{s:o}", "svc", list);
	char *text = NULL, *t, *prev;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(stats);
	assert_non_null(f);
	for (int o = 0; o < 3; o++) {
		json_t *obj = json_pack("{s:s}", "name", o == 0 ? "a" : o == 1 ? "b" : "c");
		for (int i = 0; i < N; i++) {
			char k[32];
			snprintf(k, sizeof(k), "f%d", i);
			json_object_set_new(obj, k, json_integer(i + o));
		}
		json_array_append_new(list, obj);
	}
	assert_int_equal(prom_stats_format(stats, f), 0);
	assert_int_equal(fclose(f), 0);
	json_decref(stats);
	prev = text;
	for (int i = 0; i < N; i++) {
		char line[96];
		snprintf(line, sizeof(line), "# TYPE tessera_tessd_svc_f%d untyped\n", i);
		t = strstr(prev, line);
		assert_non_null(t);
		prev = t + strlen(line);
		for (int o = 0; o < 3; o++) {
			snprintf(line, sizeof(line), "tessera_tessd_svc_f%d{name=\"%c\"} %d\n", i,
				 'a' + o, i + o);
			assert_int_equal(strncmp(prev, line, strlen(line)), 0);
			prev += strlen(line);
		}
	}
	assert_int_equal(lines(text, "# TYPE tessera_tessd_svc_f0 untyped"), 1);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),       cmocka_unit_test(test_name_clash),
		cmocka_unit_test(test_label_names), cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
