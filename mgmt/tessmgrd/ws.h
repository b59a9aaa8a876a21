/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * WebSocket (RFC 6455) for a server: the opening handshake's answer key and
 * header tokens, the parsing of client frames (masked, at most max bytes of
 * payload, the fragmentation rules) and the server's unmasked frames. No I/O:
 * the console relay (console_relay.c) reads and writes, the unit tests and
 * the fuzzer feed bytes.
 */
#ifndef TESS_MGR_WS_H
#define TESS_MGR_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WS_MAX_FRAME   (1u << 20) /* a client frame's payload beyond: close 1009 */
#define WS_MAX_HEADER  14         /* 2 + 8 (length) + 4 (mask) */
#define WS_ACCEPT_LEN  29         /* base64 of a SHA-1, NUL */
#define WS_MAX_CONTROL 125

enum ws_op {
	WS_OP_CONT = 0,
	WS_OP_TEXT = 1,
	WS_OP_BINARY = 2,
	WS_OP_CLOSE = 8,
	WS_OP_PING = 9,
	WS_OP_PONG = 10,
};

enum ws_close {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005, /* never sent: a close frame without a code */
	WS_CLOSE_NOT_UTF8 = 1007,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

struct ws_frame {
	bool fin;
	uint8_t op;
	uint8_t *payload; /* inside the parsed buffer, unmasked in place */
	size_t len;
};

/*
 * A message's fragments seen so far: the opcode of the one in progress (0: none) and, for a
 * text message, where its UTF-8 check is (a character may be cut between fragments): the
 * continuation bytes still due and the range of the next one.
 */
struct ws_msg {
	uint8_t op;
	uint8_t need, lo, hi;
};

/*
 * The Sec-WebSocket-Accept value of a Sec-WebSocket-Key (24 base64
 * characters, 16 bytes): 0 with out set, -EINVAL for a malformed key.
 */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN]);
/* Whether a comma-separated header value (NULL: none) lists token (case-insensitive or not). */
bool ws_has_token(const char *header, const char *token, bool nocase);

/*
 * The frame at buf[0, n): its size (header and payload, > 0) with *f set
 * and the payload unmasked in place; 0 when more bytes are needed; or
 * -(a close code) with *why set: an unmasked frame, a reserved bit or
 * opcode, a bad control frame (1002), a payload over max (1009, known from
 * the header alone).
 */
ssize_t ws_parse(uint8_t *buf, size_t n, size_t max, struct ws_frame *f, const char **why);
/*
 * A frame in a message's sequence (control frames may come between
 * fragments): 0, or -1002 with *why (a continuation of nothing, a new data
 * frame inside a message).
 */
int ws_sequence(struct ws_msg *m, const struct ws_frame *f, const char **why);

/*
 * The next n bytes of a text message (RFC 6455 8.1: UTF-8 only), fin at its last fragment,
 * checked from where m's last left off: 0, or -1007 with *why (a byte that cannot be there, an
 * overlong form, a surrogate, a code point past U+10FFFF, a character cut at the end). Call
 * ws_sequence first: a new message starts the check afresh.
 */
int ws_utf8(struct ws_msg *m, const uint8_t *p, size_t n, bool fin, const char **why);

/* A server frame's header (unmasked) for len bytes of payload: its size (2 to 10). */
size_t ws_header(uint8_t out[WS_MAX_HEADER], uint8_t op, bool fin, uint64_t len);
/* A close frame's payload: code, then reason cut to fit a control frame. Its size. */
size_t ws_close_payload(uint8_t out[WS_MAX_CONTROL], uint16_t code, const char *reason);
/* The code of a close frame's payload (1005 if none), or -1002 if it is malformed, -1007 if
 * its reason is not UTF-8. */
int ws_close_code(const uint8_t *p, size_t len);

#endif
