/* SPDX-License-Identifier: BSD-3-Clause */
/* The vhost port backend's control side (vhost.h): sockets, guest callbacks, parking. */
#include "vhost.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include "evloop.h"
#include "log.h"
#include "port.h"
#include "rcu.h"
#include "vhost_datapath.h"
#include "worker.h"

struct dp_vhost dp_vhost[DP_MAX_VHOST];

/* The control thread's view of a vhost port. */
struct vh_port {
	char path[TESS_SOCKPATH_LEN]; /* "": slot free (under paths_lock) */
	char name[TESS_NAME_LEN];     /* the port's, and its tenant label: log lines' fields */
	char tenant[TESS_TENANT_LEN];
	bool registered;
	int kick;        /* our dup of the guest TX ring's kick eventfd, -1: none */
	int kick_src;    /* the library's fd it is a dup of */
	int kick_vid;    /* the device it belongs to */
	int refused_vid; /* the last device refused (the vhost thread's), -1: none */
	/* atomics: callbacks count too */
	uint64_t connects, disconnects, parks, wakes, refused;
};

static struct vh_port vh[DP_MAX_VHOST];
/* Guards vh[].path against the vhost thread's lookups (never held while calling the library). */
static pthread_mutex_t paths_lock = PTHREAD_MUTEX_INITIALIZER;
static int vh_epfd = -1; /* the parked ports' kick eventfds */
static struct ev_handle *vh_ev;
static bool started;

/* A free slot: no path, no kick fd, no device (0 would be fd 0 and device 0). */
static void vh_reset(struct vh_port *v)
{
	*v = (struct vh_port){ .kick = -1, .kick_src = -1, .kick_vid = -1, .refused_vid = -1 };
}

/* No slot has a device or a kick fd until its port opens. */
RTE_INIT(vhost_slots_init)
{
	for (unsigned i = 0; i < DP_MAX_VHOST; i++) {
		dp_vhost[i].vid = -1;
		vh_reset(&vh[i]);
	}
}

static unsigned idx_of(const struct dp_port *p)
{
	return (unsigned)(p->id - DP_MAX_ETHDEV);
}

/*
 * A port's path and log fields as the vhost thread found them: copied under paths_lock,
 * as dp_vhost_close may clear the slot as soon as the lock is dropped.
 */
struct vh_names {
	char path[sizeof(((struct vh_port *)0)->path)];
	char name[sizeof(((struct vh_port *)0)->name)];
	char tenant[sizeof(((struct vh_port *)0)->tenant)];
};

/* Under paths_lock. */
static void names_copy(struct vh_names *n, const struct vh_port *v)
{
	/* Arrays of one size each: each the slot's, terminated (it is made with snprintf). */
	memcpy(n->path, v->path, sizeof(n->path));
	memcpy(n->name, v->name, sizeof(n->name));
	memcpy(n->tenant, v->tenant, sizeof(n->tenant));
}

static int idx_by_path(const char *path, struct vh_names *n)
{
	int found = -1;

	pthread_mutex_lock(&paths_lock);
	for (unsigned i = 0; i < DP_MAX_VHOST && found < 0; i++)
		if (vh[i].path[0] && strcmp(vh[i].path, path) == 0) {
			found = (int)i;
			names_copy(n, &vh[i]);
		}
	pthread_mutex_unlock(&paths_lock);
	return found;
}

/* n NULL: no lock taken (the library's virtqueue locks may be held). */
static int idx_by_vid(int vid, struct vh_names *n)
{
	int found = -1;

	if (n)
		pthread_mutex_lock(&paths_lock);
	for (unsigned i = 0; i < DP_MAX_VHOST && found < 0; i++)
		if (__atomic_load_n(&dp_vhost[i].vid, __ATOMIC_ACQUIRE) == vid) {
			found = (int)i;
			if (n)
				names_copy(n, &vh[i]);
		}
	if (n)
		pthread_mutex_unlock(&paths_lock);
	return found;
}

