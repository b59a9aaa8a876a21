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
	bool send_failed;    /* atomic; said once on stderr */
	bool stderr_journal; /* atomic; stderr is the journal's stream: never fall back to it */
	uint64_t dropped;    /* atomic; lines the journal had no room for, ever */
	uint64_t unsaid;     /* atomic; of those, not yet said in a "lines dropped" line */
} tl = {
	.ident = "tess",
	.level = LOG_INFO,
	.output = TLOG_STDERR,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
};

static int set_journal_path(const char *path)
{
	size_t n = strlen(path);

	/* Refused rather than replaced by the real journal's: a test's or a debugger's lines
	 * would go where nobody looks. */
	if (n >= sizeof(tl.addr.sun_path)) {
		fprintf(stderr,
			"%s: $TESS_JOURNAL_SOCKET %s: too long for a unix socket address "
			"(at most %zu bytes)\n",
			tl.ident, path, sizeof(tl.addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memset(&tl.addr, 0, sizeof(tl.addr));
	tl.addr.sun_family = AF_UNIX;
	memcpy(tl.addr.sun_path, path, n);
	tl.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int tlog_init(const char *ident)
{
	const char *path = getenv("TESS_JOURNAL_SOCKET");
	int rc;

	snprintf(tl.ident, sizeof(tl.ident), "%s", ident);
	rc = set_journal_path(path && path[0] ? path : JOURNAL_SOCKET);
	tlog_set_output(TLOG_AUTO);
	return rc;
}

uint64_t tlog_dropped(void)
{
	return __atomic_load_n(&tl.dropped, __ATOMIC_RELAXED);
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
	bool sj = stderr_is_journal();

	if (o == TLOG_AUTO)
		o = sj ? TLOG_JOURNAL : TLOG_STDERR;
	pthread_mutex_lock(&tl.lock);
	/* Non-blocking: a journal that does not read (stopped, busy) must not stop the
	 * caller, tessd's control thread or tessmgrd under its lock; the line is counted. */
	if (o == TLOG_JOURNAL && tl.fd < 0)
		tl.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (o == TLOG_SYSLOG && !tl.syslog_open) {
		openlog(tl.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		tl.syslog_open = true;
	}
	__atomic_store_n(&tl.send_failed, false, __ATOMIC_RELAXED);
	__atomic_store_n(&tl.stderr_journal, sj, __ATOMIC_RELAXED);
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

void tlog_configure(enum tlog_output o, unsigned level_idx)
{
	tlog_set_output(o);
	tlog_set_level(LOG_ERR + (int)level_idx);
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

	/* One write per line, to the end (a signal or a full pipe may take part of it). A
	 * pipe keeps writes up to PIPE_BUF (4096) whole; a longer line (up to 4.6 KB) may
	 * interleave with another thread's. */
	for (size_t off = 0; off < n;) {
		ssize_t w = write(2, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static bool send_dgram(const char *dgram, size_t n)
{
	ssize_t w;

	do
		w = sendto(tl.fd, dgram, n, MSG_NOSIGNAL | MSG_DONTWAIT,
			   (struct sockaddr *)&tl.addr, tl.addr_len);
	while (w < 0 && errno == EINTR);
	return w >= 0;
}

static void to_journal(int prio, const struct tlog_fields *f, const char *msg)
{
	char dgram[MSG_MAX + 512];
	size_t n = tlog_format_journal(dgram, sizeof(dgram), tl.ident, prio, f, msg);

	if (send_dgram(dgram, n)) {
		/* Through again: say what the journal had no room for. */
		uint64_t lost = __atomic_exchange_n(&tl.unsaid, 0, __ATOMIC_RELAXED);
		if (lost) {
			char why[96];
			snprintf(why, sizeof(why), "%llu lines dropped: the journal did not read",
				 (unsigned long long)lost);
			n = tlog_format_journal(dgram, sizeof(dgram), tl.ident, LOG_WARNING, NULL,
						why);
			if (!send_dgram(dgram, n))
				__atomic_add_fetch(&tl.unsaid, lost, __ATOMIC_RELAXED);
		}
		return;
	}
	int e = errno;
	/* The journal's queue is full (it does not read), or stderr is the journal's stream,
	 * which would block the same way: the line is dropped and counted. */
	if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS ||
	    __atomic_load_n(&tl.stderr_journal, __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&tl.dropped, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&tl.unsaid, 1, __ATOMIC_RELAXED);
		return;
	}
	/* No journal there (a debugging $TESS_JOURNAL_SOCKET gone): kept on stderr. */
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
