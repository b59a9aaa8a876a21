/* SPDX-License-Identifier: BSD-3-Clause */
#include "ssh_cmd.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mgr.h"

static void arg(struct mgr_ssh_cmd *c, const char *s)
{
	/* The callers' arguments are a few constants: argv never fills. */
	if (c->n < sizeof(c->argv) / sizeof(c->argv[0]) - 4)
		c->argv[c->n++] = (char *)s;
}

void mgr_ssh_cmd_init(struct mgr_ssh_cmd *c, const struct mgr_tessd_addr *a)
{
	const struct mgr_ssh_cfg *s = &mgr_conf.ssh;

	c->n = 0;
	c->a = a;
	snprintf(c->alive, sizeof(c->alive), "ServerAliveInterval=%u", s->alive_interval_sec);
	snprintf(c->timeout, sizeof(c->timeout), "ConnectTimeout=%u", s->connect_timeout_sec);
	arg(c, s->command);
	arg(c, "-T");
	arg(c, "-o");
	arg(c, "BatchMode=yes");
	arg(c, "-o");
	arg(c, "StrictHostKeyChecking=yes");
	arg(c, "-o");
	arg(c, c->alive);
	arg(c, "-o");
	arg(c, "ServerAliveCountMax=3");
	arg(c, "-o");
	arg(c, c->timeout);
	if (s->identity_file[0]) {
		snprintf(c->idf, sizeof(c->idf), "IdentityFile=%s", s->identity_file);
		arg(c, "-o");
		arg(c, c->idf);
		arg(c, "-o");
		arg(c, "IdentitiesOnly=yes");
	}
	if (s->known_hosts[0]) {
		snprintf(c->khf, sizeof(c->khf), "UserKnownHostsFile=%s", s->known_hosts);
		arg(c, "-o");
		arg(c, c->khf);
	}
	if (a->port) {
		snprintf(c->port, sizeof(c->port), "%u", a->port);
		arg(c, "-p");
		arg(c, c->port);
	}
	if (a->user[0]) {
		arg(c, "-l");
		arg(c, a->user);
	}
}

void mgr_ssh_cmd_arg(struct mgr_ssh_cmd *c, const char *s)
{
	arg(c, s);
}

char *const *mgr_ssh_cmd_argv(struct mgr_ssh_cmd *c)
{
	c->argv[c->n++] = "--";
	c->argv[c->n++] = (char *)c->a->host;
	c->argv[c->n] = NULL;
	return c->argv;
}

/* vfork as image.c does: the child only makes system calls, then execs ssh. */
pid_t mgr_ssh_spawn(char *const argv[], int in, int out, int err)
{
	sigset_t none;
	pid_t pid, parent = getpid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int fd[3] = { in >= 0 ? in : null, out >= 0 ? out : null, err >= 0 ? err : null };

	sigemptyset(&none);
	pid = vfork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);                    /* a ProxyCommand it runs goes with it */
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* no ssh left after a tessmgrd crash */
		if (getppid() != parent)
			_exit(1);
		for (int i = 0; i < 3; i++)
			dup2(fd[i], i);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (null >= 0)
		close(null);
	return pid;
}

bool mgr_ssh_of_libvirt_uri(const char *uri, struct mgr_tessd_addr *a)
{
	static const char scheme[] = "qemu+ssh://";
	char addr[MGR_URI_LEN + 8], why[256];
	size_t n;

	if (strncmp(uri, scheme, sizeof(scheme) - 1) != 0)
		return false;
	uri += sizeof(scheme) - 1;
	/* "[user@]host[:port]/system?params": the tessd address parser's authority rules. */
	n = strcspn(uri, "/?");
	if (snprintf(addr, sizeof(addr), "ssh://%.*s/x", (int)n, uri) >= (int)sizeof(addr))
		return false;
	return mgr_tessd_addr_parse(addr, a, why, sizeof(why)) == 0;
}
