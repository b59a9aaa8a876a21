/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Desktop disks: qcow2 linked clones of a site's base images, made and
 * rebased with qemu-img; files hashed (SHA-256) and copied with the copy
 * verified before it is published under its name.
 */
#ifndef TESS_MGR_IMAGE_H
#define TESS_MGR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * overlay := a qcow2 linked clone of base (qemu-img create -f qcow2 -b BASE
 * -F qcow2 OVERLAY), its directory made if missing. -EEXIST if overlay
 * exists (it is never overwritten), -ENOENT without base; err says why.
 */
int mgr_image_clone(const char *base, const char *overlay, char *err, size_t len);
/* Points overlay at base without touching its data (qemu-img rebase -u). */
int mgr_image_rebase(const char *overlay, const char *base, char *err, size_t len);
/* Removes an overlay, and any partial copy of it (gone already is fine). */
int mgr_image_remove(const char *overlay);
/* The program used, for tests and the demo: "qemu-img" unless set. */
void mgr_image_set_tool(const char *path);
/* How long one qemu-img run may take before it is killed (default 300 s). */
void mgr_image_set_timeout(unsigned sec);
/* How many qemu-img runs were killed for taking too long. */
uint64_t mgr_image_timeouts(void);
/* Shutdown: running qemu-img runs are killed and fail, and none starts. */
void mgr_image_abort(void);
/* fsync of path's directory (after a rename there, so the new name is durable). */
int mgr_fsync_dir(const char *path);
/* mkdir -p of path's directory. */
int mgr_image_make_parent(const char *path);

/* The SHA-256 of a file, in hex. */
int mgr_file_sha256(const char *path, char hex[65], char *err, size_t len);
/*
 * Copies src to dst.part, checks the copy's SHA-256 is sha256, then renames
 * it to dst. -EEXIST if dst exists, -EBADMSG on a mismatch; nothing is left
 * at dst or dst.part on failure.
 */
int mgr_file_copy_verified(const char *src, const char *dst, const char *sha256, char *err,
			   size_t len);

#endif
