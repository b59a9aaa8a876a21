/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Desktop consoles (README "Desktop console"): POST /v1/desktops/ID/console
 * gives a single-use ticket (random 256 bits, kept as its SHA-256), bound to
 * the principal that asked and its browser session, for ticket_ttl_sec; GET
 * /v1/console/TICKET upgrades to a WebSocket (ws.h) whose binary frames carry
 * the desktop's VNC (RFB) or serial console bytes both ways, relayed by a
 * thread of its own (console_relay.c). At most max_sessions tickets and
 * consoles at once. A console ends when the desktop stops, moves or is
 * deleted, its session ends, it is idle idle_sec, or tessmgrd stops.
 */
#ifndef TESS_MGR_CONSOLE_H
#define TESS_MGR_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "mgr_config.h"
#include "spec.h"
#include "token.h"

enum console_type { CONSOLE_VNC, CONSOLE_SERIAL };
extern const char *const console_type_names[];

enum console_state { CONSOLE_FREE, CONSOLE_TICKET, CONSOLE_PENDING, CONSOLE_LIVE };

/* A ticket, then (once used) an upgrade on its way, then a console relayed. */
struct console {
	enum console_state state;
	uint32_t id;                      /* of the upgrade (the handle MHD calls back with) */
	uint8_t digest[MGR_TOKEN_DIGEST]; /* the ticket's SHA-256 */
	uint64_t until_ms;                /* a ticket's expiry, an upgrade's deadline */
	uint8_t type;
	uint32_t desktop_id, host_id;
	char desktop[64], uuid[37], tenant[64];
	char uri[MGR_URI_LEN]; /* the host's libvirt URI when the ticket was given */
	struct mgr_token who;  /* the principal it is bound to */
	uint8_t session[32];   /* and its session's cookie digest, if it came with one */
	bool has_session;
	/* A live console's. */
	int fd;       /* the WebSocket's (MHD's; never close()d: http_upgrade_close) */
	void *handle; /* for http_upgrade_close */
	char *extra;  /* bytes read after the request */
	size_t n_extra;
	uint64_t started_ms, last_input_ms, bytes_in, bytes_out;
};

/* At start: the table of config's max_sessions slots; 0 or -ENOMEM. */
int mgr_console_init(void);
/* At shutdown (before http_stop): nothing new opens; every console closes (1001) and
 * every console and upgrade on its way is waited for, however long it takes. */
void mgr_console_stop_all(void);
/* Live consoles now. */
unsigned mgr_console_live(void);

/* For the relay (console_relay.c): milliseconds on the monotonic clock. */
uint64_t console_now_ms(void);
/*
 * Whether k may go on: 0, or a close code with reason (the desktop stopped,
 * moved or was deleted, the session ended, idle, tessmgrd is stopping).
 */
int console_check(const struct console *k, char *reason, size_t len);
/* Whether mgr_console_stop_all has begun. */
bool console_stopping(void);
/* The end of a console: its WebSocket closed, audited, its slot freed (k with it). */
void console_done(struct console *k, int code, const char *reason);
/*
 * Whether libvirt's uri reaches the host's own daemon over a local socket (a
 * descriptor of QEMU's VNC display can be passed to us then; over qemu+ssh://
 * the display is reached with ssh -W instead).
 */
bool console_local_uri(const char *uri);
/* The relay thread of a live console. */
void *console_relay(void *arg);

#endif
