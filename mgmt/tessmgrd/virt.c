/* SPDX-License-Identifier: BSD-3-Clause */
#include "virt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "capacity.h"
#include "fault.h"
#include "image.h"
#include "tlog.h"

/*
 * A host's connection. Requests, jobs and the resource manager use it without mgr.lock while a
 * provider's PUT or DELETE of the host may replace or drop it: each user holds a reference
 * (find() takes one under conns_lock, put() drops it), the list holds one, and the last one
 * closes and frees it (review 1.1).
 */
struct conn {
	uint32_t host_id;
	unsigned refs; /* under conns_lock */
	virConnectPtr c;
	bool test;
	char node_file[PATH_MAX]; /* test host */
	char spec_header[1024];   /* test host: the <cpu>/<memory> part of its node file */
	/* Under conns_lock: no longer the host's (replaced by a reconnect, or closed). Its test
	 * driver's domains are then an old copy: its users must not save them over the file
	 * the host's current connection reads and writes. */
	bool superseded;
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * One writer of a test host's node file at a time, whichever its connection. mgr_virt_open
 * holds it from reading the file until its connection replaces the old one, so a save by the
 * old one lands before (and is read) or is skipped after, never lost in between.
 */
static pthread_mutex_t node_locks[64] = { [0 ... 63] = PTHREAD_MUTEX_INITIALIZER };
static struct conn **conns;
static uint32_t n_conns;
/* libvirt's event loop: remote connections notice a closed socket and send keepalives. */
static pthread_t events;
static bool events_on, events_stop;
/* Disabled until shutdown, when it wakes the loop up to see events_stop. Made with the loop:
 * a timer that could not be added at shutdown left the loop in poll() and the join hung. */
static int wake_timer = -1;
static unsigned keepalive_sec;
static char state_dir[PATH_MAX] = "/var/lib/tessera";

void mgr_virt_set_state_dir(const char *dir)
{
	snprintf(state_dir, sizeof(state_dir), "%s", dir);
}

static void last_error(char *err, size_t len, const char *what)
{
	const virError *e = virGetLastError();

	snprintf(err, len, "%s: %s", what, e && e->message ? e->message : "libvirt error");
}

static void conn_free(struct conn *k)
{
	if (k->c)
		virConnectClose(k->c);
	free(k);
}

/* The host's connection with a reference the caller drops with put(); NULL if none. */
static struct conn *find(uint32_t host_id)
{
	struct conn *c = NULL;

	pthread_mutex_lock(&conns_lock);
	for (uint32_t i = 0; i < n_conns && c == NULL; i++) {
		if (conns[i]->host_id == host_id) {
			c = conns[i];
			c->refs++;
		}
	}
	pthread_mutex_unlock(&conns_lock);
	return c;
}

static void put(struct conn *k)
{
	bool last;

	if (k == NULL)
		return;
	pthread_mutex_lock(&conns_lock);
	last = --k->refs == 0;
	pthread_mutex_unlock(&conns_lock);
	if (last)
		conn_free(k); /* libvirt may be slow: not under the lock */
}

/* Quiet: errors are returned with their message, not printed by libvirt. */
static void silent(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e;
}

/* ---- test-driver hosts ---- */

static const char test_ns[] = "http://libvirt.org/schemas/domain/test/1.0";

/*
 * Writes the node file: the host's shape, then every domain of c (if any)
 * with its run state, so the simulated host keeps them across restarts.
 */
static int save_node(struct conn *k, virConnectPtr c, char *err, size_t len)
{
	char tmp[PATH_MAX + 8];
	virDomainPtr *doms = NULL;
	int n = 0, rc = 0, fd;
	FILE *f = NULL;

	if (c && (n = virConnectListAllDomains(c, &doms, 0)) < 0) {
		last_error(err, len, "listing domains");
		return -EIO;
	}
	/* Its own temporary file: a replaced connection still in use may save at the same time.
	 * mkstemp makes it 0600: it holds VIR_DOMAIN_XML_SECURE data. */
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", k->node_file);
	fd = mkstemp(tmp);
	if (fd >= 0 && (f = fdopen(fd, "w")) == NULL)
		close(fd);
	if (f == NULL) {
		snprintf(err, len, "cannot write %s: %s", tmp, strerror(errno));
		rc = -errno;
		goto out;
	}
	fprintf(f, "<node>\n%s", k->spec_header);
	for (int i = 0; i < n; i++) {
		char *xml = virDomainGetXMLDesc(doms[i],
						VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
		int active = virDomainIsActive(doms[i]);
		char *body = xml ? strchr(xml, '>') : NULL,
		     *end = xml ? strstr(xml, "</domain>") : NULL;
		if (body == NULL || end == NULL || end < body) {
			free(xml);
			continue;
		}
		/* Same domain, with the test driver's run state: 5 (shut off) unless it runs. */
		*end = '\0';
		fprintf(f, "<domain type='test' xmlns:test='%s'>%s%s</domain>\n", test_ns, body + 1,
			active == 1 ? "" : "  <test:runstate>5</test:runstate>\n");
		free(xml);
	}
	fprintf(f, "</node>\n");
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, len, "cannot write %s: %s", tmp, strerror(errno));
		rc = -EIO;
	}
	fclose(f);
	if (rc == 0 && rename(tmp, k->node_file) != 0) {
		snprintf(err, len, "cannot rename %s: %s", tmp, strerror(errno));
		rc = -errno;
	}
	if (rc == 0 && (rc = mgr_fsync_dir(k->node_file)) < 0)
		snprintf(err, len, "cannot sync the directory of %s: %s", k->node_file,
			 strerror(-rc));
	if (rc < 0)
		unlink(tmp);
out:
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	return rc;
}

