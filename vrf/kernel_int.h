/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel binding internals shared by kernel_ns.c, kernel_routes.c and kernel.c. */
#ifndef TESS_KERNEL_INT_H
#define TESS_KERNEL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "kernel.h"
#include "l3.h"
#include "nexthop.h"

struct ev_handle;
struct evloop;

#define KERN_UNLISTED UINT32_MAX

/* A prefix as a map key: never 0 (0.0.0.0/0 included). */
#define KERN_KEY(ip, len) (UINT64_C(1) << 40 | (uint64_t)(ip) << 8 | (len))

/*
 * Metrics kept per prefix: the lowest ones. A tenant's daemon adding a
 * thousand metrics of one prefix would otherwise make each change a walk
 * of them all.
 */
#define KERN_ALT_MAX 8

/* A map with routes ignored is read again after this long, doubling up to the last. */
#define KERN_RESCAN_FIRST_SEC 5
#define KERN_RESCAN_MAX_SEC   300

/* One kernel route of a prefix (one metric), as the kernel gave it. */
struct kalt {
	uint32_t prio;
	uint8_t type; /* NH_UNICAST, NH_BLACKHOLE, NH_REJECT */
	uint8_t bad;  /* enum kern_unmapped: what parsing found unusable (KU_NO_NH, KU_FAMILY) */
	uint8_t n;
	struct {
		uint32_t gw; /* host order; 0: on-link */
		int ifindex;
	} nh[NH_MAX_PATHS];
};

/* A prefix of a bound table: its kernel routes, and the best one as tessd maps it. */
struct kroute {
	uint64_t key;     /* KERN_KEY(ip, len); 0: a free slot */
	struct kalt *alt; /* by metric, several when the kernel has several (owned) */
	uint32_t n_alt;
	bool mapped;       /* g holds the best; else why says why not */
	bool waiting;      /* refused at the VRF's limits: installed when room appears */
	uint32_t wait_ix;  /* waiting: its place in kbind.wait_keys (KERN_UNLISTED: none) */
	uint8_t why;       /* enum kern_unmapped */
	int ifindex;       /* the next hop's device, when that is why */
	struct nh_group g; /* origin NH_ORIGIN_KERNEL */
};

enum kern_unmapped {
	KU_NONE,
	KU_DEVICE, /* a next hop on a device that is no tessd interface */
	KU_NO_NH,  /* no next hop libnl can read (e.g. a nexthop object, RTA_NH_ID) */
	KU_FAMILY, /* a next hop of another family (IPv6 via an IPv4 route) */
	KU_MAX
};

struct kroutes {
	struct kroute *slot;
	uint32_t cap, n; /* cap: a power of two */
};

struct kbind {
	bool on;
	uint64_t vrf_born; /* the VRF it maps into (rt_vrf.born): another's gets the table again */
	bool failed;       /* binding failed: retried every few seconds */
	uint64_t retry_at; /* TSC */
	char netns[TESS_NAME_LEN];
	uint32_t table;
	uint32_t buffer_kb;
	uint32_t batch; /* datagrams read per event-loop turn */
	/* kernel.max_map: prefixes mirrored at most (0: 2 x max_routes) */
	uint32_t max_map;
	uint32_t cap_seen; /* the cap last applied (kern_map_cap): a change reads again */
	int nsfd;
	struct nl_sock *sk;    /* TAP set-up, inside the namespace */
	struct nl_sock *ev_sk; /* route, link and address notifications from the namespace */
	struct ev_handle *ev;
	bool resync;           /* the next tick maps the whole table again */
	bool reload;           /* the next tick reads the whole table from the kernel again */
	bool discarding;       /* reading notifications older than a dump: not applied */
	bool short_of_memory;  /* a change could not be kept: the dump under way fails */
	bool taps_dirty;       /* a TAP's link or addresses changed: set them up again */
	bool taps_changed;     /* TAPs came, went or changed ifindex: index them again */
	uint64_t tap_retry_at; /* TSC: TAPs that could not be opened are tried again */
	uint64_t resync_after; /* TSC: a resync that failed waits until then */
	/* The VRF's TAPs by ifindex, for mapping next hops. */
	int *tap_ifindex;
	uint16_t *tap_iface;
	uint32_t n_taps;
	struct kroutes map;
	uint32_t n_mapped;  /* entries of map with a next-hop group */
	uint32_t n_waiting; /* entries of map waiting for room in the VRF */
	/*
	 * Their keys, so that room looks at them, not at the whole map (review of
	 * 3.2): at most batch of them per event-loop turn, from wait_pos on, until
	 * retry_left (all of them when room appeared) have been tried.
	 */
	uint64_t *wait_keys;
	uint32_t n_wait_keys, wait_cap, wait_pos, retry_left;
	bool wait_unlisted; /* a waiting entry without memory for its key: listed at a pass */
	/*
	 * Routes were ignored (the map at its cap, a prefix at KERN_ALT_MAX
	 * metrics): the table is read again at rescan_at, backing off
	 * (rescan_sec) while it stays so. A read stops at the first prefix past
	 * the cap (map_full). A device that is no TAP going down reads it again
	 * at rescan_at too.
	 */
	bool incomplete;
	bool warned;   /* the log said so once since the table was last read whole */
	bool map_full; /* during a read: it stops */
	uint32_t rescan_sec;
	uint64_t rescan_at;    /* TSC; 0: none due */
	uint64_t reload_after; /* TSC: the whole table is read at most once a second */
	/* Counters. */
	uint64_t events, resyncs, overruns, errors, installed, removed, shadowed;
	uint64_t batch_yields; /* turns that left notifications for the next one */
	uint64_t room_retries; /* waiting routes tried again, room having appeared */
	uint64_t retry_yields; /* turns that left waiting routes to try for the next one */
	uint64_t ignored;      /* routes not mirrored for the caps (max_map, KERN_ALT_MAX) */
	uint64_t rescans;      /* whole reads at rescan_at */
	uint64_t last_read;    /* route messages the last whole read got */
	char last_error[256];
};

