/* SPDX-License-Identifier: BSD-3-Clause */
#include "images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "image.h"
#include "roam.h"
#include "store.h"
#include "tlog.h"

/* Versions are ordered by when they were published, in microseconds (two in one second). */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define UNRECORDED (UINT32_C(1) << 31) /* a site id to check for storage/NAME */

/* Pushes are one at a time: two of one image would race for the same copies. */
static pthread_mutex_t push_lock = PTHREAD_MUTEX_INITIALIZER;

const struct mgr_image *mgr_image_find_locked(const char *name, uint32_t site_id,
					      const char *version)
{
	const struct mgr_image *best = NULL;

	for (uint32_t i = 0; i < mgr.n_images; i++) {
		const struct mgr_image *x = &mgr.images[i];
		if (x->site_id != site_id || strcmp(x->name, name) != 0)
			continue;
		if (version ? strcmp(x->version, version) == 0
			    : best == NULL || x->published > best->published)
			best = x;
	}
	return best;
}

static const struct mgr_image *by_path_locked(const char *path)
{
	for (uint32_t i = 0; i < mgr.n_images; i++)
		if (strcmp(mgr.images[i].path, path) == 0)
			return &mgr.images[i];
	return NULL;
}

/* When version was first published anywhere (0: never). */
static int64_t published_locked(const char *name, const char *version)
{
	for (uint32_t i = 0; i < mgr.n_images; i++)
		if (strcmp(mgr.images[i].name, name) == 0 &&
		    strcmp(mgr.images[i].version, version) == 0)
			return mgr.images[i].published;
	return 0;
}

/* Records a copy (in memory and the store). */
static int add_locked(const struct mgr_image *x)
{
	struct mgr_image *a;

	if (mgr_store_put_image(x) < 0)
		return -EIO;
	a = realloc(mgr.images, (mgr.n_images + 1) * sizeof(*a));
	if (a == NULL) {
		mgr_store_del_image(x);
		return -ENOMEM;
	}
	mgr.images = a;
	a[mgr.n_images++] = *x;
	return 0;
}

/* The file is still what was hashed: same size and modification time. */
static int unchanged(const struct mgr_image *x, char *err, size_t len)
{
	struct stat st;

	if (stat(x->path, &st) < 0) {
		int rc = -errno;
		snprintf(err, len, "base image %s: %s", x->path, strerror(errno));
		return rc;
	}
	if (st.st_size != x->size || st.st_mtime != x->mtime) {
		snprintf(err, len,
			 "base image %s changed since version %.12s was recorded: push a new "
			 "version instead of changing a base in place",
			 x->path, x->version);
		return -ESTALE;
	}
	return 0;
}

/* Hashes path and records it as site's copy of name (unless someone did meanwhile). */
static int record_file(uint32_t site_id, const char *name, const char *path, struct mgr_image *out,
		       char *err, size_t len)
{
	struct mgr_image x = { .site_id = site_id };
	const struct mgr_image *known;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		rc = -errno;
		snprintf(err, len, "base image %s: %s", path, strerror(errno));
		return rc;
	}
	rc = mgr_file_sha256(path, x.version, err, len);
	if (rc < 0)
		return rc;
	snprintf(x.name, sizeof(x.name), "%s", name);
	snprintf(x.path, sizeof(x.path), "%s", path);
	x.size = st.st_size;
	x.mtime = st.st_mtime;
	pthread_mutex_lock(&mgr.lock);
	known = by_path_locked(path);
	if (known == NULL)
		known = mgr_image_find_locked(name, site_id,
					      x.version); /* the site has it already */
	if (known) {
		*out = *known;
	} else {
		x.published = published_locked(name, x.version) ?: now_us();
		rc = add_locked(&x);
		if (rc < 0)
			snprintf(err, len, "cannot record base image %s: %s", path, strerror(-rc));
		*out = x;
	}
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