/* Any thread: a parked port goes on its worker's ready ring. */
static bool relist(unsigned i)
{
	uint8_t parked = DP_VHOST_PARKED;
	uint32_t id = DP_MAX_ETHDEV + i;
	struct dp_worker *w = dp_worker_get(dp_vhost[i].worker);

	if (!__atomic_compare_exchange_n(&dp_vhost[i].state, &parked, DP_VHOST_LISTED, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return false;
	/* Each port is on one ring at most: the ring (DP_MAX_VHOST deep) cannot be full. */
	rte_ring_mp_enqueue_elem(w->vh_ready, &id, sizeof(id));
	return true;
}

/*
 * The control thread calls the library with a port's device only between
 * these: destroy_device waits for it, so the device stays valid.
 */
static int ctl_hold(unsigned i)
{
	__atomic_store_n(&dp_vhost[i].ctl_busy, 1, __ATOMIC_SEQ_CST);
	int vid = __atomic_load_n(&dp_vhost[i].vid, __ATOMIC_SEQ_CST);
	if (vid < 0)
		__atomic_store_n(&dp_vhost[i].ctl_busy, 0, __ATOMIC_RELEASE);
	return vid;
}

static void ctl_release(unsigned i)
{
	__atomic_store_n(&dp_vhost[i].ctl_busy, 0, __ATOMIC_RELEASE);
}

/* ---- the vhost library's callbacks (its thread, or the control thread's unregister) ---- */

static int new_device(int vid)
{
	char path[PATH_MAX];
	struct vh_names n;
	int i;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) < 0 || (i = idx_by_path(path, &n)) < 0)
		return -1;
	/*
	 * A server socket takes any number of connections, and a port polls one device: a
	 * second one is not taken. The library keeps its connection and offers it again at
	 * each of its messages (taken at one after the first went): counted and logged when
	 * it is not the device refused last. Taking it would leave the first unpolled and,
	 * when that one went, not found: its device freed without the wait for the workers
	 * below.
	 */
	if (__atomic_load_n(&dp_vhost[i].vid, __ATOMIC_SEQ_CST) >= 0) {
		if (vh[i].refused_vid != vid) {
			vh[i].refused_vid = vid;
			__atomic_fetch_add(&vh[i].refused, 1, __ATOMIC_RELAXED);
			DP_LOG_F(WARNING, DP_PORT_FIELDS(&n),
				 "vhost port %s: refused a second front-end (device %d): one is "
				 "connected",
				 n.path, vid);
		}
		return -1;
	}
	/* Polled while active: the guest need not kick (the control thread enables it). */
	for (uint16_t q = 0; q < rte_vhost_get_vring_num(vid); q++)
		rte_vhost_enable_guest_notification(vid, q, 0);
	__atomic_store_n(&dp_vhost[i].vid, vid, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&vh[i].connects, 1, __ATOMIC_RELAXED);
	relist((unsigned)i);
	DP_LOG_F(INFO, DP_PORT_FIELDS(&n), "vhost port %s: guest connected (device %d)", n.path,
		 vid);
	return 0;
}

static void destroy_device(int vid)
{
	struct vh_names n;
	int i = idx_by_vid(vid, &n);

	if (i < 0)
		return;
	__atomic_store_n(&dp_vhost[i].vid, -1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&vh[i].disconnects, 1, __ATOMIC_RELAXED);
	/* The control thread finishes its call with the device... */
	while (__atomic_load_n(&dp_vhost[i].ctl_busy, __ATOMIC_ACQUIRE))
		sched_yield();
	/* ...and every worker passes a poll that read vid -1 before the library frees it. */
	if (dp_rcu_qsv)
		rte_rcu_qsbr_synchronize(dp_rcu_qsv, RTE_QSBR_THRID_INVALID);
	DP_LOG_F(INFO, DP_PORT_FIELDS(&n), "vhost port %s: guest disconnected", n.path);
}

/* Called with the library's virtqueue locks held: atomics and the ready ring only. */
static int vring_state_changed(int vid, uint16_t queue, int enable)
{
	int i = idx_by_vid(vid, NULL);

	if (i >= 0 && enable && queue == DP_VHOST_TXQ)
		relist((unsigned)i); /* a ring enabled again: look at it */
	return 0;
}

