/* SPDX-License-Identifier: BSD-3-Clause */
/* The log's state and outputs (tlog.h). */
#include "tlog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define MSG_MAX        4096

const char *const tlog_level_names[] = { "err", "warning", "notice", "info", "debug", NULL };
const char *const tlog_output_names[] = { "auto", "stderr", "journal", "syslog", NULL };

static struct {
	char ident[32];
	int level;               /* atomic */
	enum tlog_output output; /* atomic; never TLOG_AUTO */
	pthread_mutex_t lock;    /* opening the journal's socket, syslog's openlog */
	int fd;                  /* the journal's socket, kept open once made */
	struct sockaddr_un addr;
	socklen_t addr_len;
	bool syslog_open;
	bool send_failed; /* said once on stderr */
} tl = {
	.ident = "tess",
	.level = LOG_INFO,
	.output = TLOG_STDERR,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
};

static void set_journal_path(const char *path)
{
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tl.addr.sun_path)) {
		fprintf(stderr, "%s: journal socket %s ignored: %s\n", tl.ident, path,
			n ? "too long for a unix socket address" : "empty");
		path = JOURNAL_SOCKET;
		n = strlen(path);
	}
	memset(&tl.addr, 0, sizeof(tl.addr));
	tl.addr.sun_family = AF_UNIX;
	memcpy(tl.addr.sun_path, path, n);
	tl.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

void tlog_init(const char *ident)
{
	const char *path = getenv("TESS_JOURNAL_SOCKET");

	snprintf(tl.ident, sizeof(tl.ident), "%s", ident);
	set_journal_path(path && path[0] ? path : JOURNAL_SOCKET);
	tlog_set_output(TLOG_AUTO);
}

/* systemd's way of saying stderr is the journal: $JOURNAL_STREAM is its "device:inode". */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void tlog_set_output(enum tlog_output o)
{
	if (o == TLOG_AUTO)
		o = stderr_is_journal() ? TLOG_JOURNAL : TLOG_STDERR;
	pthread_mutex_lock(&tl.lock);
	if (o == TLOG_JOURNAL && tl.fd < 0)
		tl.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (o == TLOG_SYSLOG && !tl.syslog_open) {
		openlog(tl.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		tl.syslog_open = true;
	}
	tl.send_failed = false;
	pthread_mutex_unlock(&tl.lock);
	__atomic_store_n(&tl.output, o, __ATOMIC_RELEASE);
}

enum tlog_output tlog_get_output(void)
{
	return __atomic_load_n(&tl.output, __ATOMIC_ACQUIRE);
}

void tlog_set_level(int prio)
{
	__atomic_store_n(&tl.level,
			 prio < LOG_ERR     ? LOG_ERR
			 : prio > LOG_DEBUG ? LOG_DEBUG
					    : prio,
			 __ATOMIC_RELAXED);
}

int tlog_get_level(void)
{
	return __atomic_load_n(&tl.level, __ATOMIC_RELAXED);
}

bool tlog_enabled(int prio)
{
	return prio <= tlog_get_level();
}

int tlog_level_parse(const char *name)
{
	for (int i = 0; tlog_level_names[i]; i++)
		if (strcasecmp(name, tlog_level_names[i]) == 0)
			return LOG_ERR + i;
	if (strcasecmp(name, "error") == 0)
		return LOG_ERR;
	if (strcasecmp(name, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

const char *tlog_level_name(int prio)
{
	/* Above err (crit, alert, emerg) is said as err: the levels the config knows. */
	return tlog_level_names[prio <= LOG_ERR ? 0 : prio >= LOG_DEBUG ? 4 : prio - LOG_ERR];
}

static void to_stderr(int prio, const struct tlog_fields *f, const char *msg)
{
	char line[MSG_MAX + 512];
	size_t n = tlog_format_line(line, sizeof(line), tl.ident, prio, f, msg);

	/* One write: lines of threads do not interleave. */
	if (write(2, line, n) < 0)
		return;
}

static void to_journal(int prio, const struct tlog_fields *f, const char *msg)
{
	char dgram[MSG_MAX + 512];
	size_t n = tlog_format_journal(dgram, sizeof(dgram), tl.ident, prio, f, msg);

	if (sendto(tl.fd, dgram, n, MSG_NOSIGNAL, (struct sockaddr *)&tl.addr, tl.addr_len) >= 0)
		return;
	/* Lost on the journal: kept on stderr (under systemd, the journal's stream too). */
	int e = errno;
	if (!__atomic_exchange_n(&tl.send_failed, true, __ATOMIC_RELAXED)) {
		char why[160];
		snprintf(why, sizeof(why), "cannot send to the journal (%s): %s; on stderr",
			 tl.addr.sun_path, strerror(e));
		to_stderr(LOG_WARNING, NULL, why);
	}
	to_stderr(prio, f, msg);
}

static void to_syslog(int prio, const struct tlog_fields *f, const char *msg)
{
	char line[MSG_MAX + 512];
	size_t n = tlog_format_line(line, sizeof(line), "", LOG_INFO, f, msg);

	/* Without the ": " of the empty ident and the newline: syslog adds its own. */
	if (n >= 3)
		syslog(prio, "%.*s", (int)(n - 3), line + 2);
}

void tlog_msg(int prio, const struct tlog_fields *f, const char *msg)
{
	if (!tlog_enabled(prio))
		return;
	switch (tlog_get_output()) {
	case TLOG_JOURNAL:
		to_journal(prio, f, msg);
		break;
	case TLOG_SYSLOG:
		to_syslog(prio, f, msg);
		break;
	default:
		to_stderr(prio, f, msg);
	}
}

void tlogv(int prio, const struct tlog_fields *f, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];

	if (!tlog_enabled(prio))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	tlog_msg(prio, f, msg);
}

void tlog(int prio, const struct tlog_fields *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tlogv(prio, f, fmt, ap);
	va_end(ap);
}
