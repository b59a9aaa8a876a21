/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT44 logging's file (nat_log_file.h). tessd runs as root and the file's directory may be
 * writable by others: every open is relative to a directory walked down from the operator's
 * allowed directory without following links, and nothing but a regular file of tessd's own,
 * with one link, is written to. Control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "nat_log_file.h"

void nat_log_file_init(struct nat_log_file *f)
{
	memset(f, 0, sizeof(*f));
	f->dirfd = f->fd = -1;
}

void nat_log_file_close(struct nat_log_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dirfd >= 0)
		close(f->dirfd);
	f->fd = f->dirfd = -1;
}

int nat_log_file_set(struct nat_log_file *f, const char *root, const char *path)
{
	size_t n = strlen(root), skip;
	const char *base = strrchr(path, '/');

	nat_log_file_close(f);
	f->failing = false;
	f->base[0] = '\0';
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (root[0] != '/' || base == NULL || strncmp(path, root, n) != 0 ||
	    (n > 1 && path[n] != '/') || strlen(base + 1) >= sizeof(f->base) || base[1] == '\0')
		return -EINVAL;
	snprintf(f->root, sizeof(f->root), "%.*s", (int)n, root);
	skip = n + (n > 1); /* root and the slash after it ("/": itself the slash) */
	snprintf(f->rel, sizeof(f->rel), "%.*s",
		 base > path + skip ? (int)(base - path - (ptrdiff_t)skip) : 0, path + skip);
	snprintf(f->base, sizeof(f->base), "%s", base + 1);
	/* A write past RLIMIT_FSIZE must fail (EFBIG, counted), not kill tessd. */
	signal(SIGXFSZ, SIG_IGN);
	return 0;
}

static void say(struct nat_log_file *f, const char *what, int err)
{
	f->write_errors++;
	if (!f->failing)
		DP_LOG(ERR, "nat log: %s %s/%s%s%s: %s (records lost until it works again)", what,
		       f->root, f->rel, f->rel[0] ? "/" : "", f->base, strerror(err));
	f->failing = true;
}

