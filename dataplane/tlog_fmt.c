/* SPDX-License-Identifier: BSD-3-Clause */
/* The log's encoders: the human stderr line and journald's native datagram (tlog.h). */
#include "tlog.h"

#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t size, len;
	bool full; /* a part did not fit: nothing more is added */
};

/* Appends n bytes whole or not at all (keeping room for a NUL). */
static bool put(struct out *o, const void *p, size_t n)
{
	if (o->full || o->size == 0 || n >= o->size - o->len) {
		o->full = true;
		return false;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return true;
}

static bool puts_(struct out *o, const char *s)
{
	return put(o, s, strlen(s));
}

/* The message without one trailing newline (rte_log's lines end with one). */
static size_t msg_len(const char *msg)
{
	size_t n = strlen(msg);

	return n && msg[n - 1] == '\n' ? n - 1 : n;
}

typedef bool (*field_fn)(struct out *o, const char *key, const char *val, size_t len);

/* Calls fn for each field present, with its journal key's suffix and its value. */
static bool each_field(struct out *o, const struct tlog_fields *f, field_fn fn)
{
	char v[16];

	if (f == NULL)
		return true;
#define U(name, key)                                   \
	if (f->name) {                                 \
		snprintf(v, sizeof(v), "%u", f->name); \
		if (!fn(o, key, v, strlen(v)))         \
			return false;                  \
	}
	U(tenant, "TENANT")
	if (f->tenant == 0 && f->tenant_name &&
	    !fn(o, "TENANT", f->tenant_name, strlen(f->tenant_name)))
		return false;
	U(host, "HOST")
	U(desktop, "DESKTOP")
	U(job, "JOB")
#undef U
	if (f->port && !fn(o, "PORT", f->port, strlen(f->port)))
		return false;
	if (f->vrf && !fn(o, "VRF", f->vrf, strlen(f->vrf)))
		return false;
	if (f->group && !fn(o, "GROUP", f->group, strlen(f->group)))
		return false;
	return true;
}

static bool line_field(struct out *o, const char *key, const char *val, size_t len)
{
	char k[16];
	size_t i;

	for (i = 0; key[i] && i < sizeof(k) - 1; i++)
		k[i] = (char)(key[i] - 'A' + 'a');
	k[i] = '\0';
	size_t mark = o->len;
	/* Separated by a space, the first one after the bracket. */
	if ((o->buf[o->len - 1] == '[' || puts_(o, " ")) && puts_(o, k) && puts_(o, "=") &&
	    put(o, val, len))
		return true;
	o->len = mark;
	return false;
}

size_t tlog_format_line(char *buf, size_t size, const char *ident, int prio,
			const struct tlog_fields *f, const char *msg)
{
	struct out o = { .buf = buf, .size = size };
	size_t n = msg_len(msg);

	if (size == 0)
		return 0;
	puts_(&o, ident);
	puts_(&o, ": ");
	if (prio <= LOG_WARNING || prio >= LOG_DEBUG) {
		puts_(&o, tlog_level_name(prio));
		puts_(&o, ": ");
	}
	/* A message too long is cut (the fields after it then dropped): the line still ends. */
	if (!put(&o, msg, n)) {
		o.full = false;
		size_t room = o.size - o.len > 1 ? o.size - o.len - 2 : 0;
		put(&o, msg, n < room ? n : room); /* never past msg's end */
	} else if (f && (f->tenant || f->tenant_name || f->host || f->desktop || f->job ||
			 f->port || f->vrf || f->group)) {
		size_t mark = o.len;
		if (!(puts_(&o, " [") && each_field(&o, f, line_field) && puts_(&o, "]"))) {
			o.len = mark;
			o.full = false;
		}
	}
	o.full = false;
	if (!put(&o, "\n", 1) && o.len)
		o.buf[o.len - 1] = '\n';
	o.buf[o.len] = '\0';
	return o.len;
}

/* KEY=value\n, or with a newline in value: KEY\n <le64 length> value \n. */
static bool journal_put(struct out *o, const char *prefix, const char *key, const char *val,
			size_t len)
{
	size_t mark = o->len;
	bool ok;

	if (memchr(val, '\n', len) == NULL) {
		ok = puts_(o, prefix) && puts_(o, key) && puts_(o, "=") && put(o, val, len) &&
		     put(o, "\n", 1);
	} else {
		unsigned char le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (unsigned char)((uint64_t)len >> (8 * i));
		ok = puts_(o, prefix) && puts_(o, key) && put(o, "\n", 1) && put(o, le, 8) &&
		     put(o, val, len) && put(o, "\n", 1);
	}
	if (!ok) {
		o->len = mark;
		o->full = true;
	}
	return ok;
}

static bool journal_field(struct out *o, const char *key, const char *val, size_t len)
{
	return journal_put(o, "TESS_", key, val, len);
}

size_t tlog_format_journal(char *buf, size_t size, const char *ident, int prio,
			   const struct tlog_fields *f, const char *msg)
{
	struct out o = { .buf = buf, .size = size };
	char p[4];

	snprintf(p, sizeof(p), "%d", prio & 7);
	/* The message first: a datagram cut short still says what happened. */
	if (!(journal_put(&o, "", "MESSAGE", msg, msg_len(msg)) &&
	      journal_put(&o, "", "PRIORITY", p, strlen(p)) &&
	      journal_put(&o, "", "SYSLOG_IDENTIFIER", ident, strlen(ident))))
		return o.len;
	each_field(&o, f, journal_field);
	return o.len;
}
