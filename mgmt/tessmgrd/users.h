/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * End users (role user): principals of a tenant who log in with a password
 * (Argon2id, libargon2) and see and use the desktops assigned to them. They
 * and their assignments live in the store only (tables users and
 * user_desktops), read under mgr.lock: a tenant's deletion deletes its users,
 * a user's deletion or a desktop's its assignments (SQLite triggers and a
 * foreign key, in the same transaction). A password change bumps the user's
 * gen: sessions opened before it fail their next request.
 */
#ifndef TESS_MGR_USERS_H
#define TESS_MGR_USERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgr_config.h"
#include "spec.h"

#define MGR_USER_HASH_LEN 192 /* an encoded Argon2id hash */
#define MGR_PASSWORD_MIN  12
#define MGR_PASSWORD_MAX  256

struct mgr_user {
	uint32_t id, tenant_id, gen;
	char name[MGR_NAME_LEN];
	char display_name[129];
	int64_t created;
};

/* The tables, the dummy hash that unknown users are verified against, the Argon2 bound. */
int mgr_users_init(char *err, size_t len);

/*
 * The Argon2id hash of a password with users.* parameters, waiting for one of
 * users.argon2_concurrency slots (without mgr.lock): 0, -EBUSY when none came
 * free in 10 s, -EINVAL for a password out of 12..256 bytes, or -EIO.
 */
int mgr_users_hash(const char *password, char encoded[MGR_USER_HASH_LEN]);
/*
 * A user's login, without mgr.lock: 0 with *who (role user); -EACCES for
 * anything wrong (an unknown tenant or user is verified against a dummy hash,
 * so the time tells nothing); -EBUSY as for mgr_users_hash.
 */
int mgr_users_login(const char *tenant, const char *user, const char *password,
		    struct mgr_token *who);

/* Under mgr.lock. */
/* Whether user id still exists at password generation gen (a session's check). */
bool mgr_user_current_locked(uint32_t id, uint32_t gen);
int mgr_user_get_locked(uint32_t id, struct mgr_user *u);
int mgr_user_by_name_locked(uint32_t tenant_id, const char *name, struct mgr_user *u);
/* The users of a tenant (0: all) as views. */
json_t *mgr_users_json_locked(uint32_t tenant_id);
json_t *mgr_user_json_locked(const struct mgr_user *u);
uint32_t mgr_users_count_locked(uint32_t tenant_id);
/* Adds u (its id set): 0, -EEXIST, -EIO. */
int mgr_user_add_locked(struct mgr_user *u, const char *hash);
/* Sets display_name and/or hash (NULL: kept; a hash bumps gen). */
int mgr_user_update_locked(uint32_t id, const char *display_name, const char *hash);
int mgr_user_del_locked(uint32_t id);
bool mgr_user_assigned_locked(uint32_t user_id, uint32_t desktop_id);
/* The names of a desktop's users. */
json_t *mgr_desktop_users_locked(uint32_t desktop_id);
/* Replaces a desktop's users. */
int mgr_desktop_assign_locked(uint32_t desktop_id, const uint32_t *user_ids, uint32_t n);
/* Ends the sessions of a user (deleted, or a new password). */
void mgr_user_end_sessions(uint32_t id);

#endif