/* After a change of a test host's domains: its node file follows. */
static void persist(struct conn *k)
{
	pthread_mutex_t *lk = &node_locks[k->host_id % 64];
	char err[256];
	bool superseded;

	if (!k->test)
		return;
	pthread_mutex_lock(lk);
	pthread_mutex_lock(&conns_lock);
	superseded = k->superseded;
	pthread_mutex_unlock(&conns_lock);
	if (!superseded && save_node(k, k->c, err, sizeof(err)) < 0)
		tlog(LOG_WARNING, TLOG_F(.host = k->host_id), "test host %u: %s", k->host_id, err);
	pthread_mutex_unlock(lk);
}

static int prepare_test_host(struct conn *k, const struct mgr_host *h, char *err, size_t len)
{
	const struct mgr_test_host_spec *t = &h->spec.test_host;
	char dir[PATH_MAX], uri[PATH_MAX + 16];
	virConnectPtr old = NULL;
	int rc;

	if (snprintf(dir, sizeof(dir), "%s/hosts", state_dir) >= (int)sizeof(dir) ||
	    snprintf(k->node_file, sizeof(k->node_file), "%s/%s.xml", dir, h->spec.name) >=
		    (int)sizeof(k->node_file)) {
		snprintf(err, len, "state_dir %s is too long", state_dir);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, len, "cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	snprintf(k->spec_header, sizeof(k->spec_header),
		 "  <cpu>\n    <nodes>1</nodes>\n    <sockets>%u</sockets>\n    <cores>%u</cores>\n"
		 "    <threads>%u</threads>\n    <active>%u</active>\n    <mhz>3000</mhz>\n"
		 "    <model>x86_64</model>\n  </cpu>\n  <memory>%llu</memory>\n",
		 t->sockets, t->cores, t->threads, t->sockets * t->cores * t->threads,
		 (unsigned long long)t->memory_mb * 1024);
	/* Domains the host had stay; its shape follows the spec. */
	if (access(k->node_file, R_OK) == 0) {
		snprintf(uri, sizeof(uri), "test://%s", k->node_file);
		old = virConnectOpen(uri);
		if (old == NULL) {
			last_error(err, len, k->node_file);
			return -EIO;
		}
	}
	rc = save_node(k, old, err, len);
	if (old)
		virConnectClose(old);
	return rc;
}

/* ---- topology ---- */

/* An attribute's number in a tag ("socket_id='1'"), or -1. */
static long attr(const char *tag, const char *end, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), " %s='", name);
	p = strstr(tag, key);
	if (p == NULL || p > end)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

/*
 * The host's CPUs: from the capabilities' NUMA cells (each CPU with its
 * socket and core), or, where there are none (the test driver), from the
 * node info in Linux's numbering (thread siblings ncores apart).
 */
