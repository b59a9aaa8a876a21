/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console's WebSocket parser (ws.h): the input as a client's byte
 * stream, cut into frames as the relay does (each frame's payload unmasked
 * in place, the fragmentation rules, text messages' UTF-8, a close frame's
 * code), until it needs more bytes or refuses one; and its first line as
 * the handshake's headers (a Sec-WebSocket-Key, a token list).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan sees a read past the input. */
	uint8_t *buf = malloc(size ? size : 1);
	char *text = malloc(size + 1), out[WS_ACCEPT_LEN];
	struct ws_msg m = { 0 };
	size_t at = 0;

	if (buf == NULL || text == NULL)
		abort();
	memcpy(buf, data, size);
	for (;;) {
		struct ws_frame f;
		const char *why = NULL;
		/* A small limit too: the 16-bit length's refusal. */
		ssize_t n = ws_parse(buf + at, size - at, size & 1 ? 300 : WS_MAX_FRAME, &f, &why);
		if (n <= 0) {
			if (n < 0 && (why == NULL || (-n != 1002 && -n != 1009)))
				abort();
			break;
		}
		if ((size_t)n > size - at || f.payload + f.len > buf + size)
			abort();
		at += (size_t)n;
		uint8_t op = f.op == WS_OP_CONT ? m.op : f.op;
		if (ws_sequence(&m, &f, &why) < 0)
			break;
		if (op == WS_OP_TEXT && ws_utf8(&m, f.payload, f.len, f.fin, &why) < 0 &&
		    why == NULL)
			abort();
		if (f.op == WS_OP_CLOSE)
			(void)ws_close_code(f.payload, f.len);
	}
	memcpy(text, data, size);
	text[size] = '\0';
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	if (ws_accept_key(text, out) == 0 && strlen(out) != WS_ACCEPT_LEN - 1)
		abort();
	(void)ws_has_token(text, "binary", false);
	(void)ws_has_token(text, "upgrade", true);
	free(buf);
	free(text);
	return 0;
}
