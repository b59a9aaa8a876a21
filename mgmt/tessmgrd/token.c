/* SPDX-License-Identifier: BSD-3-Clause */
#include "token.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

void mgr_token_digest(const char *token, uint8_t out[MGR_TOKEN_DIGEST])
{
	/* Cannot fail for SHA-256 with an output buffer of its size. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), out) < 0)
		memset(out, 0, MGR_TOKEN_DIGEST);
}

void mgr_token_hex(const uint8_t d[MGR_TOKEN_DIGEST], char out[MGR_TOKEN_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < MGR_TOKEN_DIGEST; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * MGR_TOKEN_DIGEST] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mgr_token_unhex(const char *hex, uint8_t out[MGR_TOKEN_DIGEST])
{
	if (strlen(hex) != 2 * MGR_TOKEN_DIGEST)
		return -EINVAL;
	for (int i = 0; i < MGR_TOKEN_DIGEST; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool mgr_token_equal(const uint8_t a[MGR_TOKEN_DIGEST], const uint8_t b[MGR_TOKEN_DIGEST])
{
	/* volatile: the compiler may not turn the loop into an early-exit memcmp. */
	volatile uint8_t diff = 0;

	for (int i = 0; i < MGR_TOKEN_DIGEST; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

int mgr_token_new(char *out, size_t len)
{
	static const char b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t r[33]; /* 256 bits, and a byte to make 44 whole sextets */
	size_t n = 0;

	if (len < 44)
		return -ENOSPC;
	for (size_t got = 0; got < 32;) {
		ssize_t k = getrandom(r + got, 32 - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		got += (size_t)k;
	}
	r[32] = 0;
	for (int i = 0; i < 33; i += 3) {
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
		for (int k = 3; k >= 0 && n < 43; k--)
			out[n++] = b64url[(v >> (6 * k)) & 63];
	}
	out[n] = '\0';
	memset(r, 0, sizeof(r));
	return 0;
}

int mgr_token_file_check(const char *path, bool has_clear, char *why, size_t len)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(why, len, "%s", strerror(errno));
		return -errno;
	}
	/* Whoever can write it can give themselves a provider token. */
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len, "writable by others (mode %03o): chmod go-w it",
			 (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, len, "owned by uid %u, neither root nor tessmgrd's user",
			 (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & S_IROTH) {
		if (has_clear) {
			snprintf(why, len,
				 "readable by others (mode %03o) and holding clear tokens: chmod "
				 "o-r "
				 "it, or store their \"sha256\" instead",
				 (unsigned)(st.st_mode & 0777));
			return -EPERM;
		}
		snprintf(why, len, "readable by others (mode %03o): digests only, but chmod o-r it",
			 (unsigned)(st.st_mode & 0777));
		return 1;
	}
	return 0;
}