static int read_topology(virConnectPtr c, const virNodeInfo *ni, struct mgr_topo *t)
{
	uint16_t socket_of[MGR_MAX_CPUS], core_of[MGR_MAX_CPUS];
	char *caps = virConnectGetCapabilities(c);
	unsigned n = 0;
	const char *p = caps;

	while (p && (p = strstr(p, "<cpu id='")) != NULL) {
		const char *end = strchr(p, '>');
		long id = attr(p, end, "id"), sock = attr(p, end, "socket_id"),
		     core = attr(p, end, "core_id");
		if (end == NULL || id < 0 || sock < 0 || core < 0 || id >= MGR_MAX_CPUS)
			break;
		socket_of[id] = (uint16_t)sock;
		core_of[id] = (uint16_t)core;
		n = (unsigned)id + 1 > n ? (unsigned)id + 1 : n;
		p = end;
	}
	free(caps);
	if (n == ni->cpus && mgr_topo_set(t, n, socket_of, core_of) == 0)
		return 0;
	n = ni->cpus;
	if (n == 0 || n > MGR_MAX_CPUS)
		return -EINVAL;
	unsigned cores = ni->sockets * ni->cores * ni->nodes;
	if (cores == 0 || n % cores)
		cores = n;
	for (unsigned i = 0; i < n; i++) {
		unsigned core = i % cores;
		socket_of[i] = (uint16_t)(core / (ni->cores ? ni->cores : 1));
		core_of[i] = (uint16_t)(core % (ni->cores ? ni->cores : 1));
	}
	return mgr_topo_set(t, n, socket_of, core_of);
}

/* ---- connections ---- */

static void *event_loop(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&events_stop, __ATOMIC_ACQUIRE))
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

static void wake(int timer, void *arg)
{
	(void)timer;
	(void)arg;
}

int mgr_virt_init(unsigned keepalive)
{
	virSetErrorFunc(NULL, silent);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
		return -EIO;
	keepalive_sec = keepalive;
	events_stop = false;
	if (MGR_FAULT("virt.wake_timer", NULL, 0) < 0 ||
	    (wake_timer = virEventAddTimeout(-1, wake, NULL, NULL)) < 0)
		return -ENOMEM;
	if (pthread_create(&events, NULL, event_loop, NULL) != 0) {
		virEventRemoveTimeout(wake_timer);
		wake_timer = -1;
		return -EAGAIN;
	}
	events_on = true;
	return 0;
}

int mgr_virt_alive(uint32_t host_id)
{
	struct conn *k = find(host_id);
	int rc;

	if (k == NULL)
		return -EHOSTUNREACH;
	rc = virConnectIsAlive(k->c) == 1;
	put(k);
	return rc;
}

int mgr_virt_open(struct mgr_host *h, char *err, size_t len)
{
	struct conn *k = calloc(1, sizeof(*k)), *old = NULL;
	pthread_mutex_t *node_lock = NULL;
	char uri[PATH_MAX + 16];
	virNodeInfo ni;
	int rc;

	if (k == NULL)
		return -ENOMEM;
	virSetErrorFunc(NULL, silent);
	k->host_id = h->id;
	k->refs = 1; /* the list's */
	k->test = h->spec.test_host.sockets > 0;
	if (k->test) {
		node_lock = &node_locks[h->id % 64];
		pthread_mutex_lock(node_lock);
		rc = prepare_test_host(k, h, err, len);
		if (rc < 0)
			goto fail;
		snprintf(uri, sizeof(uri), "test://%s", k->node_file);
	} else {
		snprintf(uri, sizeof(uri), "%s", h->spec.uri);
	}
	k->c = virConnectOpen(uri);
	if (k->c == NULL) {
		last_error(err, len, uri);
		rc = -EHOSTUNREACH;
		goto fail;
	}
	if (virNodeGetInfo(k->c, &ni) < 0) {
		last_error(err, len, "node info");
		rc = -EIO;
		goto fail;
	}
	/* Where the driver has them (remote): a peer that stops answering is dropped. */
	if (events_on && keepalive_sec)
		virConnectSetKeepAlive(k->c, (int)keepalive_sec, 5);
	h->memory_mb = ni.memory / 1024;
	rc = read_topology(k->c, &ni, &h->topo);
	if (rc < 0) {
		snprintf(err, len, "%s: CPU topology not understood (%u CPUs)", uri, ni.cpus);
		goto fail;
	}
	/* In place of the host's connection (if any): one connection per host. */
	pthread_mutex_lock(&conns_lock);
	for (uint32_t i = 0; i < n_conns && old == NULL; i++) {
		if (conns[i]->host_id == h->id) {
			old = conns[i];
			old->superseded = true;
			conns[i] = k;
		}
	}
	if (old == NULL) {
		struct conn **a = realloc(conns, (n_conns + 1) * sizeof(*a));
		if (a == NULL) {
			pthread_mutex_unlock(&conns_lock);
			rc = -ENOMEM;
			goto fail;
		}
		conns = a;
		conns[n_conns++] = k;
	}
	pthread_mutex_unlock(&conns_lock);
	if (node_lock)
		pthread_mutex_unlock(node_lock);
	put(old); /* freed once its users are done */
	return 0;
fail:
	if (node_lock)
		pthread_mutex_unlock(node_lock);
	conn_free(k);
	mgr_virt_close(h->id); /* a host that cannot be reached is not connected */
	return rc;
}

