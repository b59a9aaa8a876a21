/* SPDX-License-Identifier: BSD-3-Clause */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

/* A PEM chain or key larger than this is not one. */
#define TLS_MAX_FILE (1u << 20)

bool mgr_tls_enabled(const struct mgr_http_cfg *c)
{
	return c->tls_cert[0] != '\0';
}

/* The whole file, NUL-terminated; a private one (no group or other bits) if private_. */
static char *read_pem(const char *key, const char *path, bool private_, char *err, size_t len)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, len, "%s %s: %s", key, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_MAX_FILE) {
		snprintf(err, len, "%s %s: not a regular file of at most 1 MiB", key, path);
		goto out;
	}
	/* Checked on the file opened, not its name: no window for a swap. */
	if (private_ && (st.st_mode & 077)) {
		snprintf(err, len,
			 "%s %s: a private key that group or others can access (mode %04o): "
			 "make it private to tessmgrd's user (chmod 600)",
			 key, path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		snprintf(err, len, "%s %s: out of memory", key, path);
		goto out;
	}
	while (used < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, len, "%s %s: %s", key, path,
				 n < 0 ? strerror(errno) : "shorter than its size");
			free(buf);
			buf = NULL;
			goto out;
		}
		used += (size_t)n;
	}
	buf[used] = '\0';
out:
	close(fd);
	return buf;
}

void mgr_tls_free(struct mgr_tls *t)
{
	if (t->key) {
		explicit_bzero(t->key, strlen(t->key));
		free(t->key);
	}
	free(t->cert);
	t->key = t->cert = NULL;
}

int mgr_tls_load(const struct mgr_http_cfg *c, struct mgr_tls *out, char *err, size_t len)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_priority_t prio = NULL;
	const char *at = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->priorities = c->tls_priorities;
	out->cert = read_pem("http.tls_cert", c->tls_cert, false, err, len);
	if (out->cert)
		out->key = read_pem("http.tls_key", c->tls_key, true, err, len);
	if (out->key == NULL)
		goto fail;
	/* What the listener will do with them, done once here: a bad pair fails --check. */
	rc = gnutls_certificate_allocate_credentials(&cred);
	if (rc >= 0) {
		gnutls_datum_t cd = { (unsigned char *)out->cert, (unsigned)strlen(out->cert) };
		gnutls_datum_t kd = { (unsigned char *)out->key, (unsigned)strlen(out->key) };
		rc = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
		gnutls_certificate_free_credentials(cred);
	}
	if (rc < 0) {
		snprintf(err, len, "http.tls_cert %s and http.tls_key %s: %s", c->tls_cert,
			 c->tls_key, gnutls_strerror(rc));
		goto fail;
	}
	rc = gnutls_priority_init(&prio, c->tls_priorities, &at);
	if (rc < 0) {
		snprintf(err, len, "http.tls_priorities '%s': %s%s%s", c->tls_priorities,
			 gnutls_strerror(rc), at ? " at " : "", at ? at : "");
		goto fail;
	}
	gnutls_priority_deinit(prio);
	return 0;
fail:
	mgr_tls_free(out);
	return -EINVAL;
}

/*
 * A pair installed. GnuTLS keeps the pointers retrieve() gives a handshake until the
 * session ends, so a replaced pair stays while a connection holds it: each open
 * connection counts against the pair its handshake got (retrieve() moves the count,
 * found by the connection's session), and a replaced pair goes once it counts none,
 * whatever older or newer pairs are still held.
 */
struct installed {
	gnutls_pcert_st pcert[16]; /* the chain */
	unsigned n;
	gnutls_privkey_t key;
	char *cert_pem, *key_pem; /* to see that a reload changes nothing */
	unsigned conns;           /* open connections whose handshake got it */
	struct installed *older;
};
/* An open connection: its session, and the pair its handshake got (NULL: none yet). */
struct tls_conn {
	void *session;
	struct installed *pair;
	struct tls_conn *next;
};
static struct installed *current; /* atomic: read by the server's threads */
/* Installs, connections' starts, handshakes and ends, frees. */
static pthread_mutex_t pairs_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned n_pairs;
static struct tls_conn *conns; /* open connections */

static void free_installed(struct installed *i)
{
	for (unsigned k = 0; k < i->n; k++)
		gnutls_pcert_deinit(&i->pcert[k]);
	if (i->key)
		gnutls_privkey_deinit(i->key);
	if (i->key_pem) {
		explicit_bzero(i->key_pem, strlen(i->key_pem));
		free(i->key_pem);
	}
	free(i->cert_pem);
	free(i);
}

