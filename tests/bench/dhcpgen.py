#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""DHCP clients for the dhcp bench: DISCOVER, OFFER, REQUEST, ACK (DORA) for a new MAC
each, `window` of them in flight, over one interface through a raw socket, for `seconds`.

    dhcpgen.py IFACE SECONDS WINDOW FIRST

Clients are numbered from FIRST (their MAC is 02:bb and the number, their xid the number).

Each client's frames come from its own MAC (chaddr is the Ethernet source, as a real
client's; Kea's perfdhcp poses as a relay from one MAC, which a server for its own link
rightly refuses). The broadcast flag is set, so the replies come back broadcast. Prints
one JSON object: exchanges completed, their addresses unique or not, NAKs, timeouts, sent."""
import json
import select
import socket
import struct
import sys
import time

TIMEOUT = 1.0  # a client unanswered this long is a drop; the next MAC takes its place
COOKIE = b"\x63\x82\x53\x63"


def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF


def frame(mac, xid, options):
    """An Ethernet broadcast from mac: IPv4 0.0.0.0:68 -> 255.255.255.255:67, no UDP
    checksum (optional in IPv4), BOOTREQUEST with the broadcast flag."""
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, bytes(4),
                        bytes(4), bytes(4), bytes(4), mac, b"", b"") + COOKIE + options + b"\xff"
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(bootp), 0, 0, 64, 17, 0,
                     bytes(4), b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\xff" * 6 + mac + b"\x08\x00" + ip + udp + bootp


def options_of(b):
    """The options of a BOOTP payload (after the cookie) as {code: value}."""
    out, i = {}, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        out[b[i]] = b[i + 2:i + 2 + b[i + 1]]
        i += 2 + b[i + 1]
    return out


def main():
    iface, seconds, window, first = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), \
        int(sys.argv[4])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    # Sends block (a full transmit queue waits, it does not fail); receives do not.
    pending = {}  # xid -> (mac, sent at)
    addrs, st = set(), {"completed": 0, "naks": 0, "timeouts": 0, "sent": 0, "duplicates": 0,
                        "offers": 0}
    seq = first - 1

    def start(now):
        nonlocal seq
        seq += 1
        mac = b"\x02\xbb" + struct.pack("!I", seq)
        pending[seq] = (mac, now)
        s.send(frame(mac, seq, b"\x35\x01\x01"))
        st["sent"] += 1

    t0 = time.monotonic()
    end = t0 + seconds
    for _ in range(window):
        start(t0)
    last_sweep = t0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now - last_sweep > 0.1:  # clients unanswered: dropped, new ones instead
            last_sweep = now
            for xid in [x for x, (_, at) in pending.items() if now - at > TIMEOUT]:
                del pending[xid]
                st["timeouts"] += 1
                start(now)
        if not select.select([s], [], [], 0.01)[0]:
            continue
        while True:
            try:
                b = s.recv(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            # IPv4/UDP to port 68 carrying a BOOTREPLY with the cookie.
            if len(b) < 14 + 28 + 240 or b[23] != 17 or b[36:38] != b"\x00\x44":
                continue
            p = b[14 + (b[14] & 15) * 4 + 8:]
            if p[0] != 2 or p[236:240] != COOKIE:
                continue
            xid = struct.unpack("!I", p[4:8])[0]
            if xid not in pending or p[28:34] != pending[xid][0]:
                continue
            mac = pending[xid][0]
            o = options_of(p)
            kind = o.get(53, b"\x00")[0]
            if kind == 2:  # OFFER: REQUEST it from the server that made it
                st["offers"] += 1
                s.send(frame(mac, xid, b"\x35\x01\x03\x32\x04" + p[16:20] + b"\x36\x04"
                             + o.get(54, bytes(4))))
                st["sent"] += 1
                pending[xid] = (mac, now)
                continue
            del pending[xid]
            if kind == 5:  # ACK
                st["completed"] += 1
                if p[16:20] in addrs:
                    st["duplicates"] += 1
                addrs.add(p[16:20])
            else:
                st["naks"] += 1
            start(now)
    st["seconds"] = time.monotonic() - t0
    st["in_flight"] = len(pending)
    print(json.dumps(st))


if __name__ == "__main__":
    main()
