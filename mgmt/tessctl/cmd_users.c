/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl user list|show|add|set|del and desktop assign: tessmgrd's end
 * users (role user) and the desktops assigned to them. A password is read
 * from standard input (its first line) or, on a terminal, asked twice
 * without echo: never an argument, which other local users could read in
 * /proc/PID/cmdline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "http_client.h"
#include "tessctl.h"

#define PW_MAX 256

static void users_human(const json_t *r)
{
	json_t *one = json_is_array(r) ? NULL : json_pack("[O]", r), *u;
	size_t i, k;

	printf("%-6s %-16s %-16s %-24s %s\n", "ID", "USER", "TENANT", "DISPLAY-NAME", "DESKTOPS");
	json_array_foreach (one ? one : r, i, u) {
		json_t *d;
		printf("%-6lld %-16s %-16s %-24s ", (long long)jint(u, "id"), jstr(u, "name"),
		       jstr(u, "tenant"),
		       jstr(u, "display_name")[0] ? jstr(u, "display_name") : "-");
		json_array_foreach (json_object_get(u, "desktops"), k, d)
			printf("%s%lld", k ? "," : "", (long long)json_integer_value(d));
		printf("%s\n", json_array_size(json_object_get(u, "desktops")) ? "" : "-");
	}
	json_decref(one);
}

/* One line of standard input, without its end; on a terminal, without echo. */
static int read_line(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *ok;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)len, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (ok == NULL)
		return -EIO;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* The password, from stdin or asked twice on a terminal: 0, or TESSCTL_USAGE. */
static int read_password(char pw[PW_MAX + 2])
{
	char again[PW_MAX + 2];
	int rc = 0;

	if (read_line("password: ", pw, PW_MAX + 2) < 0 || pw[0] == '\0') {
		fprintf(stderr, "tessctl: no password on standard input\n");
		return TESSCTL_USAGE;
	}
	if (isatty(STDIN_FILENO) &&
	    (read_line("again: ", again, sizeof(again)) < 0 || strcmp(pw, again) != 0)) {
		fprintf(stderr, "tessctl: the passwords differ\n");
		rc = TESSCTL_USAGE;
	}
	explicit_bzero(again, sizeof(again));
	return rc;
}

/* --tenant T and --display-name D (into body); --password (sets *pw) where allowed. */
static int user_opts(int argc, char **argv, json_t *body, bool *pw, bool tenant_ok)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--password") == 0 && pw) {
			*pw = true;
			continue;
		}
		const char *key = strcmp(argv[i], "--display-name") == 0          ? "display_name"
				  : tenant_ok && strcmp(argv[i], "--tenant") == 0 ? "tenant"
										  : NULL;
		if (key == NULL || i + 1 == argc) {
			fprintf(stderr, "tessctl: user: %s '%s'\n",
				key ? "no value after" : "unknown option", argv[i]);
			return TESSCTL_USAGE;
		}
		json_object_set_new(body, key, json_string(argv[++i]));
	}
	return 0;
}

static int with_password(struct tessctl *ctx, const char *method, const char *path, json_t *body,
			 bool pw)
{
	char buf[PW_MAX + 2];
	int rc = 0;

	if (pw && (rc = read_password(buf)) == 0)
		json_object_set_new(body, "password", json_string(buf));
	explicit_bzero(buf, sizeof(buf));
	if (rc) {
		json_decref(body);
		return rc;
	}
	return tessctl_mgr_run(ctx, method, path, body, users_human);
}

/* "users/ID" of a numeric id; < 0 after a usage error. */
static int user_path(char *buf, size_t len, const char *id)
{
	if (id[0] == '\0' || strspn(id, "0123456789") != strlen(id) || strlen(id) > 10) {
		fprintf(stderr, "tessctl: user: '%s' is not a user id (see tessctl user list)\n",
			id);
		return TESSCTL_USAGE;
	}
	snprintf(buf, len, "users/%s", id);
	return 0;
}

int tessctl_cmd_user(struct tessctl *ctx, int argc, char **argv)
{
	char path[320], esc[256];
	json_t *body = json_object();
	bool pw = false;
	int rc;

	if (strcmp(argv[0], "list") == 0 &&
	    (argc == 1 || (argc == 3 && !strcmp(argv[1], "--tenant")))) {
		json_decref(body);
		if (argc == 1)
			return tessctl_mgr_run(ctx, "GET", "users", NULL, users_human);
		if (http_path_escape(esc, sizeof(esc), argv[2]) < 0)
			return TESSCTL_USAGE;
		snprintf(path, sizeof(path), "users?tenant=%s", esc);
		return tessctl_mgr_run(ctx, "GET", path, NULL, users_human);
	}
	if (strcmp(argv[0], "add") == 0 && argc >= 2) {
		json_object_set_new(body, "name", json_string(argv[1]));
		if ((rc = user_opts(argc - 2, argv + 2, body, NULL, true)) != 0) {
			json_decref(body);
			return rc;
		}
		return with_password(ctx, "POST", "users", body, true);
	}
	if (argc >= 2 && user_path(path, sizeof(path), argv[1]) != 0) {
		json_decref(body);
		return TESSCTL_USAGE;
	}
	if (strcmp(argv[0], "set") == 0 && argc >= 3) {
		if ((rc = user_opts(argc - 2, argv + 2, body, &pw, false)) != 0) {
			json_decref(body);
			return rc;
		}
		return with_password(ctx, "PUT", path, body, pw);
	}
	json_decref(body);
	if (strcmp(argv[0], "show") == 0 && argc == 2)
		return tessctl_mgr_run(ctx, "GET", path, NULL, users_human);
	if (strcmp(argv[0], "del") == 0 && argc == 2)
		return tessctl_mgr_run(ctx, "DELETE", path, NULL, users_human);
	fprintf(stderr, "tessctl: user: list [--tenant T], show ID, add NAME [--tenant T] "
			"[--display-name D], set ID [--display-name D] [--password], del ID\n");
	return TESSCTL_USAGE;
}

static void assigned_human(const json_t *r)
{
	json_t *u;
	size_t i;

	printf("desktop %lld:", (long long)jint(r, "desktop"));
	json_array_foreach (json_object_get(r, "users"), i, u)
		printf(" %s", json_string_value(u));
	printf("%s\n", json_array_size(json_object_get(r, "users")) ? "" : " no users");
}

int tessctl_cmd_assign(struct tessctl *ctx, int argc, char **argv)
{
	json_t *users = json_array();
	char path[128];
	bool none = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--none") == 0) {
			none = true;
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			json_array_append_new(users, json_string(argv[++i]));
		} else {
			fprintf(stderr, "tessctl: desktop assign: unknown option '%s'\n", argv[i]);
			json_decref(users);
			return TESSCTL_USAGE;
		}
	}
	/* An empty set must be asked for: a forgotten --user must not unassign everyone. */
	if (none == (json_array_size(users) > 0) ||
	    strspn(argv[0], "0123456789") != strlen(argv[0]) || strlen(argv[0]) > 10) {
		fprintf(stderr,
			"tessctl: desktop assign ID --user NAME [--user NAME]... | --none\n");
		json_decref(users);
		return TESSCTL_USAGE;
	}
	snprintf(path, sizeof(path), "desktops/%s/users", argv[0]);
	return tessctl_mgr_run(ctx, "PUT", path, json_pack("{s:o}", "users", users),
			       assigned_human);
}
