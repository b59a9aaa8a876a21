/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel's side of a bound VRF: its network namespace (made like
 * `ip netns add` if missing), sockets and TAPs opened inside it, and the
 * TAPs set up with libnl-3 as their interface says (MAC, MTU, up, IPv4
 * addresses). Control thread only; it may block here.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "kernel_int.h"

#define NETNS_DIR "/run/netns"

struct make_ns {
	const char *path;
	int rc;
};

/* A thread of its own unshares, so that tessd's threads stay where they are. */
static void *make_ns_thread(void *arg)
{
	struct make_ns *k = arg;

	if (unshare(CLONE_NEWNET) < 0 ||
	    mount("/proc/thread-self/ns/net", k->path, "none", MS_BIND, NULL) < 0)
		k->rc = -errno;
	return NULL;
}

int kern_netns_open(const char *name, bool *made)
{
	char path[128];
	struct make_ns k = { .path = path };
	pthread_t t;
	int fd;

	*made = false;
	snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return -errno;
	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	if (pthread_create(&t, NULL, make_ns_thread, &k) != 0) {
		unlink(path);
		return -EAGAIN;
	}
	pthread_join(t, NULL);
	if (k.rc < 0) {
		unlink(path);
		return k.rc;
	}
	*made = true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int kern_in_netns(int nsfd, int (*fn)(void *arg), void *arg)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), rc;

	if (self < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		rc = -errno;
		close(self);
		return rc;
	}
	rc = fn(arg);
	/* Back home; failing that, tessd's later sockets would be in the wrong place. */
	if (setns(self, CLONE_NEWNET) < 0)
		rte_panic("tessd cannot return to its network namespace: %s\n", strerror(errno));
	close(self);
	return rc;
}

struct tap_open {
	const char *name;
	int fd;
};

static int tap_open_here(void *arg)
{
	struct tap_open *t = arg;
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	t->fd = fd;
	return 0;
}

int kern_tap_open(int nsfd, const char *name)
{
	struct tap_open t = { .name = name, .fd = -1 };
	int rc = kern_in_netns(nsfd, tap_open_here, &t);

	return rc < 0 ? rc : t.fd;
}

struct sock_open {
	struct nl_sock *sk;
};

static int sock_open_here(void *arg)
{
	struct sock_open *s = arg;

	s->sk = nl_socket_alloc();
	if (s->sk == NULL)
		return -ENOMEM;
	if (nl_connect(s->sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(s->sk);
		s->sk = NULL;
		return -EIO;
	}
	return 0;
}

struct nl_sock *kern_sock_open(int nsfd)
{
	struct sock_open s = { 0 };

	return kern_in_netns(nsfd, sock_open_here, &s) < 0 ? NULL : s.sk;
}

/* ---- a TAP as its interface says ---- */

static struct nl_addr *ip4_addr(uint32_t ip, uint8_t len)
{
	uint32_t be = htonl(ip);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));

	if (a)
		nl_addr_set_prefixlen(a, len);
	return a;
}

struct want_addrs {
	const uint32_t *ip;
	const uint8_t *len;
	unsigned n;
	bool *have;
	struct nl_sock *sk;
	int ifindex;
	int rc;
};

/* Removes an address of the TAP that its interface does not have. */
static void prune_addr(struct nl_object *obj, void *arg)
{
	struct want_addrs *w = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nl_addr *local = rtnl_addr_get_local(a);
	uint32_t ip;

	if (rtnl_addr_get_ifindex(a) != w->ifindex || rtnl_addr_get_family(a) != AF_INET ||
	    local == NULL || nl_addr_get_len(local) != 4)
		return;
	memcpy(&ip, nl_addr_get_binary_addr(local), 4);
	ip = ntohl(ip);
	for (unsigned i = 0; i < w->n; i++) {
		if (w->ip[i] == ip && w->len[i] == rtnl_addr_get_prefixlen(a)) {
			w->have[i] = true;
			return;
		}
	}
	if (rtnl_addr_delete(w->sk, a, 0) < 0)
		w->rc = -EIO;
}

int kern_tap_configure(struct nl_sock *sk, const char *name, const uint8_t mac[6], uint32_t mtu,
		       const uint32_t *ip, const uint8_t *len, unsigned n, int *ifindex, char *err,
		       size_t errlen)
{
	struct rtnl_link *link = NULL, *change = NULL;
	struct nl_cache *addrs = NULL;
	struct nl_addr *lladdr = NULL;
	bool have[TESS_MAX_IFACE_ADDRS] = { false };
	struct want_addrs w = { ip, len, n, have, sk, 0, 0 };
	int rc;

	rc = rtnl_link_get_kernel(sk, 0, name, &link);
	if (rc < 0) {
		snprintf(err, errlen, "TAP %s: %s", name, nl_geterror(rc));
		return -ENODEV;
	}
	*ifindex = w.ifindex = rtnl_link_get_ifindex(link);
	lladdr = nl_addr_build(AF_LLC, mac, 6);
	change = rtnl_link_alloc();
	if (lladdr == NULL || change == NULL) {
		rc = -NLE_NOMEM;
		goto out;
	}
	/* Only what differs: a change would come back as an event and be applied again. */
	if (nl_addr_cmp(rtnl_link_get_addr(link), lladdr) != 0)
		rtnl_link_set_addr(change, lladdr);
	if (rtnl_link_get_mtu(link) != mtu)
		rtnl_link_set_mtu(change, mtu);
	if (!(rtnl_link_get_flags(link) & IFF_UP))
		rtnl_link_set_flags(change, IFF_UP);
	if (rtnl_link_get_addr(change) || rtnl_link_get_mtu(change) ||
	    rtnl_link_get_flags(change)) {
		rc = rtnl_link_change(sk, link, change, 0);
		if (rc < 0)
			goto out;
	}
	rc = rtnl_addr_alloc_cache(sk, &addrs);
	if (rc < 0)
		goto out;
	nl_cache_foreach(addrs, prune_addr, &w);
	for (unsigned i = 0; i < n && rc >= 0; i++) {
		struct rtnl_addr *a;
		struct nl_addr *local;
		if (have[i])
			continue;
		a = rtnl_addr_alloc();
		local = ip4_addr(ip[i], len[i]);
		if (a == NULL || local == NULL) {
			rc = -NLE_NOMEM;
		} else {
			rtnl_addr_set_ifindex(a, w.ifindex);
			rtnl_addr_set_local(a, local);
			rc = rtnl_addr_add(sk, a, 0);
		}
		nl_addr_put(local);
		rtnl_addr_put(a);
	}
	if (rc >= 0 && w.rc < 0)
		rc = -NLE_FAILURE;
out:
	if (rc < 0)
		snprintf(err, errlen, "TAP %s: %s", name, nl_geterror(rc));
	nl_cache_free(addrs);
	nl_addr_put(lladdr);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return rc < 0 ? -EIO : 0;
}
