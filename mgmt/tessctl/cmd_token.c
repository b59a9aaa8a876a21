/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl token new: a fresh random bearer token for tessmgrd and the entry
 * (its SHA-256, never the token) to add to the token file. Needs neither
 * tessd nor tessmgrd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessctl.h"
#include "token.h"

static int cmd_token_new(struct tessctl *ctx, int argc, char **argv)
{
	const char *role = NULL, *tenant = NULL, *principal = NULL;
	char tok[64], hex[MGR_TOKEN_HEX];
	uint8_t d[MGR_TOKEN_DIGEST];
	json_t *entry;
	int rc;

	for (int i = 0; i < argc; i++) {
		const char **dst = strcmp(argv[i], "--role") == 0        ? &role
				   : strcmp(argv[i], "--tenant") == 0    ? &tenant
				   : strcmp(argv[i], "--principal") == 0 ? &principal
									 : NULL;
		if (dst == NULL || i + 1 == argc || argv[i + 1][0] == '\0') {
			fprintf(stderr, "tessctl: token new: %s '%s'\n",
				dst ? "no value after" : "unknown option", argv[i]);
			return TESSCTL_USAGE;
		}
		*dst = argv[++i];
	}
	if (role == NULL || (strcmp(role, "provider") != 0 && strcmp(role, "tenant") != 0)) {
		fprintf(stderr, "tessctl: token new: --role provider or --role tenant\n");
		return TESSCTL_USAGE;
	}
	if ((strcmp(role, "tenant") == 0) != (tenant != NULL)) {
		fprintf(stderr, "tessctl: token new: %s\n",
			tenant ? "a provider token has no --tenant"
			       : "a tenant token names its --tenant");
		return TESSCTL_USAGE;
	}
	rc = mgr_token_new(tok, sizeof(tok));
	if (rc < 0) {
		fprintf(stderr, "tessctl: token new: no random bytes: %s\n", strerror(-rc));
		return rc;
	}
	mgr_token_digest(tok, d);
	mgr_token_hex(d, hex);
	entry = json_pack("{s:s, s:s, s:s}", "sha256", hex, "principal",
			  principal ? principal
			  : tenant  ? tenant
				    : "provider",
			  "role", role);
	if (tenant)
		json_object_set_new(entry, "tenant", json_string(tenant));
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:O}", "token", tok, "entry", entry);
		tessctl_print_json(j);
		json_decref(j);
	} else {
		/* The token, then the entry: one line each, for scripts. */
		char *s = json_dumps(entry, JSON_PRESERVE_ORDER);
		printf("%s\n%s\n", tok, s ? s : "{}");
		free(s);
		fprintf(stderr, "tessctl: give the token (first line) to its holder; add the entry "
				"(second line) to tessmgrd's token file, then SIGHUP tessmgrd\n");
	}
	json_decref(entry);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}

static const struct tessctl_cmd token_cmds[] = {
	{ "token new", "token new --role provider|tenant [--tenant T] [--principal P]", 0, 6,
	  cmd_token_new,
	  "tessmgrd: a new random bearer token and its token-file entry (principal: the tenant, or "
	  "\"provider\")" },
	{ 0 },
};
TESSCTL_COMMANDS(token_cmds)
