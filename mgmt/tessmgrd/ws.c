/* SPDX-License-Identifier: BSD-3-Clause */
#include "ws.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding of n bytes: 4 * ceil(n / 3) characters and a NUL. */
static void base64(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char buf[24 + sizeof(guid)];
	uint8_t sha[20];

	/* 16 random bytes in base64: 22 characters of the alphabet, then "==". */
	if (key == NULL || strlen(key) != 24 || strcmp(key + 22, "==") != 0)
		return -EINVAL;
	for (int i = 0; i < 22; i++)
		if (strchr(b64, key[i]) == NULL || key[i] == '\0')
			return -EINVAL;
	memcpy(buf, key, 24);
	memcpy(buf + 24, guid, sizeof(guid));
	/* SHA-1 is what RFC 6455 names; no secret rests on it. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, 24 + sizeof(guid) - 1, sha) < 0)
		return -EINVAL;
	base64(sha, sizeof(sha), out);
	return 0;
}

bool ws_has_token(const char *header, const char *token, bool nocase)
{
	size_t n = strlen(token);

	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *last = end;
		while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if ((size_t)(last - p) == n &&
		    (nocase ? strncasecmp(p, token, n) : strncmp(p, token, n)) == 0)
			return true;
		p = end;
	}
	return false;
}

ssize_t ws_parse(uint8_t *buf, size_t n, size_t max, struct ws_frame *f, const char **why)
{
	size_t hdr = 2;
	uint64_t len;
	uint8_t *mask;

	if (n < 2)
		return 0;
	f->fin = buf[0] & 0x80;
	f->op = buf[0] & 0x0f;
	len = buf[1] & 0x7f;
	if (buf[0] & 0x70) {
		*why = "a reserved bit is set (no extension was agreed)";
		return -WS_CLOSE_PROTOCOL;
	}
	if (f->op != WS_OP_CONT && f->op != WS_OP_TEXT && f->op != WS_OP_BINARY &&
	    f->op != WS_OP_CLOSE && f->op != WS_OP_PING && f->op != WS_OP_PONG) {
		*why = "a reserved opcode";
		return -WS_CLOSE_PROTOCOL;
	}
	if (!(buf[1] & 0x80)) {
		*why = "a client frame must be masked";
		return -WS_CLOSE_PROTOCOL;
	}
	if (f->op >= WS_OP_CLOSE && (!f->fin || len > WS_MAX_CONTROL)) {
		*why = "a control frame is fragmented or longer than 125 bytes";
		return -WS_CLOSE_PROTOCOL;
	}
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (uint64_t)buf[2] << 8 | buf[3];
		hdr = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | buf[2 + i];
		hdr = 10;
		if (len >> 63) {
			*why = "a length with its most significant bit set";
			return -WS_CLOSE_PROTOCOL;
		}
	}
	if (len > max) {
		*why = "a frame larger than the limit";
		return -WS_CLOSE_TOO_BIG;
	}
	if (n < hdr + 4 || n - hdr - 4 < len)
		return 0;
	mask = buf + hdr;
	f->payload = buf + hdr + 4;
	f->len = (size_t)len;
	for (size_t i = 0; i < f->len; i++)
		f->payload[i] ^= mask[i & 3];
	return (ssize_t)(hdr + 4 + f->len);
}

int ws_sequence(struct ws_msg *m, const struct ws_frame *f, const char **why)
{
	if (f->op >= WS_OP_CLOSE)
		return 0; /* between fragments too */
	if (f->op == WS_OP_CONT && m->op == 0) {
		*why = "a continuation frame without a message";
		return -WS_CLOSE_PROTOCOL;
	}
	if (f->op != WS_OP_CONT && m->op != 0) {
		*why = "a new message before the end of the fragmented one";
		return -WS_CLOSE_PROTOCOL;
	}
	if (f->op != WS_OP_CONT) {
		m->op = f->op;
		m->need = 0;
	}
	if (f->fin)
		m->op = 0;
	return 0;
}

int ws_utf8(struct ws_msg *m, const uint8_t *p, size_t n, bool fin, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (m->need) {
			if (b < m->lo || b > m->hi)
				goto bad;
			m->need--;
			m->lo = 0x80;
			m->hi = 0xbf;
			continue;
		}
		if (b < 0x80)
			continue;
		/* The lead byte sets the count and the second byte's range (RFC 3629 4): what
		 * excludes overlong forms (E0, F0), surrogates (ED) and beyond U+10FFFF (F4). */
		m->lo = 0x80;
		m->hi = 0xbf;
		if (b >= 0xc2 && b <= 0xdf)
			m->need = 1;
		else if (b >= 0xe0 && b <= 0xef)
			m->need = 2;
		else if (b >= 0xf0 && b <= 0xf4)
			m->need = 3;
		else
			goto bad;
		if (b == 0xe0)
			m->lo = 0xa0;
		else if (b == 0xed)
			m->hi = 0x9f;
		else if (b == 0xf0)
			m->lo = 0x90;
		else if (b == 0xf4)
			m->hi = 0x8f;
	}
	if (fin && m->need) {
		*why = "a text message ends inside a UTF-8 character";
		return -WS_CLOSE_NOT_UTF8;
	}
	return 0;
bad:
	*why = "a text message that is not UTF-8";
	return -WS_CLOSE_NOT_UTF8;
}

size_t ws_header(uint8_t out[WS_MAX_HEADER], uint8_t op, bool fin, uint64_t len)
{
	out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

size_t ws_close_payload(uint8_t out[WS_MAX_CONTROL], uint16_t code, const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;

	if (n > WS_MAX_CONTROL - 2)
		n = WS_MAX_CONTROL - 2;
	/* Not inside a UTF-8 character: the reason must stay valid UTF-8. */
	while (n > 0 && reason[n] && ((unsigned char)reason[n] & 0xc0) == 0x80)
		n--;
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	if (n)
		memcpy(out + 2, reason, n);
	return 2 + n;
}

int ws_close_code(const uint8_t *p, size_t len)
{
	int code;

	if (len == 0)
		return WS_CLOSE_NO_STATUS;
	if (len == 1)
		return -WS_CLOSE_PROTOCOL;
	code = p[0] << 8 | p[1];
	/* RFC 6455 7.4: codes an endpoint may send (1004-1006 and 1015 are reserved). */
	if (code < 1000 || (code >= 1004 && code <= 1006) || code == 1015 ||
	    (code > 1015 && code < 3000) || code > 4999)
		return -WS_CLOSE_PROTOCOL;
	/* Its reason is UTF-8 too (RFC 6455 5.5.1). */
	struct ws_msg m = { 0 };
	const char *why;
	if (ws_utf8(&m, p + 2, len - 2, true, &why) < 0)
		return -WS_CLOSE_NOT_UTF8;
	return code;
}