static int plain_path(uint32_t site_id, const char *name, char *path, size_t size)
{
	const struct mgr_site *s;
	int n = -1;

	pthread_mutex_lock(&mgr.lock);
	s = mgr_site_get(&mgr, site_id);
	if (s)
		n = snprintf(path, size, "%s/%s", s->spec.storage, name);
	pthread_mutex_unlock(&mgr.lock);
	return n < 0 ? -ENOENT : n >= (int)size ? -ENAMETOOLONG : 0;
}

/* A copy of mgr_image_find_locked's answer, taking the lock. */
static bool find_copy(const char *name, uint32_t site_id, const char *version,
		      struct mgr_image *out)
{
	const struct mgr_image *x;

	pthread_mutex_lock(&mgr.lock);
	x = mgr_image_find_locked(name, site_id, version);
	if (x)
		*out = *x;
	pthread_mutex_unlock(&mgr.lock);
	return x != NULL;
}

int mgr_image_base(uint32_t site_id, const char *name, struct mgr_image *out, char *err, size_t len)
{
	char path[PATH_MAX];
	int rc;

	if (find_copy(name, site_id, NULL, out))
		return unchanged(out, err, len);
	rc = plain_path(site_id, name, path, sizeof(path));
	if (rc < 0) {
		snprintf(err, len, "base image %s: no such site or path too long", name);
		return rc;
	}
	return record_file(site_id, name, path, out, err, len);
}

int mgr_image_copy_at(uint32_t site_id, const char *name, const char *version, bool verify,
		      struct mgr_image *out, char *err, size_t len)
{
	char path[PATH_MAX], sum[65];
	bool plain_known;
	int rc;

	if (!find_copy(name, site_id, version, out)) {
		/* storage/NAME, if not recorded yet, may be this version. */
		if (plain_path(site_id, name, path, sizeof(path)) < 0)
			return -ENOENT;
		pthread_mutex_lock(&mgr.lock);
		plain_known = by_path_locked(path) != NULL;
		pthread_mutex_unlock(&mgr.lock);
		if (plain_known || access(path, R_OK) != 0)
			return -ENOENT;
		rc = record_file(site_id, name, path, out, err, len);
		if (rc < 0)
			return rc;
		if (strcmp(out->version, version) != 0)
			return -ENOENT;
		return 0; /* just hashed */
	}
	rc = unchanged(out, err, len);
	if (rc < 0 || !verify)
		return rc;
	rc = mgr_file_sha256(out->path, sum, err, len);
	if (rc == 0 && strcmp(sum, version) != 0) {
		snprintf(err, len,
			 "checksum mismatch: %s should be version %.12s but its SHA-256 is %.12s",
			 out->path, version, sum);
		rc = -EBADMSG;
	}
	return rc;
}

/* Copies src (version sum) into site's images/NAME/VERSION.qcow2 and records it. */
static int publish_at(uint32_t site_id, const char *name, const char *src, const char *sum,
		      int64_t published, struct mgr_image *out, char *err, size_t len)
{
	struct mgr_image x = { .site_id = site_id, .published = published };
	const struct mgr_site *s;
	struct stat st;
	int rc, n = -1;

	pthread_mutex_lock(&mgr.lock);
	s = mgr_site_get(&mgr, site_id);
	if (s)
		n = snprintf(x.path, sizeof(x.path), "%s/images/%s/%s.qcow2", s->spec.storage, name,
			     sum);
	pthread_mutex_unlock(&mgr.lock);
	if (n < 0 || n >= (int)sizeof(x.path)) {
		snprintf(err, len, "site %u: gone, or its storage path is too long", site_id);
		return -ENOENT;
	}
	rc = mgr_file_copy_verified(src, x.path, sum, err, len);
	if (rc < 0)
		return rc;
	if ((rc = MGR_FAULT("push.after_copy", err, len)) < 0) {
		unlink(x.path);
		return rc;
	}
	if (stat(x.path, &st) < 0) {
		rc = -errno;
		snprintf(err, len, "%.400s: %s", x.path, strerror(errno));
		unlink(x.path);
		return rc;
	}
	snprintf(x.name, sizeof(x.name), "%s", name);
	snprintf(x.version, sizeof(x.version), "%s", sum);
	x.size = st.st_size;
	x.mtime = st.st_mtime;
	pthread_mutex_lock(&mgr.lock);
	rc = add_locked(&x);
	pthread_mutex_unlock(&mgr.lock);
	if (rc < 0) {
		snprintf(err, len, "cannot record %.400s", x.path);
		unlink(x.path);
		return rc;
	}
	*out = x;
	return 0;
}

