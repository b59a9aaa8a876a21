/* SPDX-License-Identifier: BSD-3-Clause */
#include "sd_notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
	const char *prog;
	struct sockaddr_un addr;
	socklen_t addr_len; /* 0: no notify socket */
	int fd;
	bool failed; /* a send failed: logged once, then silent */
	uint64_t wd_usec, wd_last;
} sdn = { .fd = -1 };

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Fills sdn.addr from $NOTIFY_SOCKET; -EINVAL with why on a value we cannot use. */
static int parse_addr(const char *v, const char **why)
{
	size_t n = strlen(v);

	if (v[0] != '/' && v[0] != '@') {
		*why = "neither an absolute path nor @abstract";
		return -EINVAL;
	}
	if (n < 2 || n > sizeof(sdn.addr.sun_path) - (v[0] == '/')) {
		*why = n < 2 ? "too short" : "too long for a unix socket address";
		return -EINVAL;
	}
	memset(&sdn.addr, 0, sizeof(sdn.addr));
	sdn.addr.sun_family = AF_UNIX;
	memcpy(sdn.addr.sun_path, v, n);
	if (v[0] == '@')
		sdn.addr.sun_path[0] = '\0'; /* abstract: the name's length is the address's */
	sdn.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (v[0] == '/'));
	return 0;
}

void sdn_init(const char *prog)
{
	const char *v = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC"), *wpid = getenv("WATCHDOG_PID");
	const char *why = NULL;

	sdn.prog = prog;
	if (v && v[0] && parse_addr(v, &why) < 0)
		fprintf(stderr, "%s: NOTIFY_SOCKET=%s ignored: %s\n", prog, v, why);
	if (sdn.addr_len) {
		sdn.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (sdn.fd < 0) {
			fprintf(stderr, "%s: NOTIFY_SOCKET ignored: socket: %s\n", prog,
				strerror(errno));
			sdn.addr_len = 0;
		}
	}
	/* WATCHDOG_PID names the process meant: a child started with our environment is not. */
	if (sdn.addr_len && wd && (wpid == NULL || strtol(wpid, NULL, 10) == (long)getpid())) {
		char *end;
		unsigned long long u = strtoull(wd, &end, 10);
		if (*end == '\0' && u > 0)
			sdn.wd_usec = u;
		else
			fprintf(stderr, "%s: WATCHDOG_USEC=%s ignored: not a number of us\n", prog,
				wd);
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int sdn_send(const char *state)
{
	if (sdn.addr_len == 0)
		return 0;
	if (sendto(sdn.fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sdn.addr,
		   sdn.addr_len) >= 0)
		return 0;
	int e = errno;
	if (!sdn.failed)
		fprintf(stderr, "%s: cannot notify the service manager (%.*s): %s\n", sdn.prog,
			(int)strcspn(state, "\n"), state, strerror(e));
	sdn.failed = true;
	return -e;
}

uint64_t sdn_watchdog_usec(void)
{
	return sdn.wd_usec;
}

void sdn_watchdog_tick(void)
{
	uint64_t now;

	if (sdn.wd_usec == 0)
		return;
	now = now_usec();
	if (sdn.wd_last && now - sdn.wd_last < sdn.wd_usec / 2)
		return;
	sdn.wd_last = now;
	sdn_send("WATCHDOG=1");
}

int sdn_reloading(void)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)now_usec());
	return sdn_send(msg);
}
