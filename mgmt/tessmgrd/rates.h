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

struct mgr_rates {
	char currency[8];
	double vcpu_hour, gib_hour;
	double gb_in, gb_out; /* per 10^9 bytes of a tenant's network (usage_net.h) */
	struct mgr_model_rate *models;
	uint32_t n_models;
};

extern const struct cfg_node mgr_rates_schema;

/* The prices of a model's desktops: its own, else the default. */
void mgr_rates_price(const struct mgr_rates *r, const char *model, double *vcpu, double *gib);

#endif
