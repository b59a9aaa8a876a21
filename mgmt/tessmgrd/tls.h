/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's TLS material: the certificate chain and private key of
 * http.tls_cert and http.tls_key, read into memory and checked with GnuTLS
 * (a pair, parsed, the key private to its owner) before the listener or
 * --check trusts them; http.tls_priorities checked the same way.
 */
#ifndef TESS_MGR_TLS_H
#define TESS_MGR_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "mgr_config.h"

struct mgr_tls {
	char *cert; /* PEM, NUL-terminated, malloc()ed */
	char *key;
	const char *priorities;
};

/* Whether the config asks for HTTPS (http.tls_cert set). */
bool mgr_tls_enabled(const struct mgr_http_cfg *c);
/* Reads and checks; 0, or -errno with err[] naming the key and the file. */
int mgr_tls_load(const struct mgr_http_cfg *c, struct mgr_tls *out, char *err, size_t len);
/* Wipes the key, frees both. */
void mgr_tls_free(struct mgr_tls *t);

/*
 * What the HTTPS server presents, swapped without a restart (SIGHUP): t
 * (loaded) becomes the certificate and key of the handshakes that start
 * from now on. 0; 1 when they are the current ones (nothing changes); or
 * -errno with err[] filled (the current ones kept).
 */
int mgr_tls_install(const struct mgr_tls *t, char *err, size_t len);
/* For the server: a gnutls_certificate_retrieve_function2 giving the installed pair. */
void *mgr_tls_retrieve_fn(void);
/*
 * For the server's connection notifications: a connection started (before its
 * handshake: *ctx is set; session, its gnutls_session_t, finds it at the handshake) or
 * ended (*ctx cleared). A replaced pair, its key wiped, is freed once no open
 * connection's handshake holds it.
 */
void mgr_tls_conn(void **ctx, bool started, void *session);
/* Pairs in memory now: the current one, and replaced ones a connection may hold. */
unsigned mgr_tls_pairs(void);
/* Frees every pair installed: after the server stopped. */
void mgr_tls_uninstall(void);

#endif
