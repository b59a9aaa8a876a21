/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console's WebSocket (RFC 6455) pieces: the handshake's accept key
 * (the RFC's own example), header tokens, client frames (masked, lengths of
 * 7, 16 and 64 bits, each refusal with its close code, partial input asking
 * for more), the fragmentation rules, text messages' UTF-8 (cut anywhere
 * between fragments), server headers and close payloads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ws.h"

/* A masked client frame of payload p (n bytes) into out: its size. */
static size_t client_frame(uint8_t *out, uint8_t b0, const uint8_t *p, size_t n)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t h = ws_header(out, b0 & 0x0f, b0 & 0x80, n);

	out[0] = b0;
	out[1] |= 0x80;
	memcpy(out + h, mask, 4);
	for (size_t i = 0; i < n; i++)
		out[h + 4 + i] = p[i] ^ mask[i & 3];
	return h + 4 + n;
}

static void test_accept_key(void **state)
{
	char out[WS_ACCEPT_LEN];

	(void)state;
	/* RFC 6455 section 1.3. */
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_not_equal(ws_accept_key(NULL, out), 0);
	assert_int_not_equal(ws_accept_key("", out), 0);
	assert_int_not_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out), 0);
	assert_int_not_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", out), 0);
	assert_int_not_equal(ws_accept_key("dGhlIHNhbXBsZSBub25j*Q==", out), 0);
}

static void test_tokens(void **state)
{
	(void)state;
	assert_true(ws_has_token("keep-alive, Upgrade", "upgrade", true));
	assert_true(ws_has_token("websocket", "websocket", true));
	assert_true(ws_has_token(" base64 ,binary ", "binary", false));
	assert_false(ws_has_token("Binary", "binary", false));
	assert_false(ws_has_token("binaryx, xbinary", "binary", false));
	assert_false(ws_has_token(NULL, "binary", false));
	assert_false(ws_has_token("", "binary", false));
}

static void test_parse_lengths(void **state)
{
	static uint8_t p[70000], buf[70100];
	struct ws_frame f;
	const char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 7);
	const size_t lens[] = { 0, 1, 125, 126, 65535, 65536, 70000 };
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t n = client_frame(buf, 0x82, p, lens[k]);
		/* Every prefix asks for more. */
		for (size_t cut = 0; cut < n; cut += cut < 20 ? 1 : 997)
			assert_int_equal(ws_parse(buf, cut, WS_MAX_FRAME, &f, &why), 0);
		assert_int_equal(ws_parse(buf, n, WS_MAX_FRAME, &f, &why), (ssize_t)n);
		assert_true(f.fin);
		assert_int_equal(f.op, WS_OP_BINARY);
		assert_int_equal(f.len, lens[k]);
		if (lens[k])
			assert_memory_equal(f.payload, p, lens[k]);
	}
}

static void test_parse_refusals(void **state)
{
	uint8_t buf[300], p[200] = { 0 };
	struct ws_frame f;
	const char *why = NULL;
	size_t n;

	(void)state;
	/* Unmasked: 1002. */
	n = ws_header(buf, WS_OP_BINARY, true, 3);
	memcpy(buf + n, "abc", 3);
	assert_int_equal(ws_parse(buf, n + 3, WS_MAX_FRAME, &f, &why), -WS_CLOSE_PROTOCOL);
	assert_non_null(why);
	/* A reserved bit, a reserved opcode. */
	n = client_frame(buf, 0xc2, p, 1);
	assert_int_equal(ws_parse(buf, n, WS_MAX_FRAME, &f, &why), -WS_CLOSE_PROTOCOL);
	n = client_frame(buf, 0x83, p, 1);
	assert_int_equal(ws_parse(buf, n, WS_MAX_FRAME, &f, &why), -WS_CLOSE_PROTOCOL);
	n = client_frame(buf, 0x8b, p, 1);
	assert_int_equal(ws_parse(buf, n, WS_MAX_FRAME, &f, &why), -WS_CLOSE_PROTOCOL);
	/* A control frame of 126 bytes, a fragmented ping. */
	n = client_frame(buf, 0x89, p, 126);
	assert_int_equal(ws_parse(buf, n, WS_MAX_FRAME, &f, &why), -WS_CLOSE_PROTOCOL);
	n = client_frame(buf, 0x09, p, 2);
	assert_int_equal(ws_parse(buf, n, WS_MAX_FRAME, &f, &why), -WS_CLOSE_PROTOCOL);
	/* Over the limit: known from the 10 header bytes alone, 1009. */
	buf[0] = 0x82;
	buf[1] = 0x80 | 127;
	uint64_t big = WS_MAX_FRAME + 1;
	for (int i = 0; i < 8; i++)
		buf[2 + i] = (uint8_t)(big >> (56 - 8 * i));
	assert_int_equal(ws_parse(buf, 10, WS_MAX_FRAME, &f, &why), -WS_CLOSE_TOO_BIG);
	assert_int_equal(ws_parse(buf, 9, WS_MAX_FRAME, &f, &why), 0);
	buf[2] = 0x80; /* the 64-bit length's top bit */
	assert_int_equal(ws_parse(buf, 10, UINT64_MAX >> 1, &f, &why), -WS_CLOSE_PROTOCOL);
	/* 16-bit length over a small limit. */
	n = client_frame(buf, 0x82, p, 200);
	assert_int_equal(ws_parse(buf, 4, 199, &f, &why), -WS_CLOSE_TOO_BIG);
}