#define KERN_ARP_ASKED     16 /* requests of the kernel remembered per TAP */
#define KERN_ARP_ASKED_SEC 5  /* ... for so long */

struct ktap {
	int fd;    /* -1: none */
	bool want; /* its VRF's binding failed: made once it binds */
	int ifindex;
	char name[TESS_IFNAME_LEN];
	uint16_t vrf;
	struct ev_handle *ev;
	uint64_t to_kernel, from_kernel, drops;
	/* The kernel's recent ARP requests: a reply to one of them is handed to it, once. */
	struct {
		uint32_t ip; /* network order, 0: free */
		uint64_t at; /* TSC */
	} asked[KERN_ARP_ASKED];
	uint8_t next_asked;
};

extern struct kbind *kern_binds; /* [FIB_MAX_VRFS] */
extern struct ktap *kern_taps;   /* [L3_MAX_IFACES] */
extern struct evloop *kern_loop; /* the control thread's */

/* kernel_ns.c */
int kern_netns_open(const char *name, bool *made);
int kern_in_netns(int nsfd, int (*fn)(void *arg), void *arg);
int kern_tap_open(int nsfd, const char *name);
struct nl_sock *kern_sock_open(int nsfd);
int kern_tap_configure(struct nl_sock *sk, const char *name, const uint8_t mac[6], uint32_t mtu,
		       const uint32_t *ip, const uint8_t *len, unsigned n, int *ifindex, char *err,
		       size_t errlen);

/* Frames between a TAP and the dataplane: at most this many bytes (a 9000-byte MTU). */
#define KERN_FRAME_MAX 9018

/* kernel.c: the VRF's TAPs by ifindex, again. */
void kern_taps_index(uint16_t vrf);
/* Prefixes vrf's map holds at most: kernel.max_map, or twice the VRF's max_routes. */
uint32_t kern_map_cap(uint16_t vrf);

/* kernel_routes.c */
int kern_routes_start(uint16_t vrf);
/* Joins the control loop with the manager's socket. */
int kern_routes_watch(uint16_t vrf);
void kern_routes_stop(uint16_t vrf, bool keep_fib);
/*
 * Maps every prefix again (reload: after reading the whole table from the
 * kernel); FIB entries of kernel origin the map no longer has go.
 */
void kern_routes_resync(uint16_t vrf, bool reload);
json_t *kern_unmapped_json(const struct kbind *b);
/*
 * Room appeared in vrf (rt_vrf.room): its waiting routes are to be tried
 * again, by kern_routes_retry, a batch per event-loop turn.
 */
void kern_routes_room(uint16_t vrf);
/* Waiting routes of vrf tried: at most kernel.batch of them, the rest at the next call. */
void kern_routes_retry(uint16_t vrf);
/*
 * Applies the netlink messages in buf (route, link, address) as vrf's
 * notification socket would: the fuzzer's way in, without a namespace.
 */
void kern_routes_feed(uint16_t vrf, const void *buf, size_t len);
/* The map of best routes per prefix: open addressing, linear probing, grows at 3/4. */
struct kroute *kern_map_find(struct kroutes *m, uint64_t key);
/* The entry of key, made empty if new; NULL without memory. */
struct kroute *kern_map_get(struct kroutes *m, uint64_t key);
/* Removes e, shifting back the entries its probe sequence held (pointers into m move). */
void kern_map_del(struct kroutes *m, struct kroute *e);
void kern_map_free(struct kroutes *m);

#endif
