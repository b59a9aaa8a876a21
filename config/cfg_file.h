/* SPDX-License-Identifier: BSD-3-Clause */
/* Reading a JSON config file strictly, and writing one atomically. */
#ifndef TESS_CFG_FILE_H
#define TESS_CFG_FILE_H

#include <jansson.h>

#include "cfg_schema.h"

#define CFG_FILE_MAX (256u << 20) /* a router config may hold a million routes */

/*
 * Parses a JSON file (an object; duplicate keys rejected). Returns NULL
 * with an error added: ENOENT/EACCES for the file, EBADMSG with line and
 * column for bad JSON, EFBIG over CFG_FILE_MAX.
 */
json_t *cfg_file_load(const char *path, struct cfg_errs *errs);

/*
 * Writes "doc" to "path" so that a crash leaves either the old file or the
 * new one: temp file in the same directory, fsync, rename, fsync of the
 * directory. An existing file must be a regular file (not a symlink); its
 * mode and owner carry over. Returns 0 (with a warning in "why" when only
 * the directory sync failed) or -errno with "why" filled in.
 */
int cfg_file_save(const char *path, const json_t *doc, char *why, size_t why_len);

#endif