static void test_sequence(void **state)
{
	struct ws_msg m = { 0 };
	const char *why = NULL;
	struct ws_frame first = { .fin = false, .op = WS_OP_BINARY };
	struct ws_frame cont = { .fin = false, .op = WS_OP_CONT };
	struct ws_frame last = { .fin = true, .op = WS_OP_CONT };
	struct ws_frame ping = { .fin = true, .op = WS_OP_PING };
	struct ws_frame text = { .fin = true, .op = WS_OP_TEXT };

	(void)state;
	assert_int_equal(ws_sequence(&m, &cont, &why), -WS_CLOSE_PROTOCOL);
	assert_int_equal(ws_sequence(&m, &first, &why), 0);
	assert_int_equal(m.op, WS_OP_BINARY);
	assert_int_equal(ws_sequence(&m, &ping, &why), 0); /* between fragments */
	assert_int_equal(ws_sequence(&m, &cont, &why), 0);
	assert_int_equal(ws_sequence(&m, &text, &why), -WS_CLOSE_PROTOCOL);
	assert_int_equal(ws_sequence(&m, &last, &why), 0);
	assert_int_equal(m.op, 0);
	assert_int_equal(ws_sequence(&m, &text, &why), 0);
	assert_int_equal(m.op, 0);
}

static void test_server_frames(void **state)
{
	uint8_t h[WS_MAX_HEADER], p[WS_MAX_CONTROL];
	char reason[200];

	(void)state;
	assert_int_equal(ws_header(h, WS_OP_BINARY, true, 125), 2);
	assert_int_equal(h[0], 0x82);
	assert_int_equal(h[1], 125);
	assert_int_equal(ws_header(h, WS_OP_TEXT, false, 126), 4);
	assert_int_equal(h[0], 0x01);
	assert_int_equal(h[1], 126);
	assert_int_equal(h[2] << 8 | h[3], 126);
	assert_int_equal(ws_header(h, WS_OP_BINARY, true, 65536), 10);
	assert_int_equal(h[1], 127);
	assert_int_equal(h[7], 1);
	assert_int_equal(h[8] | h[9], 0);
	/* Close: the code, then the reason cut to 123 bytes, not inside a character. */
	assert_int_equal(ws_close_payload(p, 1001, "bye"), 5);
	assert_int_equal(ws_close_code(p, 5), 1001);
	assert_memory_equal(p + 2, "bye", 3);
	memset(reason, 'a', sizeof(reason));
	reason[122] = (char)0xc3; /* é across the cut */
	reason[123] = (char)0xa9;
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(ws_close_payload(p, 1000, reason), 2 + 122);
	assert_int_equal(ws_close_code(p, 0), WS_CLOSE_NO_STATUS);
	assert_int_equal(ws_close_code(p, 1), -WS_CLOSE_PROTOCOL);
	p[0] = 0x03;
	p[1] = 0xed; /* 1005: never sent */
	assert_int_equal(ws_close_code(p, 2), -WS_CLOSE_PROTOCOL);
	p[1] = 0xe7; /* 999 */
	assert_int_equal(ws_close_code(p, 2), -WS_CLOSE_PROTOCOL);
	p[0] = 0x0f;
	p[1] = 0xa0; /* 4000: private use */
	assert_int_equal(ws_close_code(p, 2), 4000);
}

/* Whether p is UTF-8 to ws_utf8, whole or cut into fragments at each byte. */
static bool utf8(const char *p)
{
	struct ws_msg m = { 0 }, cut = { 0 };
	const char *why = NULL;
	size_t n = strlen(p);
	int whole = ws_utf8(&m, (const uint8_t *)p, n, true, &why), split = 0;

	for (size_t i = 0; i < n && split == 0; i++)
		split = ws_utf8(&cut, (const uint8_t *)p + i, 1, i + 1 == n, &why);
	assert_int_equal(whole, split);
	assert_true(whole == 0 || (whole == -WS_CLOSE_NOT_UTF8 && why != NULL));
	return whole == 0;
}

static void test_utf8(void **state)
{
	struct ws_msg m = { 0 };
	const char *why = NULL;
	struct ws_frame text = { .fin = true, .op = WS_OP_TEXT };
	uint8_t p[8] = { 0x03, 0xe8, 'o', 'k', 0xff };

	(void)state;
	assert_true(utf8(""));
	assert_true(utf8("echo hi\n"));
	assert_true(utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xed\x9f\xbf"));
	assert_false(utf8("\xff"));
	assert_false(utf8("a\x80"));            /* a continuation alone */
	assert_false(utf8("\xc0\xaf"));         /* overlong */
	assert_false(utf8("\xe0\x80\xaf"));     /* overlong */
	assert_false(utf8("\xf0\x8f\xbf\xbf")); /* overlong */
	assert_false(utf8("\xed\xa0\x80"));     /* a surrogate */
	assert_false(utf8("\xf4\x90\x80\x80")); /* past U+10FFFF */
	assert_false(utf8("\xf5\x80\x80\x80"));
	assert_false(utf8("\xc3("));      /* cut by an ASCII byte */
	assert_false(utf8("ok\xe2\x82")); /* cut at the message's end */
	/* Not at a fragment's end: the character goes on in the next one. */
	assert_int_equal(ws_utf8(&m, (const uint8_t *)"\xe2\x82", 2, false, &why), 0);
	/* A new message starts afresh (ws_sequence). */
	assert_int_equal(ws_sequence(&m, &text, &why), 0);
	assert_int_equal(ws_utf8(&m, (const uint8_t *)"a", 1, true, &why), 0);
	/* A close frame's reason. */
	assert_int_equal(ws_close_code(p, 4), 1000);
	assert_int_equal(ws_close_code(p, 5), -WS_CLOSE_NOT_UTF8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key),    cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_parse_lengths), cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_sequence),      cmocka_unit_test(test_server_frames),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
