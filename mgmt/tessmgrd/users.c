/* SPDX-License-Identifier: BSD-3-Clause */
#include "users.h"

#include <argon2.h>
#include <errno.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mgr.h"
#include "session.h"
#include "store.h"
#include "tlog.h"
#include "token.h"

/*
 * Argon2 runs at most users.argon2_concurrency at once: each holds
 * argon2_memory_kib, so that bounds the memory logins and password changes
 * take whatever their number. Waiters give up after ARGON2_WAIT_SEC.
 */
#define ARGON2_WAIT_SEC 10
#define SALT_LEN        16
#define HASH_LEN        32

static sem_t slots;
static bool slots_made;
static char dummy[MGR_USER_HASH_LEN]; /* a hash of a random password, for unknown users */

static const char tables_sql[] =
	"CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  tenant_id INTEGER NOT NULL, name TEXT NOT NULL, display_name TEXT NOT NULL,"
	"  hash TEXT NOT NULL, gen INTEGER NOT NULL, created INTEGER NOT NULL,"
	"  UNIQUE (tenant_id, name));"
	"CREATE TABLE IF NOT EXISTS user_desktops (desktop_id INTEGER NOT NULL,"
	"  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	"  PRIMARY KEY (desktop_id, user_id));"
	"CREATE INDEX IF NOT EXISTS user_desktops_user ON user_desktops (user_id);"
	"CREATE TRIGGER IF NOT EXISTS user_desktops_gone AFTER DELETE ON desktops"
	"  BEGIN DELETE FROM user_desktops WHERE desktop_id = OLD.id; END;";

static int slot_take(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ARGON2_WAIT_SEC;
	while (sem_timedwait(&slots, &until) < 0)
		if (errno != EINTR)
			return -EBUSY;
	return 0;
}

int mgr_users_hash(const char *password, char encoded[MGR_USER_HASH_LEN])
{
	const struct mgr_users_cfg *u = &mgr_conf.users;
	uint8_t salt[SALT_LEN];
	size_t n = strlen(password);
	int rc;

	if (n < MGR_PASSWORD_MIN || n > MGR_PASSWORD_MAX)
		return -EINVAL;
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -EIO;
	if (slot_take() < 0)
		return -EBUSY;
	rc = argon2id_hash_encoded(u->argon2_time, u->argon2_memory_kib, u->argon2_parallelism,
				   password, n, salt, sizeof(salt), HASH_LEN, encoded,
				   MGR_USER_HASH_LEN);
	sem_post(&slots);
	return rc == ARGON2_OK ? 0 : -EIO;
}

/* Whether password is encoded's (whose own parameters apply), within the bound. */
static int verify(const char *encoded, const char *password)
{
	size_t n = strnlen(password, MGR_PASSWORD_MAX + 1);
	int rc;

	if (slot_take() < 0)
		return -EBUSY;
	rc = argon2id_verify(encoded, password, n);
	sem_post(&slots);
	return rc == ARGON2_OK && n <= MGR_PASSWORD_MAX ? 0 : -EACCES;
}

int mgr_users_init(char *err, size_t len)
{
	sqlite3 *db = mgr_store_db();
	char sql[sizeof(tables_sql) + 256], pw[45];
	char *msg = NULL;
	int rc;

	/* A tenant's deletion deletes its users (and so their assignments). */
	snprintf(sql, sizeof(sql),
		 "%sCREATE TRIGGER IF NOT EXISTS users_of_tenant AFTER DELETE ON objects"
		 "  WHEN OLD.kind = %d BEGIN DELETE FROM users WHERE tenant_id = OLD.id; END;",
		 tables_sql, (int)MGR_TENANT);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, len, "store: the users' tables: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -EIO;
	}
	if (!slots_made)
		sem_init(&slots, 0, mgr_conf.users.argon2_concurrency);
	slots_made = true;
	pw[0] = 'x';
	rc = mgr_token_new(pw + 1, sizeof(pw) - 1);
	if (rc == 0)
		rc = mgr_users_hash(pw, dummy);
	explicit_bzero(pw, sizeof(pw));
	if (rc < 0)
		snprintf(err, len, "cannot make the dummy password hash (Argon2id): %s",
			 strerror(-rc));
	return rc;
}

static int done(sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
}

#define USER_COLS "id, tenant_id, gen, name, display_name, created"

static void read_user(sqlite3_stmt *st, struct mgr_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = (uint32_t)sqlite3_column_int64(st, 0);
	u->tenant_id = (uint32_t)sqlite3_column_int64(st, 1);
	u->gen = (uint32_t)sqlite3_column_int64(st, 2);
	snprintf(u->name, sizeof(u->name), "%s", (const char *)sqlite3_column_text(st, 3) ?: "");
	snprintf(u->display_name, sizeof(u->display_name), "%s",
		 (const char *)sqlite3_column_text(st, 4) ?: "");
	u->created = sqlite3_column_int64(st, 5);
}

