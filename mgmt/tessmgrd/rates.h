/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The provider's rates (issue 16 C): the object PUT /v1/rates takes and its
 * schema. Shared with tessctl, whose "rates set" options come from it.
 */
#ifndef TESS_MGR_RATES_H
#define TESS_MGR_RATES_H

#include <stdint.h>

#include "cfg_schema.h"
#include "spec.h"

struct mgr_model_rate {
	char model[MGR_NAME_LEN];
	double vcpu_hour, gib_hour;
};

/*
 * What a tenant pays for: in reservation mode what its desktops held
 * reserved; in allocation mode what its quotas and partitions allocate to it,
 * used or not (usage_alloc.h).
 */
enum mgr_rates_mode { MGR_RATES_RESERVATION, MGR_RATES_ALLOCATION };

struct mgr_rates {
	char currency[8];
	uint8_t mode; /* enum mgr_rates_mode */
	double vcpu_hour, gib_hour;
	double gb_in, gb_out; /* per 10^9 bytes of a tenant's network (usage_net.h) */
	double pcpu_hour;     /* allocation mode: a physical CPU of a partition */
	struct mgr_model_rate *models;
	uint32_t n_models;
};

extern const struct cfg_node mgr_rates_schema;

/* "reservation", "allocation" (by enum mgr_rates_mode). */
extern const char *const mgr_rates_modes[];
/* The prices of a model's desktops: its own, else the default. */
void mgr_rates_price(const struct mgr_rates *r, const char *model, double *vcpu, double *gib);

#endif