void mgr_virt_close(uint32_t host_id)
{
	struct conn *k = NULL;

	pthread_mutex_lock(&conns_lock);
	for (uint32_t i = 0; i < n_conns; i++) {
		if (conns[i]->host_id == host_id) {
			k = conns[i];
			k->superseded = true;
			conns[i] = conns[--n_conns];
			break;
		}
	}
	pthread_mutex_unlock(&conns_lock);
	put(k); /* the list's reference */
}

void mgr_virt_close_all(void)
{
	struct conn **all;
	uint32_t n;

	pthread_mutex_lock(&conns_lock);
	all = conns;
	n = n_conns;
	conns = NULL;
	n_conns = 0;
	pthread_mutex_unlock(&conns_lock);
	for (uint32_t i = 0; i < n; i++)
		put(all[i]);
	free(all);
	if (events_on) {
		/* The timer wakes the loop up to see it is asked to stop (an update cannot fail).
		 */
		__atomic_store_n(&events_stop, true, __ATOMIC_RELEASE);
		virEventUpdateTimeout(wake_timer, 0);
		pthread_join(events, NULL);
		virEventRemoveTimeout(wake_timer);
		wake_timer = -1;
		events_on = false;
	}
}

/*
 * The domain of uuid on a host and, in *kp, a reference to the host's connection: both
 * go with release(). NULL with err filled (-ENOENT or -EHOSTUNREACH in *rc) and no reference.
 */
static virDomainPtr domain(uint32_t host_id, const char *uuid, struct conn **kp, int *rc, char *err,
			   size_t len)
{
	struct conn *k = find(host_id);
	virDomainPtr d;

	*kp = k;
	if (k == NULL) {
		snprintf(err, len, "host %u is not connected", host_id);
		*rc = -EHOSTUNREACH;
		return NULL;
	}
	d = virDomainLookupByUUIDString(k->c, uuid);
	if (d == NULL) {
		/* Only a domain libvirt does not have is gone: not one a lost connection hides. */
		*rc = virGetLastErrorCode() == VIR_ERR_NO_DOMAIN ? -ENOENT : -EHOSTUNREACH;
		last_error(err, len, "domain");
		put(k);
		*kp = NULL;
	}
	return d;
}

/* After domain(): the domain freed, the host's node file saved if asked, the reference dropped. */
static void release(struct conn *k, virDomainPtr d, bool save)
{
	virDomainFree(d);
	if (save)
		persist(k);
	put(k);
}