/* One user of a statement (and its hash into hash if not NULL): 0 or -ENOENT. */
static int one_user(sqlite3_stmt *st, struct mgr_user *u, char hash[MGR_USER_HASH_LEN])
{
	int rc = -ENOENT;

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		read_user(st, u);
		if (hash)
			snprintf(hash, MGR_USER_HASH_LEN, "%s",
				 (const char *)sqlite3_column_text(st, 6) ?: "");
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int mgr_user_get_locked(uint32_t id, struct mgr_user *u)
{
	return one_user(
		mgr_store_prep("SELECT " USER_COLS " FROM users WHERE id = ?", "i", (int64_t)id), u,
		NULL);
}

int mgr_user_by_name_locked(uint32_t tenant_id, const char *name, struct mgr_user *u)
{
	return one_user(mgr_store_prep("SELECT " USER_COLS
				       " FROM users WHERE tenant_id = ? AND name = ?",
				       "it", (int64_t)tenant_id, name),
			u, NULL);
}

bool mgr_user_current_locked(uint32_t id, uint32_t gen)
{
	sqlite3_stmt *st = mgr_store_prep("SELECT 1 FROM users WHERE id = ? AND gen = ?", "ii",
					  (int64_t)id, (int64_t)gen);
	bool found = st && sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return found;
}

/*
 * Whether encoded was made with other Argon2 parameters than the config's.
 * The dummy verify of unknown users runs with the config's: a stored hash
 * kept on old parameters would take another time, so a login rehashes it.
 */
static bool stale_params(const char *encoded)
{
	const struct mgr_users_cfg *u = &mgr_conf.users;
	char want[80];

	snprintf(want, sizeof(want), "$argon2id$v=%d$m=%u,t=%u,p=%u$", ARGON2_VERSION_NUMBER,
		 (unsigned)u->argon2_memory_kib, (unsigned)u->argon2_time,
		 (unsigned)u->argon2_parallelism);
	return strncmp(encoded, want, strlen(want)) != 0;
}

/* The password of user id (generation gen) hashed again with the config's parameters. */
static void rehash(uint32_t id, uint32_t gen, const char *password)
{
	char fresh[MGR_USER_HASH_LEN];

	if (mgr_users_hash(password, fresh) == 0) {
		pthread_mutex_lock(&mgr.lock);
		/* Its generation stays (no session ends); a password changed meanwhile is kept. */
		if (done(mgr_store_prep("UPDATE users SET hash = ? WHERE id = ? AND gen = ?", "tii",
					fresh, (int64_t)id, (int64_t)gen)) < 0)
			tlog(LOG_WARNING, NULL, "users: cannot store user %u's rehashed password",
			     id);
		pthread_mutex_unlock(&mgr.lock);
	}
	explicit_bzero(fresh, sizeof(fresh));
}

int mgr_users_login(const char *tenant, const char *user, const char *password,
		    struct mgr_token *who)
{
	char hash[MGR_USER_HASH_LEN];
	struct mgr_user u;
	int rc = -ENOENT;

	pthread_mutex_lock(&mgr.lock);
	const struct mgr_tenant *t = mgr_tenant_by_name(&mgr, tenant);
	if (t)
		rc = one_user(mgr_store_prep("SELECT " USER_COLS
					     ", hash FROM users WHERE tenant_id = ? "
					     "AND name = ?",
					     "it", (int64_t)t->id, user),
			      &u, hash);
	pthread_mutex_unlock(&mgr.lock);
	/* The same work whether the user exists or not. */
	int v = verify(rc == 0 ? hash : dummy, password);
	bool stale = rc == 0 && v == 0 && stale_params(hash);
	explicit_bzero(hash, sizeof(hash));
	if (v == -EBUSY)
		return -EBUSY;
	if (rc < 0 || v < 0)
		return -EACCES;
	if (stale)
		rehash(u.id, u.gen, password);
	memset(who, 0, sizeof(*who));
	snprintf(who->principal, sizeof(who->principal), "%s", u.name);
	snprintf(who->role, sizeof(who->role), "user");
	snprintf(who->tenant, sizeof(who->tenant), "%s", tenant);
	who->user_id = u.id;
	/* A password changed since it was read makes the session fail at once. */
	who->user_gen = u.gen;
	return 0;
}

json_t *mgr_user_json_locked(const struct mgr_user *u)
{
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, u->tenant_id);
	json_t *desks = json_array();
	sqlite3_stmt *st = mgr_store_prep("SELECT desktop_id FROM user_desktops WHERE user_id = ? "
					  "ORDER BY desktop_id",
					  "i", (int64_t)u->id);

	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(desks, json_integer(sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:o}", "id", (int)u->id, "name", u->name,
			 "tenant", t ? t->spec.name : "", "display_name", u->display_name,
			 "created", (json_int_t)u->created, "desktops", desks);
}

