/* SPDX-License-Identifier: BSD-3-Clause */
#include "log.h"

RTE_LOG_REGISTER(tess_logtype_dp, tess.dp, INFO);
RTE_LOG_REGISTER(tess_logtype_ctl, tess.ctl, INFO);