int mgr_virt_define(uint32_t host_id, const struct mgr_domain_def *def, char uuid[37], char *err,
		    size_t len)
{
	struct conn *k = find(host_id);
	char *xml = mgr_domain_xml(def);
	virDomainPtr d;
	int rc = 0;

	if (k == NULL || xml == NULL) {
		rc = k ? -ENOMEM : -EHOSTUNREACH;
		snprintf(err, len, k ? "out of memory" : "host %u is not connected", host_id);
		free(xml);
		put(k);
		return rc;
	}
	d = virDomainDefineXML(k->c, xml);
	free(xml);
	if (d == NULL) {
		last_error(err, len, "defining the domain");
		put(k);
		return -EIO;
	}
	if (virDomainGetUUIDString(d, uuid) < 0) {
		last_error(err, len, "domain uuid");
		rc = -EIO;
	}
	release(k, d, true);
	return rc;
}

int mgr_virt_start(uint32_t host_id, const char *uuid, char *err, size_t len)
{
	struct conn *k;
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);

	if (d == NULL)
		return rc;
	if (virDomainIsActive(d) != 1 && virDomainCreate(d) < 0) {
		last_error(err, len, "starting the domain");
		rc = -EIO;
	}
	release(k, d, true);
	return rc;
}

int mgr_virt_stop(uint32_t host_id, const char *uuid, unsigned timeout_sec, char *err, size_t len)
{
	struct conn *k;
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);
	struct timespec t0, now;

	if (d == NULL)
		return rc;
	if (virDomainIsActive(d) == 1) {
		if (virDomainShutdown(d) < 0 && virDomainIsActive(d) == 1) {
			last_error(err, len, "shutting the domain down");
			rc = -EIO;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		/* Graceful first; then forced. */
		while (rc == 0 && virDomainIsActive(d) == 1) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec >= (time_t)timeout_sec) {
				if (virDomainDestroy(d) < 0 && virDomainIsActive(d) == 1) {
					last_error(err, len, "destroying the domain");
					rc = -EIO;
				}
				break;
			}
			usleep(100000);
		}
	}
	release(k, d, true);
	return rc;
}

int mgr_virt_reboot(uint32_t host_id, const char *uuid, char *err, size_t len)
{
	struct conn *k;
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);

	if (d == NULL)
		return rc;
	if (virDomainReboot(d, 0) < 0) {
		last_error(err, len, "rebooting the domain");
		rc = -EIO;
	}
	release(k, d, true);
	return rc;
}

int mgr_virt_undefine(uint32_t host_id, const char *uuid, char *err, size_t len)
{
	struct conn *k;
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);

	if (d == NULL)
		return rc == -ENOENT ? 0 : rc; /* gone already */
	if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0) {
		last_error(err, len, "destroying the domain");
		rc = -EIO;
	}
	if (rc == 0 && virDomainUndefine(d) < 0) {
		last_error(err, len, "undefining the domain");
		rc = -EIO;
	}
	release(k, d, true);
	return rc;
}

struct _virDomain *mgr_virt_domain_get(uint32_t host_id, const char *uuid, char *err, size_t len)
{
	struct conn *k;
	int rc;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);

	if (d)
		put(k); /* the domain holds its connection */
	return d;
}

int mgr_virt_running(uint32_t host_id, const char *uuid)
{
	struct conn *k;
	char err[64];
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, sizeof(err));

	if (d == NULL)
		return rc;
	rc = virDomainIsActive(d);
	release(k, d, false);
	return rc < 0 ? -EIO : rc;
}

int mgr_virt_pin_live(uint32_t host_id, const char *uuid, uint32_t vcpus, const mgr_cpuset *cpus,
		      char *err, size_t len)
{
	unsigned char map[MGR_MAX_CPUS / 8] = { 0 };
	struct conn *k;
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);

	if (d == NULL)
		return rc;
	for (unsigned c = 0; c < MGR_MAX_CPUS; c++)
		if (mgr_cpuset_has(cpus, c))
			map[c / 8] |= (unsigned char)(1u << (c % 8));
	for (uint32_t v = 0; rc == 0 && virDomainIsActive(d) == 1 && v < vcpus; v++) {
		/* LIVE where the driver has it; the test driver only takes flags 0 (current). */
		if (virDomainPinVcpuFlags(d, v, map, sizeof(map), VIR_DOMAIN_AFFECT_LIVE) < 0 &&
		    virDomainPinVcpuFlags(d, v, map, sizeof(map), 0) < 0) {
			last_error(err, len, "pinning vCPUs");
			rc = -EIO;
		}
	}
	/* QEMU's own threads (main loop, I/O, display) follow the partition too: left where
	 * <vcpu cpuset> first put them, they would run on CPUs now another tenant's or
	 * reserved for tessd. The test driver has no emulator threads (no support). */
	if (rc == 0 && virDomainIsActive(d) == 1 &&
	    virDomainPinEmulator(d, map, sizeof(map), VIR_DOMAIN_AFFECT_LIVE) < 0 &&
	    virGetLastErrorCode() != VIR_ERR_NO_SUPPORT) {
		last_error(err, len, "pinning the emulator threads");
		rc = -EIO;
	}
	release(k, d, false);
	return rc;
}

