/* SPDX-License-Identifier: BSD-3-Clause */
/* A unit test's SQLite store file in its own directory: removed with its WAL files. */
#ifndef TESS_UNIT_STORE_RM_H
#define TESS_UNIT_STORE_RM_H

#include <stdio.h>
#include <unistd.h>

static inline void unit_store_remove(const char *db, const char *dir)
{
	char path[4096];

	unlink(db);
	snprintf(path, sizeof(path), "%s-wal", db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db);
	unlink(path);
	rmdir(dir);
}

#endif
