/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus' text exposition format (0.0.4), the part both tessmgrd's
 * GET /metrics and tessctl metrics write: label values.
 */
#ifndef TESS_MGR_PROM_H
#define TESS_MGR_PROM_H

#include <stdio.h>

/* A label value as the format wants it: backslash, double quote and newline escaped. */
void prom_label_value(FILE *f, const char *v);

#endif