int mgr_virt_bandwidth_live(uint32_t host_id, const char *uuid, uint32_t shares, uint32_t period_us,
			    uint32_t quota_us, char *err, size_t len)
{
	virTypedParameter p[3] = { 0 };
	struct conn *k;
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);

	if (d == NULL)
		return rc;
	snprintf(p[0].field, sizeof(p[0].field), "%s", VIR_DOMAIN_SCHEDULER_VCPU_PERIOD);
	p[0].type = VIR_TYPED_PARAM_ULLONG;
	p[0].value.ul = period_us;
	snprintf(p[1].field, sizeof(p[1].field), "%s", VIR_DOMAIN_SCHEDULER_VCPU_QUOTA);
	p[1].type = VIR_TYPED_PARAM_LLONG;
	p[1].value.l = quota_us ? (long long)quota_us : -1; /* -1: no limit */
	snprintf(p[2].field, sizeof(p[2].field), "%s", VIR_DOMAIN_SCHEDULER_CPU_SHARES);
	p[2].type = VIR_TYPED_PARAM_ULLONG;
	p[2].value.ul = shares;
	/* LIVE only: the caller has just redefined the saved config with the same cputune. */
	if (virDomainIsActive(d) == 1 &&
	    virDomainSetSchedulerParametersFlags(d, p, 3, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		last_error(err, len, "setting vCPU bandwidth");
		rc = -EOPNOTSUPP;
	}
	release(k, d, false);
	return rc;
}

int mgr_virt_cpu_time(uint32_t host_id, const char *uuid, uint64_t *ns)
{
	struct conn *k;
	char err[64];
	int rc = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, sizeof(err));
	virDomainInfo info;

	if (d == NULL)
		return rc;
	rc = virDomainGetInfo(d, &info) < 0 ? -EIO : 0;
	*ns = info.cpuTime;
	release(k, d, false);
	return rc;
}

/* The text of <tag>...</tag> inside xml, or "". */
static void tag_text(const char *xml, const char *tag, char *out, size_t len)
{
	char open[64];
	const char *p, *e;

	out[0] = '\0';
	snprintf(open, sizeof(open), "<%s>", tag);
	p = xml ? strstr(xml, open) : NULL;
	if (p == NULL)
		return;
	p += strlen(open);
	e = strchr(p, '<');
	if (e && (size_t)(e - p) < len) {
		memcpy(out, p, (size_t)(e - p));
		out[e - p] = '\0';
	}
}

static const char *state_name(int st)
{
	switch (st) {
	case VIR_DOMAIN_RUNNING:
		return "running";
	case VIR_DOMAIN_PAUSED:
		return "paused";
	case VIR_DOMAIN_SHUTOFF:
		return "shutoff";
	case VIR_DOMAIN_SHUTDOWN:
		return "shutting-down";
	case VIR_DOMAIN_CRASHED:
		return "crashed";
	default:
		return "other";
	}
}

static json_t *describe(virDomainPtr d)
{
	char uuid[VIR_UUID_STRING_BUFLEN] = "", id[16], tenant[MGR_NAME_LEN], vlan[MGR_NAME_LEN];
	char *meta = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, MGR_XML_NS, 0);
	virDomainInfo info = { 0 };
	int st = 0, reason;
	json_t *o;

	virDomainGetUUIDString(d, uuid);
	virDomainGetState(d, &st, &reason, 0);
	virDomainGetInfo(d, &info);
	o = json_pack("{s:s, s:s, s:s, s:i, s:I}", "name", virDomainGetName(d), "uuid", uuid,
		      "state", state_name(st), "vcpus", (int)info.nrVirtCpu, "memory_mb",
		      (json_int_t)(info.maxMem / 1024));
	if (meta) {
		tag_text(meta, "id", id, sizeof(id));
		tag_text(meta, "tenant", tenant, sizeof(tenant));
		tag_text(meta, "vlan_name", vlan, sizeof(vlan));
		json_object_set_new(o, "desktop_id", json_integer(strtol(id, NULL, 10)));
		json_object_set_new(o, "tenant", json_string(tenant));
		json_object_set_new(o, "vlan_name", json_string(vlan));
		free(meta);
	}
	return o;
}

