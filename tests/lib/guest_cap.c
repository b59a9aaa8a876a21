// SPDX-License-Identifier: BSD-3-Clause
/* tess-cap: the tiny guests' packet capture (tests/lib/guest.py builds it static and puts it in
 * the initramfs). Reads every frame arriving on an interface (AF_PACKET) and prints each kind
 * of frame the first time it is seen, one line on stdout (the serial console):
 *
 *   TESS-SEEN src=MAC dst=MAC type=0xTYPE vlan=ID|- sip=IP|- dip=IP|- proto=P|- mark=XX|-
 *
 * sip/dip are the IPv4 or ARP addresses, mark an ICMP echo's data length in hex (`ping -s`:
 * each tenant's pings have their own size; busybox's `ping -p` writes its pattern into the
 * ICMP code too, which routers rightly refuse). The tests read these lines
 * to prove that no frame of another tenant ever reached the desktop. A capture on the guest
 * itself: vhost-user frames bypass QEMU's network layer, and tessd has no port mirror. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_KINDS 512

static char kinds[MAX_KINDS][160];
static int nkinds;

static void ip4(char *out, size_t n, const unsigned char *p)
{
	snprintf(out, n, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

static void seen(const char *line)
{
	for (int i = 0; i < nkinds; i++)
		if (strcmp(kinds[i], line) == 0)
			return;
	if (nkinds < MAX_KINDS)
		snprintf(kinds[nkinds++], sizeof(kinds[0]), "%s", line);
	char out[200];
	int len = snprintf(out, sizeof(out), "TESS-SEEN %s\n", line);
	if (write(1, out, (size_t)len) < 0)
		return;
}

static void frame(const unsigned char *f, size_t len, int vlan)
{
	if (len < 14)
		return;
	unsigned type = (unsigned)(f[12] << 8 | f[13]);
	size_t off = 14;
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		vlan = (f[14] << 8 | f[15]) & 0xfff;
		type = (unsigned)(f[16] << 8 | f[17]);
		off = 18;
	}
	char sip[16] = "-", dip[16] = "-", proto[8] = "-", mark[4] = "-", vl[8] = "-";
	const unsigned char *p = f + off;
	size_t rest = len - off;
	if (type == 0x0800 && rest >= 20) {
		size_t ihl = (size_t)(p[0] & 15) * 4, tot = (size_t)(p[2] << 8 | p[3]);
		ip4(sip, sizeof(sip), p + 12);
		ip4(dip, sizeof(dip), p + 16);
		snprintf(proto, sizeof(proto), "%u", p[9]);
		/* An ICMP echo or reply with data: its length. */
		if (p[9] == 1 && tot <= rest && tot > ihl + 8 && (p[ihl] == 0 || p[ihl] == 8))
			snprintf(mark, sizeof(mark), "%02zx", (tot - ihl - 8) & 0xff);
	} else if (type == 0x0806 && rest >= 28) {
		ip4(sip, sizeof(sip), p + 14);
		ip4(dip, sizeof(dip), p + 24);
		snprintf(proto, sizeof(proto), "arp%u", p[7]);
	}
	if (vlan >= 0)
		snprintf(vl, sizeof(vl), "%d", vlan);
	char line[160];
	snprintf(line, sizeof(line),
		 "src=%02x:%02x:%02x:%02x:%02x:%02x dst=%02x:%02x:%02x:%02x:%02x:%02x type=0x%04x "
		 "vlan=%s sip=%s dip=%s proto=%s mark=%s",
		 f[6], f[7], f[8], f[9], f[10], f[11], f[0], f[1], f[2], f[3], f[4], f[5], type, vl,
		 sip, dip, proto, mark);
	seen(line);
}

int main(int argc, char **argv)
{
	const char *ifname = argc > 1 ? argv[1] : "eth0";
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (s < 0) {
		perror("tess-cap: socket");
		return 1;
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("tess-cap: bind");
		return 1;
	}
	int one = 1; /* the kernel takes VLAN tags out into metadata: ask for them */
	setsockopt(s, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	unsigned char buf[2048];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	for (;;) {
		struct sockaddr_ll from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_name = &from,
				      .msg_namelen = sizeof(from),
				      .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = &ctl,
				      .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(s, &msg, 0);
		if (n < 0)
			continue;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		int vlan = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
				continue;
			struct tpacket_auxdata *a = (struct tpacket_auxdata *)CMSG_DATA(c);
			if (a->tp_status & TP_STATUS_VLAN_VALID)
				vlan = a->tp_vlan_tci & 0xfff;
		}
		frame(buf, (size_t)n, vlan);
	}
}
