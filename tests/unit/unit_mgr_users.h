/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * For unit tests that zero mgr_conf and call mgr_init: the users' Argon2
 * settings at the schema's smallest (mgr_init hashes a dummy password; with
 * zeros it would wait for an Argon2 slot that never comes).
 */
#ifndef TESS_UNIT_MGR_USERS_H
#define TESS_UNIT_MGR_USERS_H

#include "mgr_config.h"

static inline void unit_users_conf(void)
{
	mgr_conf.users.argon2_memory_kib = 1024;
	mgr_conf.users.argon2_time = 1;
	mgr_conf.users.argon2_parallelism = 1;
	mgr_conf.users.argon2_concurrency = 1;
	mgr_conf.users.max_per_tenant = 100;
}

#endif
