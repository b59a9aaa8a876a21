/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemons' log (tessmgrd's lines, tessd's rte_log stream): a level, structured fields
 * (tenant, host, desktop, job, port) and one output: stderr (a human line, fields as
 * key=value), journald's native protocol (one datagram per line to
 * /run/systemd/journal/socket: MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER=, TESS_*=) or
 * syslog(3). Under systemd with stderr connected to the journal ($JOURNAL_STREAM), "auto"
 * picks the journal. Thread-safe; never called per packet. Shared by tessd and tessmgrd.
 *
 * $TESS_JOURNAL_SOCKET replaces the journal's socket path (tests point it at their own).
 *
 * The journal output never blocks: a datagram the journal has no room for (it does not
 * read) is dropped and counted (tlog_dropped), and the next line that goes through is
 * followed by "N lines dropped". stderr is written as is (blocking, as any write); the
 * syslog output is glibc's syslog(3), which blocks likewise when syslogd does not read.
 */
#ifndef TESS_TLOG_H
#define TESS_TLOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

/* Structured fields of a line; 0 or NULL: absent. */
struct tlog_fields {
	uint32_t tenant, host, desktop, job; /* tessmgrd's ids */
	const char *tenant_name;             /* tessd: the VRF/tenant name (TESS_TENANT too) */
	const char *port;                    /* tessd: a port's name */
	const char *vrf;                     /* tessd: a VRF's name (TESS_VRF) */
	const char *group;                   /* tessd: a vswitch group's name (TESS_GROUP) */
};
/* tlog(LOG_INFO, TLOG_F(.desktop = d, .tenant = t), "desktop %u: started", d); */
#define TLOG_F(...) (&(const struct tlog_fields){ __VA_ARGS__ })

enum tlog_output { TLOG_AUTO, TLOG_STDERR, TLOG_JOURNAL, TLOG_SYSLOG };

/* The names the config, the APIs and tessctl use; NULL-terminated. Level i is priority i+3. */
extern const char *const tlog_level_names[];  /* err warning notice info debug */
extern const char *const tlog_output_names[]; /* auto stderr journal syslog */

/* The identifier (SYSLOG_IDENTIFIER, the stderr prefix); output auto, level info.
 * -ENAMETOOLONG (said on stderr) when $TESS_JOURNAL_SOCKET is too long a path. */
int tlog_init(const char *ident);
/* Lines the journal output dropped since the start (its queue was full). */
uint64_t tlog_dropped(void);
/* Picks an output (TLOG_AUTO: the journal when stderr is it, else stderr). */
void tlog_set_output(enum tlog_output o);
enum tlog_output tlog_get_output(void); /* never TLOG_AUTO: what auto resolved to */
/* Lines above prio (less severe) are dropped. */
void tlog_set_level(int prio);
/* Both, as a config or an API request gives them: output o, level LOG_ERR + level_idx. */
void tlog_configure(enum tlog_output o, unsigned level_idx);
int tlog_get_level(void);
bool tlog_enabled(int prio);
/* "err" (or "error"), "warning" (or "warn"), "notice", "info", "debug": the priority or -1. */
int tlog_level_parse(const char *name);
const char *tlog_level_name(int prio);

void tlog(int prio, const struct tlog_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tlogv(int prio, const struct tlog_fields *f, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* A formatted message as is (tessd's rte_log stream): one line per call, whatever it holds. */
void tlog_msg(int prio, const struct tlog_fields *f, const char *msg);

/*
 * The encoders, for the outputs and the unit tests; each returns the length written
 * (always < size when size > 0; cut short of size, never half a field), 0 on nothing.
 * The stderr line: "ident: msg [key=value ...]\n" (one trailing newline of msg dropped).
 */
size_t tlog_format_line(char *buf, size_t size, const char *ident, int prio,
			const struct tlog_fields *f, const char *msg);
/* journald's native datagram: KEY=value lines, a value with a newline in the binary form
 * (KEY\n, little-endian 64-bit length, value, \n). Not NUL-terminated. */
size_t tlog_format_journal(char *buf, size_t size, const char *ident, int prio,
			   const struct tlog_fields *f, const char *msg);

#endif