static const struct rte_vhost_device_ops vh_ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
};

/* ---- parking (control thread) ---- */

static void kick_unwatch(struct vh_port *v)
{
	if (v->kick < 0)
		return;
	epoll_ctl(vh_epfd, EPOLL_CTL_DEL, v->kick, NULL);
	close(v->kick);
	v->kick = -1;
	v->kick_src = -1;
	v->kick_vid = -1;
}

/* Watches the guest TX ring's current kick eventfd (vid held). */
static int kick_watch(unsigned i, int vid)
{
	struct vh_port *v = &vh[i];
	struct rte_vhost_vring vr;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

	if (rte_vhost_get_vhost_vring(vid, DP_VHOST_TXQ, &vr) < 0 || vr.kickfd < 0)
		return -ENODEV;
	if (v->kick >= 0 && v->kick_src == vr.kickfd && v->kick_vid == vid)
		return 0;
	kick_unwatch(v);
	/* Our own reference: the library may close or replace its fd at any time. */
	v->kick = fcntl(vr.kickfd, F_DUPFD_CLOEXEC, 0);
	if (v->kick < 0)
		return -errno;
	if (epoll_ctl(vh_epfd, EPOLL_CTL_ADD, v->kick, &ev) < 0) {
		int e = errno;
		close(v->kick);
		v->kick = -1;
		return -e;
	}
	v->kick_src = vr.kickfd;
	v->kick_vid = vid;
	return 0;
}

/*
 * A parked port's guest sent (or connected): back to its worker, polled
 * without kicks. A port already listed (vring_state_changed listed it) that
 * kicks has notifications on that it does not need: off too.
 */
static void wake(unsigned i)
{
	int vid = ctl_hold(i);

	if (vid >= 0) {
		rte_vhost_enable_guest_notification(vid, DP_VHOST_TXQ, 0);
		ctl_release(i);
	}
	if (relist(i))
		__atomic_fetch_add(&vh[i].wakes, 1, __ATOMIC_RELAXED);
}

/* A worker handed port i back, idle. */
static void park(unsigned i)
{
	int vid = ctl_hold(i);
	uint32_t queued;

	if (vid < 0) {
		/* Gone meanwhile: parked until new_device (which may have come just now). */
		__atomic_store_n(&dp_vhost[i].state, DP_VHOST_PARKED, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&dp_vhost[i].vid, __ATOMIC_SEQ_CST) >= 0)
			relist(i);
		return;
	}
	if (kick_watch(i, vid) < 0) {
		/* No kick to wait for: keep polling it rather than lose its frames. */
		ctl_release(i);
		struct dp_worker *w = dp_worker_get(dp_vhost[i].worker);
		uint32_t id = DP_MAX_ETHDEV + i;
		rte_ring_mp_enqueue_elem(w->vh_ready, &id, sizeof(id));
		return;
	}
	rte_vhost_enable_guest_notification(vid, DP_VHOST_TXQ, 1);
	__atomic_store_n(&dp_vhost[i].state, DP_VHOST_PARKED, __ATOMIC_SEQ_CST);
	/* A frame queued before the guest saw notifications on would ring no bell: look. */
	queued = rte_vhost_rx_queue_count(vid, DP_VHOST_TXQ);
	ctl_release(i);
	__atomic_fetch_add(&vh[i].parks, 1, __ATOMIC_RELAXED);
	if (queued)
		wake(i);
}

static void on_kicks(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct epoll_event ev[64];
	int n;

	(void)h;
	(void)fd;
	(void)events;
	(void)arg;
	n = epoll_wait(vh_epfd, ev, RTE_DIM(ev), 0);
	for (int k = 0; k < n; k++) {
		unsigned i = ev[k].data.u32;
		uint64_t count;

		if (vh[i].kick >= 0 && read(vh[i].kick, &count, sizeof(count)) < 0)
			continue; /* drained already */
		wake(i);
	}
}

