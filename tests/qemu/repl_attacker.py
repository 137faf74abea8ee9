#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile host on the rig's replication link, for tests/qemu/test_link_auth.py. The link is
a pair of QEMU UDP socket netdevs on 127.0.0.1 inside the rig's namespace: a datagram sent to a
board's port is a frame on its cable. Run inside the namespace (`ip netns exec`).

  inject PORT             reads frames (hex, one per line) from stdin and puts each on the
                          cable of the board listening on PORT: a blind attacker that sees
                          nothing back
  impostor PORT PEER IP MAC [plain|reflect]
                          takes the place of a dead board: a tap `cvatk0` with IP/24 and MAC,
                          bridged to the cable (our datagrams from PORT to PEER, theirs to us),
                          and a fake secondary on IP:7100 that answers each connection without
                          the key: `plain` with the unauthenticated protocol's HELLO_ACK,
                          CHECKPOINT_READY and VMSTATE_LOADED (what used to make a primary
                          believe in a replica), `reflect` with the bytes it was sent. Prints
                          `impostor: ready`, then one line per connection; runs until killed.

Frames for `inject` are built with the functions below (imported by the test)."""
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import threading


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def ip_bytes(a):
    return socket.inet_aton(a)


def eth(dst, src, etype, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                    ip_bytes(src), ip_bytes(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp(src, dst, sport, dport, seq, flags=0x02, ack=0, data=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, 6, len(h) + len(data))
    c = csum(pseudo + h + data)
    return ipv4(src, dst, 6, h[:16] + struct.pack("!H", c) + h[18:] + data, ident=seq & 0xffff)


def arp_reply(sender_mac, sender_ip, target_mac, target_ip):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac_bytes(sender_mac) + \
        ip_bytes(sender_ip) + mac_bytes(target_mac) + ip_bytes(target_ip)
    return eth(target_mac, sender_mac, 0x0806, body)


def syn_frame(dst_mac, src_mac, src_ip, dst_ip, sport, dport=7100):
    return eth(dst_mac, src_mac, 0x0800, tcp(src_ip, dst_ip, sport, dport, 1000 + sport))


# ---- the unauthenticated protocol's messages (colo/proto.h, version 1) ----
def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc32c_table()


def crc32c(data):
    c = 0xffffffff
    for b in data:
        c = _T[(c ^ b) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


def colo_plain(mtype, epoch, payload=b""):
    h = struct.pack("<IHHQII", 0x4f4c4f43, 1, mtype, epoch, len(payload), 0)
    h = h[:20] + struct.pack("<I", crc32c(h))
    return h + payload + (struct.pack("<I", crc32c(payload)) if payload else b"")


def fake_secondary_answer():
    ack = struct.pack("<HHIII", 1, 0, 0, 1 << 20, 1 << 16)  # version, caps, staging
    return (colo_plain(2, 0, ack) + colo_plain(3, 0) + colo_plain(5, 1) + colo_plain(10, 1) +
            colo_plain(11, 1))


# ---- the commands ----
def inject(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    for line in sys.stdin:
        line = line.strip()
        if line:
            s.sendto(bytes.fromhex(line), ("127.0.0.1", port))
            n += 1
    print(f"inject: {n} frames")


TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def impostor(port, peer, ip, mac, mode):
    subprocess.run(["ip", "tuntap", "add", "dev", "cvatk0", "mode", "tap"], check=True)
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", b"cvatk0", IFF_TAP | IFF_NO_PI))
    for cmd in (["ip", "link", "set", "cvatk0", "address", mac],
                ["ip", "addr", "add", f"{ip}/24", "dev", "cvatk0"],
                ["ip", "link", "set", "cvatk0", "up"]):
        subprocess.run(cmd, check=True)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))

    def relay():
        while True:
            r, _, _ = select.select([tap, u], [], [])
            if tap in r:
                u.sendto(os.read(tap, 65536), ("127.0.0.1", peer))
            if u in r:
                os.write(tap, u.recv(65536))

    threading.Thread(target=relay, daemon=True).start()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ip, 7100))
    srv.listen(8)
    print("impostor: ready", flush=True)
    while True:
        c, addr = srv.accept()
        c.settimeout(5)
        try:
            got = c.recv(4096)
            c.sendall(fake_secondary_answer() if mode == "plain" else got)
            more = c.recv(4096)  # what the primary says to that (an ABORT or nothing)
        except OSError:
            more = b""
        print(f"impostor: connection from {addr[0]}: got {len(got)} bytes, then {len(more)}",
              flush=True)
        c.close()


def main(argv):
    if argv[:1] == ["inject"] and len(argv) == 2:
        inject(int(argv[1]))
    elif argv[:1] == ["impostor"] and len(argv) in (5, 6):
        impostor(int(argv[1]), int(argv[2]), argv[3], argv[4], argv[5] if len(argv) == 6
                 else "plain")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
