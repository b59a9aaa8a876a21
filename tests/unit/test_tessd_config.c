/* SPDX-License-Identifier: BSD-3-Clause */
/* tessd's config: defaults, cross references, every bad-config class, examples, file I/O. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg_file.h"
#include "tessd_config.h"

static int decode(const char *text, struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	int rc;

	assert_non_null(j);
	cfg_errs_init(errs);
	rc = tessd_cfg_decode(j, cfg, errs);
	json_decref(j);
	return rc;
}

static void expect_error(const char *text, const char *path, const char *msg_part)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;

	if (decode(text, &cfg, &e) == 0)
		fail_msg("accepted: %s", text);
	for (unsigned i = 0; i < e.n && i < CFG_MAX_ERRS; i++)
		if (strcmp(e.e[i].path, path) == 0 && strstr(e.e[i].msg, msg_part))
			return;
	fail_msg("for %s expected '%s: ...%s...', got '%s: %s'", text, path, msg_part, e.e[0].path,
		 e.e[0].msg);
}

#define PORTS2                                                       \
	"\"ports\": [{\"name\": \"a\", \"devargs\": \"net_tap0\"}, " \
	"{\"name\": \"b\", \"devargs\": \"net_tap1,iface=x\"}]"

static void test_schema_consistent(void **state)
{
	struct cfg_errs e;

	(void)state;
	cfg_errs_init(&e);
	assert_int_equal(cfg_schema_check(&tessd_cfg_schema, &e), 0);
}

static void test_defaults(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;

	(void)state;
	assert_int_equal(decode("{}", &cfg, &e), 0);
	assert_int_equal(cfg.eal.main_cpu, 0);
	assert_int_equal(cfg.eal.n_workers, 1);
	assert_int_equal(cfg.eal.workers[0], 1);
	assert_int_equal(cfg.eal.memory_mb, 512);
	assert_string_equal(cfg.eal.hugepages, "auto");
	assert_string_equal(cfg.eal.file_prefix, "tessd");
	assert_string_equal(cfg.control.socket, "/run/tessera/tessd.sock");
	assert_string_equal(cfg.control.mode, "0660");
	assert_int_equal(cfg.control.max_request, 1 << 20);
	assert_int_equal(cfg.control.max_depth, 32);
	assert_int_equal(cfg.n_ports, 0);
	tessd_cfg_free(&cfg);

	assert_int_equal(decode("{" PORTS2 "}", &cfg, &e), 0);
	assert_int_equal(cfg.ports[0].mtu, 1500);
	assert_int_equal(cfg.ports[0].rx_queues, 0);
	assert_int_equal(cfg.ports[0].rx_desc, 1024);
	assert_true(cfg.ports[1].promiscuous);
	tessd_cfg_free(&cfg);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_error("{\"eal\": {\"workers\": []}}", "/eal/workers", "has 0 items");
	expect_error("{\"eal\": {\"workers\": [1, \"2\"]}}", "/eal/workers/1", "expected integer");
	expect_error("{\"eal\": {\"memory_mb\": 1}}", "/eal/memory_mb", "out of range");
	expect_error("{\"eal\": {\"hugepages\": \"maybe\"}}", "/eal/hugepages", "not one of");
	expect_error("{\"eal\": {\"file_prefix\": \"a/b\"}}", "/eal/file_prefix", "'/'");
	expect_error("{\"eal\": {\"args\": [\"\"]}}", "/eal/args/0", "length 0");
	expect_error("{\"eal\": {\"cores\": [1]}}", "/eal/cores", "unknown key");
	expect_error("{\"control\": {\"socket\": \"tessd.sock\"}}", "/control/socket", "absolute");
	expect_error("{\"control\": {\"mode\": \"0999\"}}", "/control/mode", "'9'");
	expect_error("{\"control\": {\"mode\": \"7777\"}}", "/control/mode", "permission bits");
	expect_error("{\"control\": {\"max_request\": 10}}", "/control/max_request",
		     "out of range");
	expect_error("{\"ports\": [{\"name\": \"a\"}]}", "/ports/0/devargs", "missing required");
	expect_error("{\"ports\": [{\"devargs\": \"net_null0\"}]}", "/ports/0/name", "missing");
	expect_error("{\"ports\": [{\"name\": \"\", \"devargs\": \"net_null0\"}]}", "/ports/0/name",
		     "length 0");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net null0\"}]}",
		     "/ports/0/devargs", "without spaces");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_null0\", \"mtu\": 67}]}",
		     "/ports/0/mtu", "out of range");
	expect_error(
		"{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_null0\", \"rx_desc\": 1000}]}",
		"/ports/0/rx_desc", "power of two");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_null0\", \"mtu\": true}]}",
		     "/ports/0/mtu", "expected integer, got boolean");
	expect_error("{\"ports\": {}}", "/ports", "expected array");
	expect_error("{\"xconnects\": [{\"a\": \"x\"}]}", "/xconnects/0/b", "missing");
}

static void test_cross_references(void **state)
{
	(void)state;
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_tap0\"}, "
		     "{\"name\": \"a\", \"devargs\": \"net_tap1\"}]}",
		     "/ports/1/name", "duplicate port name 'a'");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_tap0,iface=x\"}, "
		     "{\"name\": \"b\", \"devargs\": \"net_tap0,iface=y\"}]}",
		     "/ports/1/devargs", "device 'net_tap0' is already port 'a'");
	expect_error("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"c\"}]}",
		     "/xconnects/0/b", "no port named 'c'");
	expect_error("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"a\"}]}",
		     "/xconnects/0/b", "itself");
	expect_error("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"b\"}, "
		     "{\"a\": \"b\", \"b\": \"a\"}]}",
		     "/xconnects/1/a", "already cross-connected");
}

static void test_xc_helpers(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;
	struct tessd_xc_cfg xc = { .a = "b", .b = "a" };

	(void)state;
	assert_int_equal(
		decode("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"b\"}]}", &cfg, &e), 0);
	assert_int_equal(tessd_cfg_xc_of(&cfg, "b"), 0);
	assert_int_equal(tessd_cfg_xc_of(&cfg, "z"), -1);
	cfg_errs_init(&e);
	assert_true(tessd_cfg_xc_check(&cfg, &xc, "/params", &e) < 0);
	assert_string_equal(e.e[0].path, "/params/a");
	assert_int_equal(e.e[0].code, EBUSY);
	cfg.n_xconnects = 0;
	cfg_errs_init(&e);
	assert_int_equal(tessd_cfg_xc_check(&cfg, &xc, "/params", &e), 0);
	cfg.n_xconnects = 1;
	tessd_cfg_free(&cfg);
}

static void test_devargs_name(void **state)
{
	char n[16];

	(void)state;
	tessd_devargs_name("net_tap0,iface=x", n, sizeof(n));
	assert_string_equal(n, "net_tap0");
	tessd_devargs_name("0000:03:00.0", n, sizeof(n));
	assert_string_equal(n, "0000:03:00.0");
	tessd_devargs_name("averyveryverylongdevicename,x", n, sizeof(n));
	assert_string_equal(n, "averyveryverylo");
}

static void test_examples_validate(void **state)
{
	DIR *d = opendir(EXAMPLES_DIR);
	struct dirent *ent;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((ent = readdir(d)) != NULL) {
		char path[1024];
		struct tessd_cfg cfg;
		struct cfg_errs e;
		json_t *doc;

		if (strstr(ent->d_name, ".json") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", EXAMPLES_DIR, ent->d_name);
		cfg_errs_init(&e);
		doc = cfg_file_load(path, &e);
		if (doc == NULL || tessd_cfg_decode(doc, &cfg, &e) < 0)
			fail_msg("%s: %s: %s", path, e.e[0].path, e.e[0].msg);
		json_decref(doc);
		tessd_cfg_free(&cfg);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tess-cfg-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_file_load_errors(void **state)
{
	char path[128];
	struct cfg_errs e;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_int_equal(e.e[0].code, ENOENT);

	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	write_file(path, "{\n  \"ports\": [,]\n}\n");
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_int_equal(e.e[0].code, EBADMSG);
	assert_non_null(strstr(e.e[0].msg, "line 2"));

	write_file(path, "{\"eal\": {}, \"eal\": {}}");
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_non_null(strstr(e.e[0].msg, "duplicate"));

	write_file(path, "[1, 2]");
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_non_null(strstr(e.e[0].msg, "expected an object"));

	cfg_errs_init(&e);
	assert_null(cfg_file_load(tmpdir, &e));
	assert_non_null(strstr(e.e[0].msg, "not a regular file"));
}

static void test_file_save_atomic(void **state)
{
	char path[128], why[256];
	struct cfg_errs e;
	struct stat st;
	json_t *doc = json_pack("{s:[i,i]}", "x", 1, 2), *back;
	DIR *d;
	struct dirent *ent;

	(void)state;
	/* A new file is created 0640. */
	snprintf(path, sizeof(path), "%s/saved.json", tmpdir);
	unlink(path);
	assert_int_equal(cfg_file_save(path, doc, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* An existing file is replaced whole and keeps its mode. */
	write_file(path, "old");
	chmod(path, 0600);
	assert_int_equal(cfg_file_save(path, doc, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	cfg_errs_init(&e);
	back = cfg_file_load(path, &e);
	assert_non_null(back);
	assert_true(json_equal(doc, back));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* No temporary file is left behind. */
	d = opendir(tmpdir);
	while ((ent = readdir(d)) != NULL)
		assert_null(strstr(ent->d_name, ".saved.json."));
	closedir(d);
	json_decref(back);

	/* A symlink is not followed, and its target is left alone. */
	char link[160], target[160];
	snprintf(target, sizeof(target), "%s/target.json", tmpdir);
	snprintf(link, sizeof(link), "%s/link.json", tmpdir);
	write_file(target, "{}");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(cfg_file_save(link, doc, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a regular file"));
	cfg_errs_init(&e);
	back = cfg_file_load(target, &e);
	assert_int_equal(json_object_size(back), 0);
	json_decref(back);

	/* A directory that does not exist: an error, and nothing written. */
	assert_true(cfg_file_save("/nonexistent-dir/x.json", doc, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "temporary"));
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_consistent), cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_values),        cmocka_unit_test(test_cross_references),
		cmocka_unit_test(test_xc_helpers),        cmocka_unit_test(test_devargs_name),
		cmocka_unit_test(test_examples_validate), cmocka_unit_test(test_file_load_errors),
		cmocka_unit_test(test_file_save_atomic),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, rm_tmpdir);
}