static json_t *site_result(uint32_t site_id, const char *state, const char *path, const char *err)
{
	const struct mgr_site *s;
	json_t *o;

	pthread_mutex_lock(&mgr.lock);
	s = mgr_site_get(&mgr, site_id);
	o = json_pack("{s:s, s:s, s:s}", "site", s ? s->spec.name : "?", "state", state, "path",
		      path);
	pthread_mutex_unlock(&mgr.lock);
	if (err && err[0])
		json_object_set_new(o, "error", json_string(err));
	return o;
}

/* True if path is dir itself or below it (both canonical). */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1) /* "/" */
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/*
 * Opens file for a push: a name relative to the import directory or an
 * absolute path, which must resolve (symlinks and ".." included) under it
 * and be a regular file. A provider token is not root on this host: without
 * this any file (/etc/shadow, the token file) could be copied into site
 * storage, and /dev/zero or a FIFO would hold the push lock for ever
 * (review 8d02519, 1.8). The fd, not the name, is hashed and copied, so a
 * name swapped afterwards changes nothing. -errno with why in err.
 */
static int open_import(const char *file, int *fd, char *err, size_t len)
{
	char dir[PATH_MAX], joined[PATH_MAX * 2], real[PATH_MAX], proc[64], got[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc;

	if (realpath(mgr_conf.import_dir, dir) == NULL) {
		rc = -errno;
		snprintf(err, len, "the import directory %.400s: %s", mgr_conf.import_dir,
			 strerror(-rc));
		return rc;
	}
	if (file[0] == '/')
		snprintf(joined, sizeof(joined), "%s", file);
	else
		snprintf(joined, sizeof(joined), "%s/%s", dir, file);
	if (realpath(joined, real) == NULL) {
		rc = -errno;
		snprintf(err, len, "%.400s: %s", file, strerror(-rc));
		return rc;
	}
	if (!under(real, dir)) {
		snprintf(err, len, "%.200s is not under the import directory %.200s", file, dir);
		return -EPERM;
	}
	/* O_NONBLOCK: opening a FIFO does not wait for a writer; O_NOFOLLOW: the last name
	 * did not become a symlink since realpath. */
	*fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		snprintf(err, len, "%.400s: %s", file, strerror(-rc));
		return rc;
	}
	/* Where it really is: a directory on the way may have been swapped since realpath. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", *fd);
	n = readlink(proc, got, sizeof(got) - 1);
	if (n > 0)
		got[n] = '\0';
	if (fstat(*fd, &st) < 0 || n <= 0 || !under(got, dir) || !S_ISREG(st.st_mode)) {
		snprintf(err, len, "%.200s is not a regular file under the import directory %.200s",
			 file, dir);
		close(*fd);
		*fd = -1;
		return -EPERM;
	}
	return 0;
}

/* Removes the files of dir (images/NAME) that are not recorded. */
static void sweep_dir_locked(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];

	while (d && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		bool ours = (n > 6 && strcmp(de->d_name + n - 6, ".qcow2") == 0) ||
			    (n > 5 && strcmp(de->d_name + n - 5, ".part") == 0);
		if (!ours ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    by_path_locked(path))
			continue;
		if (unlink(path) == 0)
			tlog(LOG_NOTICE, NULL, "%s: left by an interrupted push: removed", path);
	}
	if (d)
		closedir(d);
}

