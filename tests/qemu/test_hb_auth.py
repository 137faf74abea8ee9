# SPDX-License-Identifier: Apache-2.0
"""Authenticated heartbeats in the rig: a host of the service LAN (the client's namespace) sends
both boards of a protected pair the worst heartbeats it can build without the pair key, in the
version-3 layout (colo/include/colo/hb.h): "the peer runs the guest it took over" (role primary,
GUEST_RUNNING|TAKEOVER, seq 2^63, another clock) to the primary, "the primary shut the guest
down and went on alone" to the secondary; sealed with a key of its own, or with the CRC as an
insecure board would, echoing the receiver's real boot id or 0. The boards count them bad and do
nothing: no fence, no failover, protection goes on. Then, with the forgeries still coming, the
primary is killed: the secondary still takes over (they do not pass for the primary's life).

test_replayed_heartbeats_do_not_keep_a_dead_primary_alive replays the primary's own heartbeats:
a packet socket on the primary's tap (in the rig's namespace, where the bridge's ports are)
records the real ones for a few seconds, the primary is killed, and the recording is played
into the secondary's tap, over and over: the secondary refuses them (seen already) and takes
over as it would without them."""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from riglib import Rig  # noqa: E402
from riglib.rig import BOARDS  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pair import ARGS, check_failover_event, protected, status  # noqa: E402

# Runs in the client's namespace: forged heartbeats to both boards until killed.
FORGER = r'''
import hashlib, hmac, os, socket, struct, sys, time, zlib
a_ip, b_ip, port, a_boot, b_boot = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4], 16), int(sys.argv[5], 16)
def crc32c(data):
    c = 0xFFFFFFFF
    for x in data:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF
key = os.urandom(32)
def hb(board, role, flags, state, boot, echo, seq, crc):
    body = struct.pack("<IHBBIBBHQQQQQQIIIIQ", 0x42485643, 3, 1, role, flags, ord(board), state,
                       0, seq, 1 << 40, 1 << 60, boot, 1 << 20, 0, 100, 10, 0, 0, echo)
    seal = (struct.pack("<I", crc32c(body)) + bytes(12) if crc
            else hmac.new(key, body, hashlib.sha256).digest()[:16])
    return body + seal
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
while True:
    seq = (1 << 63) + n
    for crc in (False, True):
        for echo in (a_boot, 0):
            # to a: b (with b's real boot id) took the guest over
            s.sendto(hb("b", 0, 0x1 | 0x8, 2, b_boot, echo, seq, crc), (a_ip, port))
        for echo in (b_boot, 0):
            # to b: a shut the guest down / goes on alone
            s.sendto(hb("a", 0, 0x1 | 0x10 | 0x80, 6, a_boot, echo, seq, crc), (b_ip, port))
    n += 1
    if n % 50 == 0:
        print(n, flush=True)
    time.sleep(0.02)
'''