void dp_vhost_tick(void)
{
	/* Zeroed for gcc's analyzer, which cannot see the ring's dequeue fill it. */
	uint32_t ids[64] = { 0 };
	unsigned n;

	for (unsigned k = 0; k < dp_worker_count(); k++) {
		struct dp_worker *w = dp_worker_get(k);

		while (w->vh_idle &&
		       (n = rte_ring_sc_dequeue_burst_elem(w->vh_idle, ids, sizeof(ids[0]),
							   RTE_DIM(ids), NULL)) > 0)
			for (unsigned j = 0; j < n; j++)
				park(ids[j] - DP_MAX_ETHDEV);
	}
	/* Guests gone: their kick eventfds go too. */
	for (unsigned i = 0; i < DP_MAX_VHOST; i++)
		if (vh[i].kick >= 0 &&
		    __atomic_load_n(&dp_vhost[i].vid, __ATOMIC_ACQUIRE) != vh[i].kick_vid)
			kick_unwatch(&vh[i]);
}

/* ---- ports ---- */

/*
 * A server socket left by a tessd that died would stop the port from
 * binding: removed when nothing listens there; refused when something does.
 */
static int clear_stale(const char *path, char *err, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc = 0;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, len, "%s is served by another process", path);
		rc = -EADDRINUSE;
	} else if (errno == ECONNREFUSED) {
		DP_LOG(NOTICE, "removing stale vhost-user socket %s", path);
		unlink(path);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The worker with the fewest vhost ports. */
static uint16_t pick_worker(void)
{
	unsigned count[DP_MAX_WORKERS] = { 0 }, best = 0;

	DP_PORT_FOREACH (p) {
		if (p->kind == DP_PORT_VHOST && p->vhost_open)
			count[dp_vhost[idx_of(p)].worker]++;
	}
	for (unsigned k = 1; k < dp_worker_count(); k++)
		if (count[k] < count[best])
			best = k;
	return (uint16_t)best;
}

/* The vhost library holds one fd per socket and connection, and the guests' eventfds come too. */
static void raise_nofile(void)
{
	static bool done;
	struct rlimit rl;

	if (done || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	done = true;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			DP_LOG(INFO, "open files limit raised to %llu for vhost ports",
			       (unsigned long long)rl.rlim_cur);
	}
}

int dp_vhost_open(struct dp_port *p, char *err, size_t len)
{
	const struct tessd_vhost_cfg *c = &p->cfg.vhost;
	unsigned i = idx_of(p);
	struct vh_port *v = &vh[i];
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;
	char why[256];
	int rc;

	raise_nofile();
	if (vh_epfd < 0 && (vh_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, len, "cannot create an epoll set: %s", strerror(errno));
		return -errno;
	}
	if (!c->client && (rc = clear_stale(c->path, why, sizeof(why))) < 0) {
		snprintf(err, len, "%s", why);
		return rc;
	}
	if (c->client)
		flags |= RTE_VHOST_USER_CLIENT;
	dp_vhost[i] = (struct dp_vhost){
		.vid = -1,
		.state = DP_VHOST_PARKED,
		.worker = pick_worker(),
		.mp = dp_mempool(p->socket),
	};
	pthread_mutex_lock(&paths_lock);
	vh_reset(v);
	snprintf(v->path, sizeof(v->path), "%s", c->path);
	snprintf(v->name, sizeof(v->name), "%s", p->cfg.name);
	snprintf(v->tenant, sizeof(v->tenant), "%s", p->cfg.tenant);
	pthread_mutex_unlock(&paths_lock);
	if (rte_vhost_driver_register(c->path, flags) < 0) {
		snprintf(err, len, "cannot register vhost-user socket %s", c->path);
		rc = -EINVAL;
		goto fail;
	}
	v->registered = true;
	/* Plain frames: no offloads the pipeline would have to finish (as net_vhost's default). */
	if (rte_vhost_driver_disable_features(
		    c->path, 1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6 |
				     1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
				     1ULL << VIRTIO_NET_F_GUEST_TSO4 |
				     1ULL << VIRTIO_NET_F_GUEST_TSO6 | 1ULL << VIRTIO_NET_F_MQ) <
		    0 ||
	    rte_vhost_driver_callback_register(c->path, &vh_ops) < 0) {
		snprintf(err, len, "cannot set up vhost-user socket %s", c->path);
		rc = -EINVAL;
		goto fail;
	}
	if (rte_vhost_driver_start(c->path) < 0) {
		snprintf(err, len, "cannot %s vhost-user socket %s (see tessd's log)",
			 c->client ? "connect" : "listen on", c->path);
		rc = -EIO;
		goto fail;
	}
	p->vhost_open = true;
	return 0;
fail:
	if (v->registered)
		rte_vhost_driver_unregister(c->path);
	pthread_mutex_lock(&paths_lock);
	vh_reset(v);
	pthread_mutex_unlock(&paths_lock);
	__atomic_store_n(&dp_vhost[i].vid, -1, __ATOMIC_SEQ_CST);
	return rc;
}

void dp_vhost_close(struct dp_port *p)
{
	unsigned i = idx_of(p);
	struct vh_port *v = &vh[i];
	uint64_t t0 = rte_get_timer_cycles();

	if (!p->vhost_open)
		return;
	/* destroy_device runs in here for a connected guest: vid -1, workers let go. */
	while (rte_vhost_driver_unregister(v->path) < 0 &&
	       rte_get_timer_cycles() - t0 < rte_get_timer_hz())
		usleep(1000);
	__atomic_store_n(&dp_vhost[i].vid, -1, __ATOMIC_SEQ_CST);
	/* Out of every list before the id is reused: workers park it when they see vid -1. */
	while (__atomic_load_n(&dp_vhost[i].state, __ATOMIC_ACQUIRE) != DP_VHOST_PARKED &&
	       __atomic_load_n(&dp_running, __ATOMIC_ACQUIRE) &&
	       rte_get_timer_cycles() - t0 < 2 * rte_get_timer_hz()) {
		dp_vhost_tick();
		usleep(100);
	}
	kick_unwatch(v);
	if (!p->cfg.vhost.client)
		unlink(p->cfg.vhost.path);
	pthread_mutex_lock(&paths_lock);
	vh_reset(v);
	pthread_mutex_unlock(&paths_lock);
	p->vhost_open = false;
}

bool dp_vhost_connected(const struct dp_port *p)
{
	return __atomic_load_n(&dp_vhost[idx_of(p)].vid, __ATOMIC_ACQUIRE) >= 0;
}

void dp_vhost_stats(const struct dp_port *p, struct dp_vhost_stats *st)
{
	const struct vh_port *v = &vh[idx_of(p)];

	st->connects = __atomic_load_n(&v->connects, __ATOMIC_RELAXED);
	st->disconnects = __atomic_load_n(&v->disconnects, __ATOMIC_RELAXED);
	st->parks = __atomic_load_n(&v->parks, __ATOMIC_RELAXED);
	st->wakes = __atomic_load_n(&v->wakes, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&v->refused, __ATOMIC_RELAXED);
	st->active =
		__atomic_load_n(&dp_vhost[idx_of(p)].state, __ATOMIC_ACQUIRE) == DP_VHOST_LISTED;
}

unsigned dp_vhost_polled(void)
{
	unsigned n = 0;

	for (unsigned k = 0; k < dp_worker_count(); k++)
		n += __atomic_load_n(&dp_worker_get(k)->vh_polled, __ATOMIC_RELAXED);
	return n;
}

int dp_vhost_start(struct evloop *l)
{
	if (started)
		return 0;
	if (vh_epfd < 0 && (vh_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -errno;
	vh_ev = ev_add(l, vh_epfd, EPOLLIN, on_kicks, NULL);
	if (vh_ev == NULL)
		return -ENOMEM;
	started = true;
	return 0;
}

void dp_vhost_fini(void)
{
	if (vh_epfd >= 0)
		close(vh_epfd);
	vh_epfd = -1;
	vh_ev = NULL;
	started = false;
}
