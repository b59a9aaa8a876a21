/* SPDX-License-Identifier: BSD-3-Clause */
/* Desktop disks: qcow2 linked clones of a site's base images, made with qemu-img. */
#ifndef TESS_MGR_IMAGE_H
#define TESS_MGR_IMAGE_H

#include <stddef.h>

/*
 * overlay := a qcow2 linked clone of base (qemu-img create -f qcow2 -b BASE
 * -F qcow2 OVERLAY), its directory made if missing. -EEXIST if overlay
 * exists (it is never overwritten), -ENOENT without base; err says why.
 */
int mgr_image_clone(const char *base, const char *overlay, char *err, size_t len);
/* Removes an overlay (gone already is fine). */
int mgr_image_remove(const char *overlay);
/* The program used, for tests and the demo: "qemu-img" unless set. */
void mgr_image_set_tool(const char *path);

#endif
