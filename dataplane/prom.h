/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus' text exposition format (0.0.4), as tessmgrd's GET /metrics,
 * tessctl metrics and tessd's own /metrics listener write it.
 */
#ifndef TESS_PROM_H
#define TESS_PROM_H

#include <stdio.h>

#include <jansson.h>

/* A label value as the format wants it: backslash, double quote and newline escaped. */
void prom_label_value(FILE *f, const char *v);

/*
 * tessd's stats.get JSON as metrics tessera_tessd_...: walked, not read field
 * by field, so that each module's counters show without naming a module
 * (README "Metrics"). 0, or -ENOMEM with nothing written.
 */
int prom_stats_format(const json_t *stats, FILE *f);

#endif
