/* SPDX-License-Identifier: BSD-3-Clause */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned mgr_cpuset_count(const mgr_cpuset *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MGR_CPU_WORDS; i++)
		n += (unsigned)__builtin_popcountll(s->w[i]);
	return n;
}

bool mgr_cpuset_disjoint(const mgr_cpuset *a, const mgr_cpuset *b)
{
	for (unsigned i = 0; i < MGR_CPU_WORDS; i++)
		if (a->w[i] & b->w[i])
			return false;
	return true;
}

int mgr_cpuset_format(const mgr_cpuset *s, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (unsigned c = 0; c < MGR_MAX_CPUS; c++) {
		unsigned e = c;
		int n;
		if (!mgr_cpuset_has(s, c))
			continue;
		while (e + 1 < MGR_MAX_CPUS && mgr_cpuset_has(s, e + 1))
			e++;
		n = snprintf(buf + used, len - used, e > c ? "%s%u-%u" : "%s%u", used ? "," : "", c,
			     e);
		if (n < 0 || (size_t)n >= len - used) {
			buf[0] = '\0';
			return -ENOSPC;
		}
		used += (size_t)n;
		c = e;
	}
	return 0;
}

int mgr_cpuset_parse(const char *str, unsigned max, mgr_cpuset *s)
{
	const char *p = str;

	memset(s, 0, sizeof(*s));
	if (max > MGR_MAX_CPUS)
		max = MGR_MAX_CPUS;
	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;
		if (end == p || a >= max)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b >= max || b < a)
				return -EINVAL;
		}
		for (unsigned long c = a; c <= b; c++)
			mgr_cpuset_add(s, (unsigned)c);
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return 0;
}
