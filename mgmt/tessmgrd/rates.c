/* SPDX-License-Identifier: BSD-3-Clause */
#include "rates.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct cfg_node price_node = { .type = CFG_NUMBER, .num = { 0, 1e9 } };
static const struct cfg_field model_rate_fields[] = {
	CFG_FIELD(struct mgr_model_rate, model, "model",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1,
						      .max_len = MGR_NAME_LEN - 1,
						      .charset = CFG_NAME_CHARSET } }),
		  true, NULL),
	CFG_FIELD(struct mgr_model_rate, vcpu_hour, "vcpu_hour", &price_node, true, NULL),
	CFG_FIELD(struct mgr_model_rate, gib_hour, "gib_hour", &price_node, true, NULL),
	{ 0 },
};

static int check_rates(const void *val, char *why, size_t len)
{
	const struct mgr_rates *r = val;

	for (uint32_t i = 0; i < r->n_models; i++)
		for (uint32_t k = 0; k < i; k++)
			if (strcmp(r->models[i].model, r->models[k].model) == 0) {
				snprintf(why, len, "models: '%s' twice", r->models[i].model);
				return EINVAL;
			}
	return 0;
}

const char *const mgr_rates_modes[] = { "reservation", "allocation", NULL };

static const struct cfg_field rates_fields[] = {
	CFG_FIELD(struct mgr_rates, currency, "currency",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1,
						      .max_len = 7,
						      .charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" } }),
		  false, "\"EUR\""),
	CFG_FIELD(struct mgr_rates, mode, "mode",
		  (&(const struct cfg_node){
			  .type = CFG_ENUM, .str = { .max_len = 11, .choices = mgr_rates_modes } }),
		  false, "\"reservation\""),
	CFG_FIELD(struct mgr_rates, vcpu_hour, "vcpu_hour", &price_node, false, "0"),
	CFG_FIELD(struct mgr_rates, gib_hour, "gib_hour", &price_node, false, "0"),
	CFG_FIELD(struct mgr_rates, gb_in, "gb_in", &price_node, false, "0"),
	CFG_FIELD(struct mgr_rates, gb_out, "gb_out", &price_node, false, "0"),
	CFG_FIELD(struct mgr_rates, pcpu_hour, "pcpu_hour", &price_node, false, "0"),
	CFG_ARRAY_FIELD(struct mgr_rates, models, n_models, "models",
			CFG_ARR_NODE(CFG_OBJ_NODE(model_rate_fields, struct mgr_model_rate), 1024,
				     struct mgr_model_rate),
			false, "[]"),
	{ 0 },
};
const struct cfg_node mgr_rates_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = rates_fields, .size = sizeof(struct mgr_rates) },
	.check = check_rates,
};

void mgr_rates_price(const struct mgr_rates *r, const char *model, double *vcpu, double *gib)
{
	*vcpu = r->vcpu_hour;
	*gib = r->gib_hour;
	for (uint32_t i = 0; model && i < r->n_models; i++)
		if (strcmp(r->models[i].model, model) == 0) {
			*vcpu = r->models[i].vcpu_hour;
			*gib = r->models[i].gib_hour;
		}
}
