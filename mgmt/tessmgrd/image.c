/* SPDX-License-Identifier: BSD-3-Clause */
#include "image.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"

static char tool[PATH_MAX] = "qemu-img";
static unsigned tool_timeout_sec = 300;
static uint64_t tool_timeouts;
static bool aborting;

void mgr_image_set_tool(const char *path)
{
	snprintf(tool, sizeof(tool), "%s", path);
}

void mgr_image_set_timeout(unsigned sec)
{
	tool_timeout_sec = sec;
}

void mgr_image_abort(void)
{
	__atomic_store_n(&aborting, true, __ATOMIC_RELAXED);
}

uint64_t mgr_image_timeouts(void)
{
	return __atomic_load_n(&tool_timeouts, __ATOMIC_RELAXED);
}

int mgr_fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int mgr_image_make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(dir, 0750) < 0 && errno != EEXIST ? -errno : 0;
}

/* vfork: fork() copied the page tables of the whole daemon for every clone and
 * was most of the provisioning time; the child only makes system calls. */
static pid_t spawn(char *const argv[], int outfd, pid_t parent)
{
	static const char msg[] = "cannot run qemu-img\n";
	sigset_t none;
	pid_t pid;

	sigemptyset(&none);
	pid = vfork();
	if (pid == 0) {
		/* tessmgrd blocks INT/TERM/HUP for its signal thread and ignores PIPE; exec keeps
		 * both, and a qemu-img that cannot be stopped or that writes on into a closed pipe
		 * is not wanted. The vfork child has its own mask and dispositions. */
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* Its own group: a timeout kills whatever it started too (a wrapper's children). */
		setpgid(0, 0);
		/* Dies with tessmgrd: no clone may appear after a restart rolled its job back. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		dup2(outfd, 1);
		dup2(outfd, 2);
		execvp(argv[0], argv);
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(126);
		_exit(127);
	}
	return pid;
}

/* Runs qemu-img with args (argv[0] is replaced by the tool); 0, or -EIO with its message,
 * or -ETIMEDOUT when it ran longer than its timeout (a hung NFS base would otherwise hold a
 * job thread forever): then it and its process group are killed. */
static int run_tool(char **argv, const char *what, char *err, size_t len)
{
	char out[512] = "", scratch[512];
	int pipefd[2], status = 0, rc;
	ssize_t n, used = 0;
	struct timespec now, until;
	bool timed_out = false, aborted = false;
	pid_t pid;

	argv[0] = tool;
	if (__atomic_load_n(&aborting, __ATOMIC_RELAXED)) {
		snprintf(err, len, "qemu-img %s not run: tessmgrd is stopping", what);
		return -ECANCELED;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = spawn(argv, pipefd[1], getpid());
	close(pipefd[1]);
	if (pid < 0) {
		rc = -errno;
		close(pipefd[0]);
		snprintf(err, len, "cannot run %s: %s", tool, strerror(-rc));
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += tool_timeout_sec;
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (until.tv_sec - now.tv_sec) * 1000 + (until.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			timed_out = true;
			break;
		}
		if (__atomic_load_n(&aborting, __ATOMIC_RELAXED)) {
			aborted = true;
			break;
		}
		/* Short turns: shutdown is noticed within 200 ms. */
		rc = poll(&p, 1, ms > 200 ? 200 : (int)ms);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0)
			continue;
		/* Past the message's room the rest is read and dropped, so it never blocks. */
		if ((size_t)used < sizeof(out) - 1)
			n = read(pipefd[0], out + used, sizeof(out) - 1 - (size_t)used);
		else
			n = read(pipefd[0], scratch, sizeof(scratch));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)used < sizeof(out) - 1)
			used += n;
	}
	out[used] = '\0';
	close(pipefd[0]);
	if (timed_out || aborted) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		__atomic_fetch_add(&tool_timeouts, 1, __ATOMIC_RELAXED);
		snprintf(err, len,
			 "qemu-img %s timed out after %us (killed; see qemu_img_timeout_sec)", what,
			 tool_timeout_sec);
		return -ETIMEDOUT;
	}
	if (aborted) {
		snprintf(err, len, "qemu-img %s stopped: tessmgrd is stopping", what);
		return -ECANCELED;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, len, "qemu-img %s failed: %s", what, out[0] ? out : "no message");
		return -EIO;
	}
	return 0;
}

int mgr_image_clone(const char *base, const char *overlay, char *err, size_t len)
{
	char *argv[] = { NULL,    "create",        "-q", "-f", "qcow2", "-b", (char *)base, "-F",
			 "qcow2", (char *)overlay, NULL };
	int rc;

	if (access(base, R_OK) != 0) {
		snprintf(err, len, "base image %s: %s", base, strerror(errno));
		return -ENOENT;
	}
	if (access(overlay, F_OK) == 0) {
		snprintf(err, len, "overlay %s exists already", overlay);
		return -EEXIST;
	}
	if ((rc = mgr_image_make_parent(overlay)) < 0) {
		snprintf(err, len, "cannot create the directory of %s: %s", overlay, strerror(-rc));
		return rc;
	}
	rc = run_tool(argv, "create", err, len);
	if (rc < 0)
		unlink(overlay); /* nothing half-made stays */
	return rc;
}