json_t *mgr_users_json_locked(uint32_t tenant_id)
{
	json_t *a = json_array();
	sqlite3_stmt *st =
		mgr_store_prep("SELECT " USER_COLS " FROM users WHERE ? = 0 OR tenant_id = ? "
			       "ORDER BY id",
			       "ii", (int64_t)tenant_id, (int64_t)tenant_id);
	struct mgr_user u;

	while (st && sqlite3_step(st) == SQLITE_ROW) {
		read_user(st, &u);
		json_array_append_new(a, mgr_user_json_locked(&u));
	}
	sqlite3_finalize(st);
	return a;
}

uint32_t mgr_users_count_locked(uint32_t tenant_id)
{
	sqlite3_stmt *st = mgr_store_prep("SELECT COUNT(*) FROM users WHERE tenant_id = ?", "i",
					  (int64_t)tenant_id);
	uint32_t n =
		st && sqlite3_step(st) == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;

	sqlite3_finalize(st);
	return n;
}

int mgr_user_add_locked(struct mgr_user *u, const char *hash)
{
	int rc;

	u->created = time(NULL);
	u->gen = 1;
	rc = done(mgr_store_prep(
		"INSERT INTO users (tenant_id, name, display_name, hash, gen, created) "
		"VALUES (?, ?, ?, ?, 1, ?)",
		"ittti", (int64_t)u->tenant_id, u->name, u->display_name, hash,
		(int64_t)u->created));
	if (rc == 0)
		u->id = (uint32_t)sqlite3_last_insert_rowid(mgr_store_db());
	return rc;
}

int mgr_user_update_locked(uint32_t id, const char *display_name, const char *hash)
{
	int rc = mgr_store_begin();

	if (rc == 0 && display_name)
		rc = done(mgr_store_prep("UPDATE users SET display_name = ? WHERE id = ?", "ti",
					 display_name, (int64_t)id));
	if (rc == 0 && hash)
		rc = done(mgr_store_prep("UPDATE users SET hash = ?, gen = gen + 1 WHERE id = ?",
					 "ti", hash, (int64_t)id));
	if (rc < 0 || mgr_store_commit() < 0) {
		mgr_store_rollback();
		return -EIO;
	}
	return 0;
}

int mgr_user_del_locked(uint32_t id)
{
	return done(mgr_store_prep("DELETE FROM users WHERE id = ?", "i", (int64_t)id));
}

bool mgr_user_assigned_locked(uint32_t user_id, uint32_t desktop_id)
{
	sqlite3_stmt *st =
		mgr_store_prep("SELECT 1 FROM user_desktops WHERE desktop_id = ? AND user_id = ?",
			       "ii", (int64_t)desktop_id, (int64_t)user_id);
	bool found = st && sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return found;
}

json_t *mgr_desktop_users_locked(uint32_t desktop_id)
{
	json_t *a = json_array();
	sqlite3_stmt *st =
		mgr_store_prep("SELECT u.name FROM user_desktops d JOIN users u ON u.id = "
			       "d.user_id WHERE d.desktop_id = ? ORDER BY u.name",
			       "i", (int64_t)desktop_id);

	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	return a;
}

int mgr_desktop_assign_locked(uint32_t desktop_id, const uint32_t *user_ids, uint32_t n)
{
	int rc = mgr_store_begin();

	if (rc == 0)
		rc = done(mgr_store_prep("DELETE FROM user_desktops WHERE desktop_id = ?", "i",
					 (int64_t)desktop_id));
	for (uint32_t i = 0; rc == 0 && i < n; i++)
		rc = done(
			mgr_store_prep("INSERT OR IGNORE INTO user_desktops (desktop_id, user_id) "
				       "VALUES (?, ?)",
				       "ii", (int64_t)desktop_id, (int64_t)user_ids[i]));
	if (rc < 0 || mgr_store_commit() < 0) {
		mgr_store_rollback();
		return -EIO;
	}
	return 0;
}

static bool of_user(const struct mgr_session *s, void *arg)
{
	return s->user_id == *(const uint32_t *)arg;
}

void mgr_user_end_sessions(uint32_t id)
{
	mgr_session_drop_if(of_user, &id);
}
