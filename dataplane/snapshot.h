/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Changing what workers see: copy the current snapshot, edit the copy,
 * publish it. Publishing fills in the parts derived from the port table
 * (RX queue plan, MTUs), swaps the pointer and frees the old copy once
 * no worker can still read it. Control thread only.
 */
#ifndef TESS_SNAPSHOT_H
#define TESS_SNAPSHOT_H

#include "dp.h"

int dp_snapshot_init(void);
void dp_snapshot_fini(void);
/* A private copy of the current snapshot, or NULL (ENOMEM). */
struct dp_snapshot *dp_snapshot_copy(void);
void dp_snapshot_discard(struct dp_snapshot *s);
void dp_snapshot_publish(struct dp_snapshot *next);

#endif