/* A directory tessd may write in: its own or root's, nobody else can write to it. */
static int dir_ok(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

/* root, then each component of rel without following a link (none can be swapped in). */
static int dir_open(struct nat_log_file *f)
{
	char rel[sizeof(f->rel)], *save = NULL;
	int fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next, rc;

	if (fd < 0)
		return -errno;
	snprintf(rel, sizeof(rel), "%s", f->rel);
	for (char *c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = -errno;
		close(fd);
		if (next < 0)
			return rc;
		fd = next;
	}
	if ((rc = dir_ok(fd)) < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* A FIFO does not block (O_NONBLOCK), a link, a hard link or another's file is refused. */
static int file_open(struct nat_log_file *f)
{
	struct stat st;
	int rc;

	if (f->fd >= 0)
		return 0;
	if (f->base[0] == '\0')
		return -ENOENT;
	if (f->dirfd < 0 && (f->dirfd = dir_open(f)) < 0) {
		rc = f->dirfd;
		f->dirfd = -1;
		return rc;
	}
	f->fd = openat(f->dirfd, f->base,
		       O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return -errno;
	rc = fstat(f->fd, &st) < 0 ? -errno : 0;
	if (rc == 0 && (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1))
		rc = -EPERM;
	if (rc == 0 && (st.st_mode & 07777) != 0600 && fchmod(f->fd, 0600) < 0)
		rc = -errno;
	if (rc < 0) {
		close(f->fd);
		f->fd = -1;
		return rc;
	}
	f->file_bytes = (uint64_t)st.st_size;
	return 0;
}

/*
 * base -> base.1 -> ... -> base.keep (the oldest, overwritten, goes). Stops at the first
 * rename that fails: nothing is renamed over a file that could not move on. < 0: base is
 * still the file (the caller writes past the limit until a later flush rotates).
 */
static int rotate(struct nat_log_file *f, uint32_t keep)
{
	char from[sizeof(f->base) + 16], to[sizeof(f->base) + 16];

	close(f->fd);
	f->fd = -1;
	for (uint32_t i = keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", f->base, i - 1);
		snprintf(to, sizeof(to), "%s.%u", f->base, i);
		if (renameat(f->dirfd, from, f->dirfd, to) < 0 && errno != ENOENT)
			return -errno;
	}
	snprintf(to, sizeof(to), "%s.1", f->base);
	if (renameat(f->dirfd, f->base, f->dirfd, to) < 0)
		return -errno;
	f->rotations++;
	return 0;
}

static uint64_t lines_in(const char *p, size_t n)
{
	uint64_t k = 0;

	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		k++;
	return k;
}

/* The longest run of whole lines from p (n bytes) of at most room bytes; 0: not one. */
static size_t fit(const char *p, size_t n, uint64_t room)
{
	size_t end = 0;
	const char *nl;

	while (end < n && (nl = memchr(p + end, '\n', n - end)) != NULL) {
		size_t next = (size_t)(nl - p) + 1;

		if (next > room)
			break;
		end = next;
	}
	return end;
}

/* All n bytes, or none: a short write is retried, a failure cut back off the file. */
static int write_all(struct nat_log_file *f, const char *p, size_t n)
{
	size_t done = 0;
	int rc = 0;

	while (done < n) {
		ssize_t w = write(f->fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -ENOSPC;
			break;
		}
		done += (size_t)w;
	}
	if (rc < 0 && done > 0 && ftruncate(f->fd, (off_t)f->file_bytes) < 0) {
		/* Cannot take the part back: the file ends inside a line. A new file follows. */
		f->file_bytes += done;
		nat_log_file_close(f);
	}
	return rc;
}

size_t nat_log_file_write(struct nat_log_file *f, const char *buf, size_t len, uint64_t max_bytes,
			  uint32_t keep, uint64_t *records, uint64_t *lost)
{
	bool no_rotate = false; /* a rename failed: not retried in a loop, past the limit */
	size_t off = 0, written = 0;
	int rc;

	while (off < len) {
		size_t chunk;

		if ((rc = file_open(f)) < 0) {
			say(f, "cannot open", -rc);
			break;
		}
		chunk = fit(buf + off, len - off,
			    max_bytes > f->file_bytes ? max_bytes - f->file_bytes : 0);
		if (chunk == 0 && f->file_bytes > 0 && !no_rotate) {
			if ((rc = rotate(f, keep)) < 0) {
				no_rotate = true; /* tried again at the next flush */
				f->write_errors++;
				if (!f->rotate_failing)
					DP_LOG(ERR,
					       "nat log: cannot rotate %s: %s (written past the "
					       "limit)",
					       f->base, strerror(-rc));
			}
			f->rotate_failing = rc < 0;
			continue;
		}
		if (chunk ==
		    0) /* a line longer than a whole file, or no rotation: past the limit */
			chunk = fit(buf + off, len - off, UINT64_MAX) ?: len - off;
		if ((rc = write_all(f, buf + off, chunk)) < 0) {
			say(f, "cannot write", -rc);
			break;
		}
		f->failing = false;
		f->file_bytes += chunk;
		written += chunk;
		*records += lines_in(buf + off, chunk);
		off += chunk;
	}
	*lost += lines_in(buf + off, len - off);
	return written;
}

int nat_log_file_probe(const char *root, const char *path)
{
	struct nat_log_file f;
	struct stat st;
	int rc, dir;

	nat_log_file_init(&f);
	if ((rc = nat_log_file_set(&f, root, path)) < 0)
		return rc;
	if ((dir = dir_open(&f)) < 0)
		return dir;
	rc = 0;
	if (fstatat(dir, f.base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
		rc = -EINVAL;
	close(dir);
	return rc;
}
