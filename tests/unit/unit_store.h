/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fresh tessmgrd store for each test of the usage history's unit tests:
 * mgr_store_open on a file in a temporary directory (its schema), and db,
 * a connection of the test's own on it; all removed after the test.
 */
#ifndef TESS_UNIT_STORE_H
#define TESS_UNIT_STORE_H

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "unit_store_rm.h"

#define UNIT_STORE_DIR "/tmp/tess-unit-store-XXXXXX"

static char store_dir[] = UNIT_STORE_DIR;
static char store_path[sizeof(store_dir) + 16];
static sqlite3 *db;

static int store_setup(void **state)
{
	char err[256];

	(void)state;
	memcpy(store_dir, UNIT_STORE_DIR, sizeof(store_dir));
	if (mkdtemp(store_dir) == NULL)
		return -1;
	snprintf(store_path, sizeof(store_path), "%s/store.db", store_dir);
	if (mgr_store_open(store_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return sqlite3_open(store_path, &db) == SQLITE_OK ? 0 : -1;
}

static int store_teardown(void **state)
{
	(void)state;
	sqlite3_close(db);
	mgr_store_close();
	unit_store_remove(store_path, store_dir);
	return 0;
}

#endif
