/* SPDX-License-Identifier: BSD-3-Clause */
#include "cfg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

json_t *cfg_file_load(const char *path, struct cfg_errs *errs)
{
	json_error_t jerr;
	struct stat st;
	json_t *doc;
	char *buf;
	ssize_t got;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cfg_err_add(errs, errno, "/", "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cfg_err_add(errs, EINVAL, "/", "%s is not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((size_t)st.st_size > CFG_FILE_MAX) {
		cfg_err_add(errs, EFBIG, "/", "%s is larger than %u bytes", path, CFG_FILE_MAX);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		cfg_err_add(errs, ENOMEM, "/", "out of memory");
		close(fd);
		return NULL;
	}
	while (len < (size_t)st.st_size &&
	       (got = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			cfg_err_add(errs, errno, "/", "cannot read %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		len += (size_t)got;
	}
	close(fd);
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (doc == NULL) {
		cfg_err_add(errs, EBADMSG, "/", "%s: line %d column %d: %s", path, jerr.line,
			    jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		cfg_err_add(errs, EINVAL, "/", "expected an object at the top of %s", path);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int cfg_file_save(const char *path, const json_t *doc, char *why, size_t why_len)
{
	char dbuf[4096], base[4096], tmp[8192];
	mode_t mode = 0640;
	bool existed = false;
	struct stat st;
	const char *dir;
	char *text;
	int fd, dfd, rc;

	why[0] = '\0';
	if (snprintf(dbuf, sizeof(dbuf), "%s", path) >= (int)sizeof(dbuf)) {
		snprintf(why, why_len, "path too long");
		return -ENAMETOOLONG;
	}
	/* Replace only a regular file: renaming over a symlink would not write its target. */
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(why, why_len,
				 "%s is not a regular file (symlinks are not followed)", path);
			return -EINVAL;
		}
		existed = true;
		mode = st.st_mode & 07777;
	}
	snprintf(base, sizeof(base), "%s", path);
	dir = dirname(dbuf); /* may return a static "." rather than edit dbuf */
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, basename(base));
	text = json_dumps(doc, JSON_INDENT(2));
	if (text == NULL) {
		snprintf(why, why_len, "cannot encode the config");
		return -ENOMEM;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "cannot create a temporary file in %s: %s", dir,
			 strerror(errno));
		free(text);
		return rc;
	}
	rc = write_all(fd, text, strlen(text));
	if (rc == 0)
		rc = write_all(fd, "\n", 1);
	free(text);
	/* The new file keeps the old one's permissions and owner. */
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (rc == 0 && existed && fchown(fd, st.st_uid, st.st_gid) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(why, why_len, "cannot write %s: %s", path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	/* The rename is durable once the directory entry is; the new file is in place either way.
	 */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		snprintf(why, why_len, "saved, but syncing directory %s failed: %s", dir,
			 strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return 0;
}