def forger(rig, a, b):
    return subprocess.Popen(["ip", "netns", "exec", rig.netns, sys.executable, "-c", FORGER,
                             BOARDS["a"]["svc_ip"], BOARDS["b"]["svc_ip"], str(rig._hb_port()),
                             a["boot_id"], b["boot_id"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_forged_heartbeats_change_nothing(ctx):
    with Rig(name="hbauth", build=ctx.build, bootargs=ARGS) as rig:
        protected(rig)
        a0, b0 = status(rig, "a"), status(rig, "b")
        assert a0["hb_auth"] == "hmac" and b0["hb_auth"] == "hmac", (a0, b0)
        assert a0["witness_auth"] == "hmac", a0
        off_a, off_b = rig.log_offset("a"), rig.log_offset("b")
        p = forger(rig, a0, b0)
        try:
            time.sleep(8)
            assert p.poll() is None, p.stderr.read()
            a, b = status(rig, "a"), status(rig, "b")
            # They arrived (counted bad) and changed nothing.
            assert int(a["hb_bad"]) >= int(a0["hb_bad"]) + 100, (a0, a)
            assert int(b["hb_bad"]) >= int(b0["hb_bad"]) + 100, (b0, b)
            assert a["state"] == "protected" and a["pair"] == "protecting", a
            assert int(a["checkpoints"]) > int(a0["checkpoints"]) + 20, a
            assert b["role"] == "secondary" and b["pair"] == "armed", b
            assert b["replica"] == "yes", b
            for st, st0 in ((a, a0), (b, b0)):
                assert st["fences"] == st0["fences"] and st["failovers"] == st0["failovers"], st
                assert st["peer_restarts"] == st0["peer_restarts"], st
                assert st["peer_alive"] == "yes", st
            for bd, off in (("a", off_a), ("b", off_b)):
                log = rig.console_log(bd, off)
                assert "event=failover" not in log and "event=fenced" not in log, log
                assert "replica dropped" not in log, log

            bad = (int(a["hb_bad"]) - int(a0["hb_bad"]), int(b["hb_bad"]) - int(b0["hb_bad"]))
            # A real death, the forgeries going on: b takes over.
            rig.fault("a", "kill")
            gap = check_failover_event(rig, "b", off_b)
            b = status(rig, "b")
            assert b["role"] == "primary" and b["takeover"] == "yes", b
        finally:
            p.kill()
            p.wait()
        print(f"  {bad[0]} (a) and {bad[1]} (b) forged heartbeats refused, nothing changed; the "
              f"primary killed: b took over (gap {gap} ms)")


# Runs in the rig's namespace. `record TAP PORT SECONDS OUT`: the UDP frames to PORT that the
# board behind TAP sends, for SECONDS, into OUT (hex lines). `replay TAP IN`: writes them into
# TAP (to the board behind it) in order, again and again, until killed.
REPLAYER = r"""
import socket, sys, time
ETH_P_ALL = 3
cmd, tap = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((tap, 0))
if cmd == "record":
    port, secs, out = int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    frames, end = [], time.monotonic() + secs
    s.settimeout(0.2)
    while time.monotonic() < end:
        try:
            f, addr = s.recvfrom(2048)
        except socket.timeout:
            continue
        # from the board (outgoing from QEMU: PACKET_HOST/OTHERHOST on the tap), IPv4 UDP to port
        if len(f) > 42 and f[12:14] == b"\x08\x00" and f[23] == 17 and \
                int.from_bytes(f[36:38], "big") == port:
            frames.append(f)
    with open(out, "w") as o:
        o.write("\n".join(x.hex() for x in frames) + "\n")
    print(len(frames), flush=True)
else:
    frames = [bytes.fromhex(x) for x in open(sys.argv[3]).read().split()]
    n = 0
    while True:
        for f in frames:
            s.send(f)
            n += 1
            time.sleep(0.005)
        print(n, flush=True)
"""


def test_replayed_heartbeats_do_not_keep_a_dead_primary_alive(ctx):
    with Rig(name="hbreplay", build=ctx.build, bootargs=ARGS) as rig:
        protected(rig)
        rec = os.path.join(rig.state_dir, "hb-a.hex")
        r = subprocess.run(["ip", "netns", "exec", rig.netns, sys.executable, "-c", REPLAYER,
                            "record", BOARDS["a"]["tap"], str(rig._hb_port()), "4", rec],
                           capture_output=True, text=True, timeout=60)
        n = int(r.stdout.strip() or 0)
        assert r.returncode == 0 and n >= 20, (r.stdout, r.stderr)
        b0 = status(rig, "b")
        off_b = rig.log_offset("b")
        p = subprocess.Popen(["ip", "netns", "exec", rig.netns, sys.executable, "-c", REPLAYER,
                              "replay", BOARDS["b"]["tap"], rec],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2)  # replays while the primary lives: nothing changes either
            b = status(rig, "b")
            assert b["pair"] == "armed" and b["replica"] == "yes", b
            assert int(b["hb_bad"]) > int(b0["hb_bad"]), (b0, b)
            rig.fault("a", "kill")
            gap = check_failover_event(rig, "b", off_b)
            b = status(rig, "b")
            assert b["role"] == "primary" and b["takeover"] == "yes", b
            assert p.poll() is None, p.stderr.read()
        finally:
            p.kill()
            p.wait()
        replayed = int(b["hb_bad"]) - int(b0["hb_bad"])
        print(f"  {n} of the primary's heartbeats recorded and replayed to the secondary "
              f"({replayed} refused); the primary killed: b took over (gap {gap} ms)")
