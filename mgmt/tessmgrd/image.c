/* SPDX-License-Identifier: BSD-3-Clause */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tool[PATH_MAX] = "qemu-img";

void mgr_image_set_tool(const char *path)
{
	snprintf(tool, sizeof(tool), "%s", path);
}

/* mkdir -p of path's directory. */
static int make_parent(const char *path)
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
	pid_t pid = vfork();

	if (pid == 0) {
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

int mgr_image_clone(const char *base, const char *overlay, char *err, size_t len)
{
	char *argv[] = { tool,    "create",        "-q", "-f", "qcow2", "-b", (char *)base, "-F",
			 "qcow2", (char *)overlay, NULL };
	char out[512] = "";
	int pipefd[2], status = 0, rc;
	ssize_t n, used = 0;
	pid_t pid;

	if (access(base, R_OK) != 0) {
		snprintf(err, len, "base image %s: %s", base, strerror(errno));
		return -ENOENT;
	}
	if (access(overlay, F_OK) == 0) {
		snprintf(err, len, "overlay %s exists already", overlay);
		return -EEXIST;
	}
	if ((rc = make_parent(overlay)) < 0) {
		snprintf(err, len, "cannot create the directory of %s: %s", overlay, strerror(-rc));
		return rc;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid_t parent = getpid();
	pid = spawn(argv, pipefd[1], parent);
	close(pipefd[1]);
	if (pid < 0) {
		rc = -errno;
		close(pipefd[0]);
		snprintf(err, len, "cannot run %s: %s", tool, strerror(-rc));
		return rc;
	}
	while ((n = read(pipefd[0], out + used, sizeof(out) - 1 - (size_t)used)) > 0)
		used += n;
	out[used] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, len, "qemu-img create failed: %s", out[0] ? out : "no message");
		unlink(overlay); /* nothing half-made stays */
		return -EIO;
	}
	return 0;
}

int mgr_image_remove(const char *overlay)
{
	return overlay[0] && unlink(overlay) < 0 && errno != ENOENT ? -errno : 0;
}