void mgr_images_sweep(void)
{
	pthread_mutex_lock(&mgr.lock);
	for (uint32_t i = 0; i < mgr.n_sites; i++) {
		char top[PATH_MAX], dir[PATH_MAX];
		struct dirent *de;
		DIR *d;
		if (snprintf(top, sizeof(top), "%s/images", mgr.sites[i].spec.storage) >=
		    (int)sizeof(top))
			continue;
		d = opendir(top);
		while (d && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || snprintf(dir, sizeof(dir), "%s/%s", top,
							     de->d_name) >= (int)sizeof(dir))
				continue;
			sweep_dir_locked(dir);
		}
		if (d)
			closedir(d);
	}
	pthread_mutex_unlock(&mgr.lock);
}

json_t *mgr_image_push(const char *name, uint32_t site_id, const char *file, struct mgr_err *e)
{
	struct mgr_image first, copy;
	char sum[65], err[512] = "";
	bool have;
	uint32_t *sites = NULL, n_sites = 0;
	json_t *out, *results;
	int64_t published;
	char src[64];
	int rc, fd = -1;

	/* Checked and hashed before the push lock: a bad file never holds it. */
	rc = open_import(file, &fd, err, sizeof(err));
	if (rc < 0) {
		mgr_err_set(e, 400, "/file", "%s", err);
		return NULL;
	}
	/* Read through the open fd from now on (the copy below is verified against sum). */
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	rc = mgr_file_sha256(src, sum, err, sizeof(err));
	if (rc < 0) {
		mgr_err_set(e, 400, "/file", "%.400s: %s", file, err);
		close(fd);
		return NULL;
	}
	if ((rc = MGR_FAULT("push.after_hash", err, sizeof(err))) < 0) {
		mgr_err_set(e, 500, "", "%s", err);
		close(fd);
		return NULL;
	}
	pthread_mutex_lock(&push_lock);
	have = find_copy(name, site_id, sum, &first);
	pthread_mutex_lock(&mgr.lock);
	published = published_locked(name, sum) ?: now_us();
	/* The sites holding some version of the image (recorded, or storage/NAME not recorded
	 * yet): they get this one too. */
	sites = calloc(mgr.n_sites + 1, sizeof(*sites));
	for (uint32_t i = 0; sites && i < mgr.n_sites; i++) {
		uint32_t id = mgr.sites[i].id;
		bool holds = false;
		for (uint32_t k = 0; id != site_id && k < mgr.n_images && !holds; k++)
			holds = mgr.images[k].site_id == id &&
				strcmp(mgr.images[k].name, name) == 0;
		if (holds)
			sites[n_sites++] = id;
		else if (id != site_id)
			sites[n_sites++] = id | UNRECORDED;
	}
	pthread_mutex_unlock(&mgr.lock);
	/* Unrecorded sites hold it if their storage has the file. */
	for (uint32_t i = 0; i < n_sites;) {
		char plain[PATH_MAX];
		if (!(sites[i] & UNRECORDED)) {
			i++;
			continue;
		}
		sites[i] &= ~UNRECORDED;
		if (plain_path(sites[i], name, plain, sizeof(plain)) == 0 &&
		    access(plain, F_OK) == 0)
			i++;
		else
			sites[i] = sites[--n_sites];
	}
	if (sites == NULL) {
		mgr_err_set(e, 500, "", "out of memory");
		pthread_mutex_unlock(&push_lock);
		close(fd);
		return NULL;
	}
	results = json_array();
	if (have) {
		json_array_append_new(results, site_result(site_id, "present", first.path, NULL));
	} else {
		rc = publish_at(site_id, name, src, sum, published, &first, err, sizeof(err));
		if (rc < 0) {
			/* Not at its own site: nowhere else either. */
			mgr_err_set(e, 409, "/file", "publishing %s at its site: %s", name, err);
			json_decref(results);
			free(sites);
			pthread_mutex_unlock(&push_lock);
			close(fd);
			return NULL;
		}
		json_array_append_new(results, site_result(site_id, "published", first.path, NULL));
	}
	for (uint32_t i = 0; i < n_sites; i++) {
		err[0] = '\0';
		MGR_FAULT("push.before_site", NULL, 0);
		if (find_copy(name, sites[i], sum, &copy)) {
			json_array_append_new(results,
					      site_result(sites[i], "present", copy.path, NULL));
			continue;
		}
		rc = publish_at(sites[i], name, first.path, sum, published, &copy, err,
				sizeof(err));
		json_array_append_new(results, site_result(sites[i], rc ? "failed" : "published",
							   rc ? "" : copy.path, err));
	}
	free(sites);
	pthread_mutex_unlock(&push_lock);
	close(fd);
	out = json_pack("{s:s, s:s, s:I, s:o}", "name", name, "version", sum, "published_us",
			(json_int_t)published, "sites", results);
	return out;
}

