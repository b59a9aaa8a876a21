/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's bearer tokens (review 1.12): SHA-256 digests, their hex form,
 * the comparison (always the 32 bytes of two digests, so neither where
 * tokens differ nor their lengths change what is compared), fresh tokens and
 * the token file's permission check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "token.h"

static void hex_of(const char *token, char out[MGR_TOKEN_HEX])
{
	uint8_t d[MGR_TOKEN_DIGEST];

	mgr_token_digest(token, d);
	mgr_token_hex(d, out);
}

static void test_digest_vectors(void **state)
{
	char hex[MGR_TOKEN_HEX];

	(void)state;
	hex_of("abc", hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of("", hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hex_round_trip(void **state)
{
	uint8_t d[MGR_TOKEN_DIGEST], back[MGR_TOKEN_DIGEST];
	char hex[MGR_TOKEN_HEX], bad[MGR_TOKEN_HEX + 1];

	(void)state;
	mgr_token_digest("provider-token-0123456789", d);
	mgr_token_hex(d, hex);
	assert_int_equal(mgr_token_unhex(hex, back), 0);
	assert_memory_equal(d, back, sizeof(d));
	for (char *p = hex; *p; p++)
		if (*p >= 'a')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(mgr_token_unhex(hex, back), 0);
	assert_memory_equal(d, back, sizeof(d));
	snprintf(bad, sizeof(bad), "%.63s", hex);
	assert_int_equal(mgr_token_unhex(bad, back), -EINVAL);
	snprintf(bad, sizeof(bad), "%s0", hex);
	assert_int_equal(mgr_token_unhex(bad, back), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", hex);
	bad[10] = 'g';
	assert_int_equal(mgr_token_unhex(bad, back), -EINVAL);
}

static void test_equal_every_byte_and_bit(void **state)
{
	uint8_t a[MGR_TOKEN_DIGEST], b[MGR_TOKEN_DIGEST];

	(void)state;
	mgr_token_digest("acme-admin-token-0123456789", a);
	memcpy(b, a, sizeof(a));
	assert_true(mgr_token_equal(a, b));
	/* A difference anywhere, the last byte included, is seen. */
	for (int i = 0; i < MGR_TOKEN_DIGEST; i++)
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(mgr_token_equal(a, b));
			b[i] ^= (uint8_t)(1u << bit);
		}
	assert_true(mgr_token_equal(a, b));
}

/*
 * What is compared never depends on the tokens' lengths: tokens that are
 * prefixes of one another, of lengths 1 to 300, give unrelated 32-byte
 * digests, equal only for the same token.
 */
static void test_lengths_do_not_matter(void **state)
{
	static uint8_t d[301][MGR_TOKEN_DIGEST];
	char tok[302];

	(void)state;
	memset(tok, 'a', sizeof(tok));
	for (int n = 1; n <= 300; n++) {
		tok[n] = '\0';
		mgr_token_digest(tok, d[n]);
		tok[n] = 'a';
	}
	for (int n = 1; n <= 300; n++)
		for (int m = 1; m <= 300; m++)
			assert_int_equal(mgr_token_equal(d[n], d[m]), n == m);
}

static void test_new_tokens(void **state)
{
	char a[64], b[64], small[16];

	(void)state;
	assert_int_equal(mgr_token_new(a, sizeof(a)), 0);
	assert_int_equal(mgr_token_new(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(
		strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(mgr_token_new(small, sizeof(small)), -ENOSPC);
}

static void test_file_check(void **state)
{
	char path[] = "/tmp/tess-token-XXXXXX", why[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	chmod(path, 0600);
	assert_int_equal(mgr_token_file_check(path, true, why, sizeof(why)), 0);
	chmod(path, 0640);
	assert_int_equal(mgr_token_file_check(path, true, why, sizeof(why)), 0);
	chmod(path, 0644);
	assert_int_equal(mgr_token_file_check(path, false, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "readable by others"));
	assert_int_equal(mgr_token_file_check(path, true, why, sizeof(why)), -EPERM);
	chmod(path, 0620);
	assert_int_equal(mgr_token_file_check(path, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by others"));
	chmod(path, 0602);
	assert_int_equal(mgr_token_file_check(path, false, why, sizeof(why)), -EPERM);
	unlink(path);
	assert_int_equal(mgr_token_file_check(path, false, why, sizeof(why)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_vectors),
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_equal_every_byte_and_bit),
		cmocka_unit_test(test_lengths_do_not_matter),
		cmocka_unit_test(test_new_tokens),
		cmocka_unit_test(test_file_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
