/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Base images, versioned by checksum (seed 004). Each site's storage holds
 * copies: storage/NAME as the operator put it (hashed and recorded the
 * first time it is used), and storage/images/NAME/VERSION.qcow2 for
 * versions pushed through tessmgrd. A new clone at a site uses the newest
 * version the site has; a clone keeps its version until it is rebased, so
 * an update never changes what a linked clone reads.
 */
#ifndef TESS_MGR_IMAGES_H
#define TESS_MGR_IMAGES_H

#include <jansson.h>

#include "mgr.h"

/* The copy of name at site (version NULL: the newest version there); NULL if none. */
const struct mgr_image *mgr_image_find_locked(const char *name, uint32_t site_id,
					      const char *version);

/*
 * The base a new clone of name at site uses (see above), after checking
 * the file is as it was hashed. 0 with *out, or -errno with err. Hashes
 * without the lock.
 */
int mgr_image_base(uint32_t site_id, const char *name, struct mgr_image *out, char *err,
		   size_t len);

/*
 * Site's copy of this version of name, if it has one (recorded, or its
 * storage/NAME hashing to it): 0 with *out, -ENOENT, or -errno with err.
 * With verify, the file is hashed again now (a copy damaged since fails
 * with -EBADMSG).
 */
int mgr_image_copy_at(uint32_t site_id, const char *name, const char *version, bool verify,
		      struct mgr_image *out, char *err, size_t len);

/*
 * Publishes file as a version of name at site, then at every other site
 * holding a copy of name (copy, verify, then publish, site by site). The
 * result lists each site's outcome; NULL with e set if nothing could start.
 * file is a regular file under mgr_conf.import_dir (a name relative to it,
 * or an absolute path that resolves under it); anything else is a 400.
 */
json_t *mgr_image_push(const char *name, uint32_t site_id, const char *file, struct mgr_err *e);
/*
 * At start: files in a site's images/NAME/ that no record names are what a
 * push interrupted between its copy and its record left; they go (their
 * push is done again by whoever asked for it).
 */
void mgr_images_sweep(void);

/*
 * Sets d's links to the copies of its base version (name) at every site:
 * the active one at active_site first. -ENOENT if that site has no copy.
 */
int mgr_image_links_locked(struct mgr_desktop *d, const char *name, uint32_t active_site);
/* d's links, for the API: site, active or passive, path. */
json_t *mgr_links_json_locked(const struct mgr_desktop *d, const char *name);

/* Every image (name NULL) or one: its versions, newest first, with the sites holding each. */
json_t *mgr_images_json_locked(const char *name);

#endif