int mgr_image_links_locked(struct mgr_desktop *d, const char *name, uint32_t active_site)
{
	const char **paths = calloc(mgr.n_images + 1, sizeof(*paths));
	uint32_t *sites = calloc(mgr.n_images + 1, sizeof(*sites)), n = 0;
	struct mgr_link *links = calloc(MGR_MAX_LINKS, sizeof(*links));
	int k = -ENOMEM;

	if (paths && sites && links) {
		for (uint32_t i = 0; i < mgr.n_images; i++)
			if (strcmp(mgr.images[i].name, name) == 0 &&
			    strcmp(mgr.images[i].version, d->base_version) == 0) {
				sites[n] = mgr.images[i].site_id;
				paths[n++] = mgr.images[i].path;
			}
		k = mgr_links_build(sites, paths, n, active_site, links, MGR_MAX_LINKS);
		if (k >= 0) {
			d->n_links = (uint8_t)k;
			for (int i = 0; i < k; i++)
				d->link_sites[i] = links[i].site_id;
		}
	}
	free(paths);
	free(sites);
	free(links);
	return k < 0 ? k : 0;
}

json_t *mgr_links_json_locked(const struct mgr_desktop *d, const char *name)
{
	json_t *out = json_array();

	for (uint8_t i = 0; i < d->n_links; i++) {
		const struct mgr_site *s = mgr_site_get(&mgr, d->link_sites[i]);
		const struct mgr_image *x =
			mgr_image_find_locked(name, d->link_sites[i], d->base_version);
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:s}", "site", s ? s->spec.name : "?", "state",
				       i == 0 ? "active" : "passive", "path", x ? x->path : ""));
	}
	return out;
}

json_t *mgr_images_json_locked(const char *name)
{
	json_t *by_name = json_object(), *out = json_array(), *versions;
	const char *key;

	for (uint32_t i = 0; i < mgr.n_images; i++) {
		const struct mgr_image *x = &mgr.images[i];
		const struct mgr_site *s = mgr_site_get(&mgr, x->site_id);
		json_t *v = NULL, *item;
		size_t k;
		if (name && strcmp(x->name, name) != 0)
			continue;
		versions = json_object_get(by_name, x->name);
		if (versions == NULL) {
			versions = json_array();
			json_object_set_new(by_name, x->name, versions);
		}
		json_array_foreach (versions, k, item)
			if (strcmp(json_string_value(json_object_get(item, "version")),
				   x->version) == 0)
				v = item;
		if (v == NULL) {
			v = json_pack("{s:s, s:I, s:I, s:[]}", "version", x->version,
				      "published_us", (json_int_t)x->published, "size",
				      (json_int_t)x->size, "sites");
			/* Newest first. */
			for (k = 0; k < json_array_size(versions); k++)
				if (json_integer_value(json_object_get(json_array_get(versions, k),
								       "published_us")) <
				    x->published)
					break;
			json_array_insert_new(versions, k, v);
		}
		json_array_append_new(
			json_object_get(v, "sites"),
			json_pack("{s:s, s:s}", "site", s ? s->spec.name : "?", "path", x->path));
	}
	json_object_foreach (by_name, key, versions)
		json_array_append_new(out,
				      json_pack("{s:s, s:O}", "name", key, "versions", versions));
	json_decref(by_name);
	return out;
}
