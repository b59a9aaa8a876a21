/* SPDX-License-Identifier: BSD-3-Clause */
/* The policer's control-thread side, shared by its files. */
#ifndef TESS_POLICER_INT_H
#define TESS_POLICER_INT_H

#include <jansson.h>

#include "ctl_server.h"
#include "policer.h"

extern const struct ctl_method pol_methods[];

/* The policers of cfg with their attachments' counters, as policer.list gives them. */
json_t *pol_list_json(const struct tessd_cfg *cfg);

#endif
