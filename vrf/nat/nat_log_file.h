/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT44 logging's file: opened safely in a directory held open, appended to in whole lines,
 * rotated by size (path -> path.1 -> ... -> path.keep). No DPDK: unit-tested on a temp dir.
 */
#ifndef TESS_NAT_LOG_FILE_H
#define TESS_NAT_LOG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nat_log_file {
	int dirfd, fd;       /* -1: not open */
	char root[4096];     /* the allowed directory it is under (control.log_dirs) */
	char rel[4096];      /* the file's directory below root ("": root itself) */
	char base[256];      /* the file's name */
	uint64_t file_bytes; /* the open file's size */
	uint64_t rotations, write_errors;
	bool failing;        /* said once, until a write succeeds */
	bool rotate_failing; /* said once, until a rotation succeeds */
};

/* Nothing open; f names nothing. */
void nat_log_file_init(struct nat_log_file *f);

/*
 * Names the file path under directory root (both absolute and normalised, path below root):
 * opened at the next write. Closes what was open. -EINVAL: path is not below root.
 */
int nat_log_file_set(struct nat_log_file *f, const char *root, const char *path);

void nat_log_file_close(struct nat_log_file *f);

/* Whether path's directory opens as a write would (0), or why not (-errno; -EINVAL: the
 * file is not a regular file). */
int nat_log_file_probe(const char *root, const char *path);

/*
 * Writes buf's len bytes of whole lines, each file at most max_bytes (a line never split
 * across two, never half written), keeping keep rotated files. Adds the lines written to
 * *records, the lines lost (open, write or disk errors) to *lost; returns the bytes written.
 */
size_t nat_log_file_write(struct nat_log_file *f, const char *buf, size_t len, uint64_t max_bytes,
			  uint32_t keep, uint64_t *records, uint64_t *lost);

/* Whether a batch started at pending (TSC, 0: none) is due at now (either may be later). */
static inline bool nat_log_flush_due(uint64_t now, uint64_t pending, uint64_t wait_ticks)
{
	return pending != 0 && (int64_t)(now - pending) >= (int64_t)wait_ticks;
}

#endif
