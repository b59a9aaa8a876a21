/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The roaming desktop (seed 004): where a client is, which site is nearest
 * to it, and the links of a desktop's overlay to the copies of its base
 * image. Pure: no state, no lock, no I/O (unit-tested alone).
 */
#ifndef TESS_MGR_ROAM_H
#define TESS_MGR_ROAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

enum mgr_loc_kind { MGR_LOC_POINT, MGR_LOC_IP, MGR_LOC_SITE };

/* Where a client says it is: "LAT,LON", an IPv4 address, or a site name. */
struct mgr_location {
	enum mgr_loc_kind kind;
	double lat, lon;
	uint32_t ip; /* host order */
	char site[MGR_NAME_LEN];
};

/* 0, or -EINVAL with err saying what is wrong. */
int mgr_location_parse(const char *text, struct mgr_location *loc, char *err, size_t len);

/* Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). */
double mgr_distance_km(double lat1, double lon1, double lat2, double lon2);

/* The site whose client prefixes hold ip, the longest prefix winning; -1 if none. */
int mgr_site_of_ip(const struct mgr_site *sites, uint32_t n, uint32_t ip);

/*
 * A location resolved against the sites: its coordinates, and its site
 * when it names one (a site name, or an address in a site's prefixes;
 * -1 for a point). 0, or -ENOENT with err.
 */
int mgr_location_resolve(const struct mgr_location *loc, const struct mgr_site *sites, uint32_t n,
			 double *lat, double *lon, int *site, char *err, size_t len);

/* Indices of the n sites, nearest to (lat, lon) first (ties: by name). */
void mgr_sites_by_distance(const struct mgr_site *sites, uint32_t n, double lat, double lon,
			   uint32_t *order);

/*
 * The "same location" rule: same_km 0 means the same site (a point is at
 * its nearest site); otherwise within same_km of the desktop's site.
 * client_site is the resolved site (-1 for a point).
 */
bool mgr_same_location(const struct mgr_site *sites, uint32_t n, uint32_t desk_site,
		       int client_site, double lat, double lon, double same_km);

/* A desktop's link to one site's copy of its base image version. */
struct mgr_link {
	uint32_t site_id;
	bool active;
	char path[PATH_MAX];
};

/*
 * The links of a desktop after it moves to active_site: one active link to
 * that site's copy, passive links to every other site's copy of the same
 * version (copies: site ids and paths, n of them). Returns how many links
 * (at most max); -ENOENT if active_site has no copy.
 */
int mgr_links_build(const uint32_t *copy_sites, const char *const *copy_paths, uint32_t n,
		    uint32_t active_site, struct mgr_link *links, uint32_t max);

#endif
