/* SPDX-License-Identifier: BSD-3-Clause */
#include "roam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_KM 6371.0088

int mgr_location_parse(const char *text, struct mgr_location *loc, char *err, size_t len)
{
	struct in_addr a;
	const char *comma = strchr(text, ',');

	memset(loc, 0, sizeof(*loc));
	if (comma) {
		char *end;
		loc->kind = MGR_LOC_POINT;
		loc->lat = strtod(text, &end);
		if (end != comma || end == text)
			goto bad_point;
		loc->lon = strtod(comma + 1, &end);
		if (*end || end == comma + 1)
			goto bad_point;
		if (!(loc->lat >= -90 && loc->lat <= 90 && loc->lon >= -180 && loc->lon <= 180)) {
			snprintf(err, len, "'%s': latitude is -90..90 and longitude -180..180",
				 text);
			return -EINVAL;
		}
		return 0;
	}
	if (inet_pton(AF_INET, text, &a) == 1) {
		loc->kind = MGR_LOC_IP;
		loc->ip = ntohl(a.s_addr);
		return 0;
	}
	if (!text[0] || strlen(text) >= MGR_NAME_LEN ||
	    strspn(text, CFG_NAME_CHARSET) != strlen(text)) {
		snprintf(err, len, "'%s' is neither LAT,LON, an IPv4 address nor a site name",
			 text);
		return -EINVAL;
	}
	loc->kind = MGR_LOC_SITE;
	snprintf(loc->site, sizeof(loc->site), "%s", text);
	return 0;
bad_point:
	snprintf(err, len, "'%s' is not LAT,LON (two decimal numbers)", text);
	return -EINVAL;
}

static double rad(double deg)
{
	return deg * M_PI / 180.0;
}

double mgr_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	double dlat = rad(lat2 - lat1), dlon = rad(lon2 - lon1);
	double h = sin(dlat / 2) * sin(dlat / 2) +
		   cos(rad(lat1)) * cos(rad(lat2)) * sin(dlon / 2) * sin(dlon / 2);

	/* min: rounding can push h a hair over 1 for antipodes. */
	return 2 * EARTH_KM * asin(sqrt(fmin(1.0, h)));
}

int mgr_site_of_ip(const struct mgr_site *sites, uint32_t n, uint32_t ip)
{
	int best = -1, best_len = -1;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t p = 0; p < sites[i].n_prefixes; p++) {
			uint8_t l = sites[i].prefixes[p].len;
			uint32_t mask = l ? ~UINT32_C(0) << (32 - l) : 0;
			if ((ip & mask) == (sites[i].prefixes[p].addr & mask) &&
			    (int)l > best_len) {
				best = (int)i;
				best_len = l;
			}
		}
	return best;
}

int mgr_location_resolve(const struct mgr_location *loc, const struct mgr_site *sites, uint32_t n,
			 double *lat, double *lon, int *site, char *err, size_t len)
{
	*site = -1;
	switch (loc->kind) {
	case MGR_LOC_POINT:
		*lat = loc->lat;
		*lon = loc->lon;
		return 0;
	case MGR_LOC_IP:
		*site = mgr_site_of_ip(sites, n, loc->ip);
		if (*site < 0) {
			struct in_addr a = { .s_addr = htonl(loc->ip) };
			char text[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a, text, sizeof(text));
			snprintf(err, len, "%s is in no site's client prefixes", text);
			return -ENOENT;
		}
		break;
	case MGR_LOC_SITE:
		for (uint32_t i = 0; i < n; i++)
			if (strcmp(sites[i].spec.name, loc->site) == 0)
				*site = (int)i;
		if (*site < 0) {
			snprintf(err, len, "no site %s", loc->site);
			return -ENOENT;
		}
		break;
	}
	*lat = sites[*site].spec.latitude;
	*lon = sites[*site].spec.longitude;
	return 0;
}

struct ranked {
	double km;
	const char *name;
	uint32_t index;
};

static int by_km(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->km != y->km)
		return x->km < y->km ? -1 : 1;
	return strcmp(x->name, y->name);
}

void mgr_sites_by_distance(const struct mgr_site *sites, uint32_t n, double lat, double lon,
			   uint32_t *order)
{
	struct ranked *r = n ? calloc(n, sizeof(*r)) : NULL;

	if (r == NULL) { /* no memory: the given order */
		for (uint32_t i = 0; i < n; i++)
			order[i] = i;
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		r[i] = (struct ranked){ mgr_distance_km(lat, lon, sites[i].spec.latitude,
							sites[i].spec.longitude),
					sites[i].spec.name, i };
	qsort(r, n, sizeof(*r), by_km);
	for (uint32_t i = 0; i < n; i++)
		order[i] = r[i].index;
	free(r);
}

bool mgr_same_location(const struct mgr_site *sites, uint32_t n, uint32_t desk_site,
		       int client_site, double lat, double lon, double same_km)
{
	if (desk_site >= n)
		return false;
	if (same_km > 0)
		return mgr_distance_km(lat, lon, sites[desk_site].spec.latitude,
				       sites[desk_site].spec.longitude) <= same_km;
	if (client_site < 0 && n) {
		uint32_t *order = malloc(n * sizeof(*order));
		if (order == NULL)
			return true; /* cannot tell: stay */
		mgr_sites_by_distance(sites, n, lat, lon, order);
		client_site = (int)order[0];
		free(order);
	}
	return (uint32_t)client_site == desk_site;
}

int mgr_links_build(const uint32_t *copy_sites, const char *const *copy_paths, uint32_t n,
		    uint32_t active_site, struct mgr_link *links, uint32_t max)
{
	uint32_t k = 0;
	bool found = false;

	for (uint32_t i = 0; i < n && !found; i++)
		if (copy_sites[i] == active_site && max) {
			links[k++] = (struct mgr_link){ .site_id = active_site, .active = true };
			snprintf(links[0].path, sizeof(links[0].path), "%s", copy_paths[i]);
			found = true;
		}
	if (!found)
		return -ENOENT;
	for (uint32_t i = 0; i < n && k < max; i++) {
		bool dup = false;
		for (uint32_t j = 0; j < k; j++)
			dup |= links[j].site_id == copy_sites[i];
		if (dup)
			continue;
		links[k] = (struct mgr_link){ .site_id = copy_sites[i], .active = false };
		snprintf(links[k].path, sizeof(links[k].path), "%s", copy_paths[i]);
		k++;
	}
	return (int)k;
}
