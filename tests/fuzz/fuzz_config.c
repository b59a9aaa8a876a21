/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader: a tessd config file through cfg_file_load (JSON,
 * duplicate keys refused), the schema decode and every module's rules
 * (dp_cfg_validate), then freed, as tessd -c FILE --check does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "apply.h"
#include "cfg_file.h"
#include "module.h"
#include "tessd_config.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A regular file in memory: what the loader reads, with no disk in the loop. */
	fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0 || tess_modules_sort() < 0) {
		perror("fuzz: memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tessd_cfg cfg;
	struct cfg_errs errs;
	json_t *doc;

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	cfg_errs_init(&errs);
	doc = cfg_file_load(path, &errs);
	memset(&cfg, 0, sizeof(cfg));
	if (doc && tessd_cfg_decode(doc, &cfg, &errs, dp_cfg_validate) == 0)
		tessd_cfg_free(&cfg);
	json_decref(doc);
	return 0;
}