json_t *mgr_virt_domain_info(uint32_t host_id, const char *uuid)
{
	unsigned char maps[256 * (MGR_MAX_CPUS / 8)];
	struct conn *k;
	char err[256];
	int rc = 0, n;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, sizeof(err));
	json_t *o, *pins;
	char *xml, *p, *e;
	int maplen = MGR_MAX_CPUS / 8;

	if (d == NULL)
		return NULL;
	o = describe(d);
	pins = json_array();
	n = virDomainGetVcpuPinInfo(d, 256, maps, maplen, 0);
	for (int v = 0; v < n; v++) {
		mgr_cpuset s = { 0 };
		char buf[MGR_CPUSET_STRLEN];
		for (int c = 0; c < MGR_MAX_CPUS; c++)
			if (VIR_CPU_USABLE(maps, maplen, v, c))
				mgr_cpuset_add(&s, (unsigned)c);
		if (mgr_cpuset_format(&s, buf, sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "?");
		json_array_append_new(pins, json_string(buf));
	}
	json_object_set_new(o, "vcpu_pins", pins);
	xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	p = xml ? strstr(xml, "<cputune>") : NULL;
	e = p ? strstr(p, "</cputune>") : NULL;
	if (e) {
		e[strlen("</cputune>")] = '\0';
		json_object_set_new(o, "saved_cputune", json_string(p));
	}
	free(xml);
	release(k, d, false);
	return o;
}

json_t *mgr_virt_list(uint32_t host_id, char *err, size_t len)
{
	struct conn *k = find(host_id);
	virDomainPtr *doms = NULL;
	json_t *a;
	int n;

	if (k == NULL) {
		snprintf(err, len, "host %u is not connected", host_id);
		return NULL;
	}
	n = virConnectListAllDomains(k->c, &doms, 0);
	if (n < 0) {
		last_error(err, len, "listing domains");
		put(k);
		return NULL;
	}
	a = json_array();
	for (int i = 0; i < n; i++) {
		json_array_append_new(a, describe(doms[i]));
		virDomainFree(doms[i]);
	}
	free(doms);
	put(k);
	return a;
}

int mgr_virt_migrate_live(uint32_t host_id, const char *uuid, const char *dest_uri,
			  const struct mgr_domain_def *dest, bool shared_disk, char *err,
			  size_t len)
{
	struct conn *k;
	int rc = 0, n = 0, max = 0;
	virDomainPtr d = domain(host_id, uuid, &k, &rc, err, len);
	virTypedParameterPtr params = NULL;
	char *xml = NULL;
	/* Between sites the overlay is the only disk not shared: copied incrementally over its
	 * base, which the target site has the same version of. Within a site it is shared. */
	const unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST |
			       VIR_MIGRATE_UNDEFINE_SOURCE |
			       (shared_disk ? 0 : VIR_MIGRATE_NON_SHARED_INC);

	if (d == NULL)
		return rc;
	xml = mgr_domain_xml(dest);
	if (xml == NULL ||
	    virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_DEST_XML, xml) < 0 ||
	    (!shared_disk && virTypedParamsAddString(&params, &n, &max,
						     VIR_MIGRATE_PARAM_MIGRATE_DISKS, "vda") < 0)) {
		snprintf(err, len, "out of memory");
		rc = -ENOMEM;
	} else if (virDomainMigrateToURI3(d, dest_uri, params, (unsigned)n, flags) < 0) {
		last_error(err, len, "live migration");
		rc = -EIO;
	}
	virTypedParamsFree(params, n);
	free(xml);
	release(k, d, true);
	return rc;
}