int mgr_image_rebase(const char *overlay, const char *base, char *err, size_t len)
{
	char *argv[] = {
		NULL,    "rebase",        "-q", "-u", "-f", "qcow2", "-b", (char *)base, "-F",
		"qcow2", (char *)overlay, NULL
	};

	int rc = run_tool(argv, "rebase", err, len), fd = -1;

	/* qemu-img does not sync: the new backing name must be on disk before the source goes. */
	if (rc == 0 && ((fd = open(overlay, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) < 0)) {
		rc = -errno;
		snprintf(err, len, "syncing %s: %s", overlay, strerror(-rc));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int mgr_file_sha256(const char *path, char hex[65], char *err, size_t len)
{
	unsigned char digest[32];
	gnutls_hash_hd_t h;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	char *buf;
	ssize_t n;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(1 << 20);
	if (buf == NULL || gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		free(buf);
		close(fd);
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	while ((n = read(fd, buf, 1 << 20)) > 0)
		gnutls_hash(h, buf, (size_t)n);
	if (n < 0) {
		rc = -errno;
		snprintf(err, len, "reading %s: %s", path, strerror(-rc));
	}
	gnutls_hash_deinit(h, digest);
	free(buf);
	close(fd);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return rc;
}

/* Copies src into the open fd: copy_file_range (a reflink where the filesystem has them). */
static int copy_into(int in, int out)
{
	char *buf;
	ssize_t n;

	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	/* Not between these filesystems: read and write. */
	if (lseek(in, 0, SEEK_SET) < 0 || lseek(out, 0, SEEK_SET) < 0 || ftruncate(out, 0) < 0)
		return -errno;
	buf = malloc(1 << 20);
	if (buf == NULL)
		return -ENOMEM;
	while ((n = read(in, buf, 1 << 20)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0) {
				int rc = -errno;
				free(buf);
				return rc;
			}
			off += w;
		}
	}
	free(buf);
	return n < 0 ? -errno : 0;
}

int mgr_file_copy_verified(const char *src, const char *dst, const char *sha256, char *err,
			   size_t len)
{
	char part[PATH_MAX + 8], got[65];
	int in, out, rc;

	if (snprintf(part, sizeof(part), "%s.part", dst) >= (int)sizeof(part)) {
		snprintf(err, len, "%s: path too long", dst);
		return -ENAMETOOLONG;
	}
	if (access(dst, F_OK) == 0) {
		snprintf(err, len, "%s exists already", dst);
		return -EEXIST;
	}
	if ((rc = mgr_image_make_parent(dst)) < 0) {
		snprintf(err, len, "cannot create the directory of %s: %s", dst, strerror(-rc));
		return rc;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = -errno;
		snprintf(err, len, "%s: %s", src, strerror(-rc));
		return rc;
	}
	unlink(part); /* what an interrupted copy left */
	out = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (out < 0) {
		rc = -errno;
		close(in);
		snprintf(err, len, "%s: %s", part, strerror(-rc));
		return rc;
	}
	rc = copy_into(in, out);
	if (rc == 0 && fsync(out) < 0)
		rc = -errno;
	close(in);
	if (close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, len, "copying %s to %s: %s", src, part, strerror(-rc));
		unlink(part);
		return rc;
	}
	/* Verified as written, then published under its name. */
	rc = MGR_FAULT("copy.before_rename", err, len);
	if (rc == 0)
		rc = mgr_file_sha256(part, got, err, len);
	if (rc == 0 && strcmp(got, sha256) != 0) {
		snprintf(err, len, "checksum mismatch: the copy of %s at %s is %.12s, not %.12s",
			 src, dst, got, sha256);
		rc = -EBADMSG;
	}
	if (rc == 0 && rename(part, dst) < 0) {
		rc = -errno;
		snprintf(err, len, "publishing %s: %s", dst, strerror(-rc));
	}
	/* The name too must survive a power loss before a move removes the source. */
	if (rc == 0 && (rc = mgr_fsync_dir(dst)) < 0)
		snprintf(err, len, "publishing %s: syncing its directory: %s", dst, strerror(-rc));
	if (rc < 0)
		unlink(part);
	return rc;
}

int mgr_image_remove(const char *overlay)
{
	char part[PATH_MAX + 8];

	/* With the partial copy an interrupted mgr_file_copy_verified may have left. */
	if (overlay[0] && snprintf(part, sizeof(part), "%s.part", overlay) < (int)sizeof(part))
		unlink(part);
	return overlay[0] && unlink(overlay) < 0 && errno != ENOENT ? -errno : 0;
}
