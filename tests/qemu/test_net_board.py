# SPDX-License-Identifier: Apache-2.0
"""The hypervisor's own networking on a pair of QEMU boards (a and b) joined by UDP socket
netdevs: NIC probe and roles, configuration from -append, ping, a 64 MiB TCP transfer with
matching CRCs, and a replication link cut and restored under a running transfer. Only the
hypervisor's stack is used (the test guest's networking is not needed)."""
import os
import re
import socket
import time

from board import Board, PROMPT
from riglib import qemu  # on sys.path through board

BOOT_TIMEOUT = 60
TRANSFER_MIB = 64


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Monitor:
    """QEMU's human monitor on a unix socket."""

    def __init__(self, path, timeout=10):
        end = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self._until_prompt()

    def _until_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("monitor closed")
            buf += data
        return buf.decode(errors="replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self._until_prompt()

    def close(self):
        self.sock.close()


class Pair:
    def __init__(self, ctx, name):
        rp = {"a": free_udp_port(), "b": free_udp_port()}
        sp = {"a": free_udp_port(), "b": free_udp_port()}
        self.boards, self.mons = {}, {}
        try:
            for me, peer, n in (("a", "b", 1), ("b", "a", 2)):
                mon = os.path.join(ctx.logdir, f"{name}-{me}.mon")
                if os.path.exists(mon):
                    os.unlink(mon)
                # The replication NIC comes first: it gets the highest transport (net0).
                nics = [qemu.nic("repl", f"socket,udp=127.0.0.1:{rp[peer]},"
                                         f"localaddr=127.0.0.1:{rp[me]}", f"52:54:00:c0:01:0{n}"),
                        qemu.nic("svc", f"socket,udp=127.0.0.1:{sp[peer]},"
                                        f"localaddr=127.0.0.1:{sp[me]}", f"52:54:00:c0:02:0{n}")]
                extra = ["-chardev", f"socket,id=mon0,path={mon},server=on,wait=off",
                         "-mon", "chardev=mon0,mode=readline"]
                self.boards[me] = Board(ctx.image, ctx.log(f"{name}-{me}"), append=f"cv.board={me}",
                                        nics=nics, extra=extra)
                self.mons[me] = mon
            for b in self.boards.values():
                b.expect(r"colovisor \S+ \(qemu-virt-arm64\)", BOOT_TIMEOUT)
                b.expect(r"net: replication net0", BOOT_TIMEOUT)
                b.expect(re.escape(PROMPT), BOOT_TIMEOUT)
            self.mons = {k: Monitor(v) for k, v in self.mons.items()}
        except Exception:
            self.close()
            raise

    def close(self):
        for m in self.mons.values():
            if isinstance(m, Monitor):
                m.close()
        for b in self.boards.values():
            b.close()


def nics(text):
    """`net` output -> {name: {key: value}} plus the global keys under ''."""
    out, cur = {"": {}}, ""
    for k, v in re.findall(r"^(\w+)=(\S*)$", text, re.M):
        if k == "name":
            cur = v
            out[cur] = {}
        elif k.startswith("lwip_") or k == "nics":
            out[""][k] = v
        else:
            out[cur][k] = v
    return out


def kv(text):
    return dict(re.findall(r"^(\w+)=(\S*)$", text, re.M))


def test_net_pair(ctx):
    p = Pair(ctx, "net_pair")
    a, b = p.boards["a"], p.boards["b"]
    try:
        for board, me, ip, svc in ((a, 1, "198.51.100.1/24", "192.0.2.2/24"),
                                   (b, 2, "198.51.100.2/24", "192.0.2.3/24")):
            n = nics(board.cmd("net"))
            assert n[""]["nics"] == "2", n
            r, s = n["net0"], n["net1"]
            assert r["role"] == "replication" and s["role"] == "service", n
            assert r["mac"] == f"52:54:00:c0:01:0{me}", n
            assert s["mac"] == f"52:54:00:c0:02:0{me}", n
            assert r["link"] == "up" and s["link"] == "up", n
            assert r["ip"] == ip and s["ip"] == svc, n
            # QEMU hands -device options out from the top transport down.
            assert int(r["transport"], 16) > int(s["transport"], 16), n
        cfg = kv(b.cmd("net config"))
        assert cfg["board"] == "b" and cfg["peer_ip"] == "198.51.100.1", cfg

        out = a.cmd("net ping 198.51.100.2 3", 30)
        assert "net: ping sent=3 received=3" in out, out
        assert len(re.findall(r"net: ping 198\.51\.100\.2 seq=\d time_us=\d+", out)) == 3, out
        out = b.cmd("net ping 198.51.100.1 1", 30)
        assert "received=1" in out, out

        # Nobody listens on 5999: refused, and the shell is back.
        out = a.cmd("net send 198.51.100.2 5999 1", 60)
        assert "net: send failed: connection refused" in out, out

        assert "net: sink listening on port 5001" in b.cmd("net sink 5001")
        t0 = time.monotonic()
        out = a.cmd(f"net send 198.51.100.2 5001 {TRANSFER_MIB}", 600)
        wall = time.monotonic() - t0
        m = re.search(r"net: send bytes=(\d+) crc=(0x[0-9a-f]{8}) ms=(\d+) mbps=(\S+)", out)
        assert m, out
        assert int(m.group(1)) == TRANSFER_MIB << 20, out
        s = b.expect(r"net: sink port=5001 bytes=(\d+) crc=(0x[0-9a-f]{8}) mbps=(\S+)\n", 60)
        assert s.group(1) == m.group(1) and s.group(2) == m.group(2), (out, s.group(0))
        mib_s = TRANSFER_MIB / (int(m.group(3)) / 1000)
        print(f"  net: {TRANSFER_MIB} MiB in {m.group(3)} ms ({mib_s:.1f} MiB/s, "
              f"{m.group(4)} Mbit/s; wall {wall:.1f} s), crc {m.group(2)} on both boards")
        st = nics(a.cmd("net"))
        assert st["net0"]["rx_errors"] == "0" and st["net0"]["tx_errors"] == "0", st
        assert a.alive() and b.alive()
    finally:
        p.close()


def test_net_link_cut(ctx):
    p = Pair(ctx, "net_cut")
    a, b = p.boards["a"], p.boards["b"]
    ma = p.mons["a"]
    try:
        assert "received=1" in a.cmd("net ping 198.51.100.2 1", 30)
        b.cmd("net sink 5002")
        out = a.cmd(f"net send 198.51.100.2 5002 {TRANSFER_MIB} bg")
        assert "started in the background" in out, out
        time.sleep(0.5)
        ma.cmd("set_link repl off")
        time.sleep(0.5)
        # Both hypervisors keep answering while the link is down.
        assert "guest=running" in a.cmd("status")
        assert "guest=paused" in b.cmd("status")  # the secondary holds its guest
        assert nics(a.cmd("net"))["net0"]["link"] == "down"
        time.sleep(2)
        ma.cmd("set_link repl on")
        m = a.expect(r"net: send (?:bytes=(\d+) crc=(0x[0-9a-f]{8})|failed: )[^\n]*\n", 120)
        if m.group(1):
            s = b.expect(r"net: sink port=5002 bytes=(\d+) crc=(0x[0-9a-f]{8})", 60)
            assert (s.group(1), s.group(2)) == (m.group(1), m.group(2)), (m.group(0), s.group(0))
            print(f"  net: transfer survived a 2.5 s link cut: {m.group(0).strip()}")
        else:
            print(f"  net: transfer after a link cut: {m.group(0).strip()}")
        assert nics(a.cmd("net"))["net0"]["link"] == "up"
        assert "received=1" in a.cmd("net ping 198.51.100.2 1", 30)

        # With the link down for good, a new transfer gives up with a clear message.
        ma.cmd("set_link repl off")
        t0 = time.monotonic()
        out = a.cmd("net send 198.51.100.2 5002 1", 60)
        assert re.search(r"net: send failed: \S", out), out
        assert time.monotonic() - t0 < 30
        assert "guest=running" in a.cmd("status")
        ma.cmd("set_link repl on")
    finally:
        p.close()
