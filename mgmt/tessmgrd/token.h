/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bearer tokens (review 1.12): kept and compared as SHA-256 digests, so
 * neither the token file nor memory holds a usable token, and a comparison
 * always covers the same 32 bytes whatever the token's length. Shared with
 * tessctl (token new).
 */
#ifndef TESS_MGR_TOKEN_H
#define TESS_MGR_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGR_TOKEN_DIGEST 32
#define MGR_TOKEN_HEX    (2 * MGR_TOKEN_DIGEST + 1)

/* SHA-256 of the token's characters (no terminating NUL). */
void mgr_token_digest(const char *token, uint8_t out[MGR_TOKEN_DIGEST]);
/* Lower-case hex of a digest, NUL-terminated. */
void mgr_token_hex(const uint8_t d[MGR_TOKEN_DIGEST], char out[MGR_TOKEN_HEX]);
/* 64 hex digits into a digest: 0, or -EINVAL. */
int mgr_token_unhex(const char *hex, uint8_t out[MGR_TOKEN_DIGEST]);
/* Whether two digests are equal, in a time that does not depend on where they differ. */
bool mgr_token_equal(const uint8_t a[MGR_TOKEN_DIGEST], const uint8_t b[MGR_TOKEN_DIGEST]);
/* A fresh random token (256 bits, base64url, 43 characters): 0, or -errno. */
int mgr_token_new(char *out, size_t len);

/*
 * Whether a token file may be used: -EPERM (why[] says) when others can
 * write it, or read it while it holds clear tokens; 1 with why[] set when
 * others can only read digests (a warning); 0 when it is private.
 */
int mgr_token_file_check(const char *path, bool has_clear, char *why, size_t len);

#endif
