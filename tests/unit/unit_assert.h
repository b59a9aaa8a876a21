/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmocka 1.1 leaves a test by longjmp when an assertion fails, but does not
 * declare that path noreturn: gcc -fanalyzer then walks on past a failed
 * assert_non_null() with the NULL pointer. This one tells it. Include it
 * after <cmocka.h>.
 */
#ifndef TESS_UNIT_ASSERT_H
#define TESS_UNIT_ASSERT_H

#undef assert_non_null
#define assert_non_null(c)                                                                 \
	do {                                                                               \
		if ((c) == NULL) {                                                         \
			fail_msg("%s is NULL", #c);                                        \
			__builtin_unreachable(); /* fail_msg() longjmps out of the test */ \
		}                                                                          \
	} while (0)

#endif
