/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT44 log lines from records (nat_log.h). Control thread. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nat_log.h"

/* "YYYY-MM-DDTHH:MM:SS" of a second, kept: records come in runs of the same second. */
static size_t second_of(char *out, uint64_t sec)
{
	static uint64_t last = UINT64_MAX;
	static char text[32];
	static size_t len;

	if (sec != last) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		len = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
		last = sec;
	}
	memcpy(out, text, len);
	return len;
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP    ? "tcp"
	       : p == IPPROTO_UDP  ? "udp"
	       : p == IPPROTO_ICMP ? "icmp"
				   : "-";
}

static int ep(char *out, size_t len, uint32_t addr, uint16_t port_be)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	return snprintf(out, len, " %s:%u", a, ntohs(port_be));
}

size_t nat_log_format(char *buf, const struct nat_log_rec *rec, const struct nat_log_names *nm)
{
	size_t n = second_of(buf, nm->unix_ms / 1000), len = NAT_LOG_LINE_MAX - 1;
	bool block = rec->event == NAT_LOG_ALLOC || rec->event == NAT_LOG_FREE;
	char a[INET_ADDRSTRLEN];

	if (rec->event == NAT_LOG_END) {
		n += (size_t)snprintf(buf + n, len - n, ".%03uZ E - - - stopped\n",
				      (unsigned)(nm->unix_ms % 1000));
		return n;
	}
	n += (size_t)snprintf(buf + n, len - n, ".%03uZ %c %s %s %s",
			      (unsigned)(nm->unix_ms % 1000), rec->event,
			      block ? "-" : proto_name(rec->proto), nm->inst, nm->vrf);
	if (block) {
		inet_ntop(AF_INET, &rec->inside, a, sizeof(a));
		n += (size_t)snprintf(buf + n, len - n, " %s", a);
		n += (size_t)ep(buf + n, len - n, rec->outside, rec->out_port);
		n += (size_t)snprintf(buf + n, len - n, "-%u", rec->out_last);
	} else {
		n += (size_t)ep(buf + n, len - n, rec->inside, rec->in_port);
		n += (size_t)ep(buf + n, len - n, rec->outside, rec->out_port);
		n += (size_t)ep(buf + n, len - n, rec->remote, rec->remote_port);
		if (rec->event == NAT_LOG_DELETE)
			n += (size_t)snprintf(buf + n, len - n, " %llu.%03u",
					      (unsigned long long)(nm->dur_ms / 1000),
					      (unsigned)(nm->dur_ms % 1000));
	}
	if (n > len - 1)
		n = len - 1; /* cut (names are at most 31 bytes: never) */
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}