/* Frees the replaced pairs no connection holds. */
static void sweep_locked(void)
{
	struct installed *cur = __atomic_load_n(&current, __ATOMIC_ACQUIRE);

	if (cur == NULL)
		return;
	for (struct installed **pp = &cur->older; *pp;) {
		struct installed *i = *pp;
		if (i->conns) {
			pp = &i->older;
			continue;
		}
		*pp = i->older;
		free_installed(i);
		n_pairs--;
	}
}

void mgr_tls_conn(void **ctx, bool started, void *session)
{
	pthread_mutex_lock(&pairs_lock);
	if (started) {
		/* Without a record (no memory) its handshake gets no pair: it fails. */
		struct tls_conn *c = calloc(1, sizeof(*c));
		if (c) {
			c->session = session;
			c->next = conns;
			conns = c;
		}
		*ctx = c;
	} else if (*ctx) {
		struct tls_conn *c = *ctx, **pp;
		for (pp = &conns; *pp && *pp != c; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = c->next;
		if (c->pair)
			c->pair->conns--;
		free(c);
		*ctx = NULL;
		sweep_locked();
	}
	pthread_mutex_unlock(&pairs_lock);
}

unsigned mgr_tls_pairs(void)
{
	unsigned n;

	pthread_mutex_lock(&pairs_lock);
	n = n_pairs;
	pthread_mutex_unlock(&pairs_lock);
	return n;
}

int mgr_tls_install(const struct mgr_tls *t, char *err, size_t len)
{
	struct installed *cur = __atomic_load_n(&current, __ATOMIC_ACQUIRE), *i;
	gnutls_datum_t cd = { (unsigned char *)t->cert, (unsigned)strlen(t->cert) };
	gnutls_datum_t kd = { (unsigned char *)t->key, (unsigned)strlen(t->key) };
	int rc;

	if (cur && strcmp(cur->cert_pem, t->cert) == 0 && strcmp(cur->key_pem, t->key) == 0)
		return 1;
	i = calloc(1, sizeof(*i));
	if (i == NULL || (i->cert_pem = strdup(t->cert)) == NULL ||
	    (i->key_pem = strdup(t->key)) == NULL) {
		snprintf(err, len, "out of memory");
		rc = GNUTLS_E_MEMORY_ERROR;
		goto fail;
	}
	i->n = sizeof(i->pcert) / sizeof(i->pcert[0]);
	rc = gnutls_pcert_list_import_x509_raw(i->pcert, &i->n, &cd, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		i->n = 0;
		snprintf(err, len, "http.tls_cert: %s", gnutls_strerror(rc));
		goto fail;
	}
	rc = gnutls_privkey_init(&i->key);
	if (rc >= 0)
		rc = gnutls_privkey_import_x509_raw(i->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		snprintf(err, len, "http.tls_key: %s", gnutls_strerror(rc));
		goto fail;
	}
	pthread_mutex_lock(&pairs_lock);
	i->older = cur;
	__atomic_store_n(&current, i, __ATOMIC_RELEASE);
	n_pairs++;
	sweep_locked(); /* cur too, if no connection is open */
	pthread_mutex_unlock(&pairs_lock);
	return 0;
fail:
	if (i)
		free_installed(i);
	return -EINVAL;
}

static int retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	struct installed *i;
	struct tls_conn *c;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	/* Under the lock: a pair not yet counted could be swept between the load and the count. */
	pthread_mutex_lock(&pairs_lock);
	i = __atomic_load_n(&current, __ATOMIC_ACQUIRE);
	for (c = conns; c && c->session != (void *)s; c = c->next)
		;
	if (i == NULL || c == NULL) {
		pthread_mutex_unlock(&pairs_lock);
		return -1;
	}
	if (c->pair != i) { /* its first handshake, or a new one since a reload */
		if (c->pair)
			c->pair->conns--;
		i->conns++;
		c->pair = i;
	}
	*pcert = i->pcert;
	*pcert_length = i->n;
	*pkey = i->key;
	pthread_mutex_unlock(&pairs_lock);
	return 0;
}

void *mgr_tls_retrieve_fn(void)
{
	/* Type-checked here, handed to the server (an MHD option's pointer) untyped. */
	gnutls_certificate_retrieve_function2 *fn = retrieve;

	return (void *)fn;
}

void mgr_tls_uninstall(void)
{
	pthread_mutex_lock(&pairs_lock);
	struct installed *i = __atomic_exchange_n(&current, NULL, __ATOMIC_ACQ_REL);

	while (i) {
		struct installed *older = i->older;
		free_installed(i);
		i = older;
	}
	/* After http_stop (no connection ends later): records left would point at the
	 * pairs just freed, and leak. */
	while (conns) {
		struct tls_conn *c = conns;
		conns = c->next;
		free(c);
	}
	n_pairs = 0;
	pthread_mutex_unlock(&pairs_lock);
}
