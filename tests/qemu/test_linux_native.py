# SPDX-License-Identifier: Apache-2.0
"""The Debian arm64 Linux guest (guests/linux/build-image) booted directly at EL1 under QEMU,
no hypervisor: its console markers, ping, 1000 counter requests (tools/counter-client) and one
fetch of its httpd page, over a tap in a network namespace (192.0.2.1/24 on the host side).

Run alone (root): `python3 tests/qemu/test_linux_native.py [--build DIR]`; with `--iperf` it
instead boots two instances joined by a QEMU UDP socket netdev pair and prints iperf3's
throughput between them (the baseline of docs/linux-guest.md)."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from board import Board  # noqa: E402
from riglib import qemu  # noqa: E402 (on sys.path through board)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NS = "cvlinux-native"
TAP = "cvltap0"
GUEST_IP = "192.0.2.10"
HOST_IP = "192.0.2.1"


def linux_dir(ctx_build):
    """build/linux next to the hypervisor's build directory (build/qemu-virt-arm64)."""
    return os.path.join(os.path.dirname(os.path.abspath(ctx_build)), "linux")


def ensure_image(out):
    """Runs guests/linux/build-image: a few seconds when build/linux is up to date (it only
    checks the cached packages and rewrites nothing), a download and a build otherwise."""
    p = subprocess.run([os.path.join(ROOT, "guests", "linux", "build-image"), "--out", out],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        print(p.stdout[-3000:], end="")
        raise AssertionError("guests/linux/build-image failed (are the Debian arm64 packages "
                             f"reachable?):\n{p.stderr[-3000:]}")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class Netns:
    """A namespace with a tap (HOST_IP/24) for one QEMU; removed on exit."""

    def __init__(self, name=NS, tap=TAP):
        self.name, self.tap = name, tap
        if name in sh("ip", "netns", "list").stdout.split():
            raise AssertionError(f"network namespace {name} exists already (left over? "
                                 f"`ip netns del {name}`)")

    def __enter__(self):
        sh("ip", "netns", "add", self.name)
        try:
            for cmd in (["ip", "tuntap", "add", "dev", self.tap, "mode", "tap"],
                        ["ip", "addr", "add", f"{HOST_IP}/24", "dev", self.tap],
                        ["ip", "link", "set", self.tap, "up"],
                        ["ip", "link", "set", "lo", "up"]):
                sh("ip", "netns", "exec", self.name, *cmd)
        except BaseException:
            self.__exit__()
            raise
        return self

    def exec(self, *cmd):
        return ["ip", "netns", "exec", self.name, *cmd]

    def __exit__(self, *_):
        for pid in sh("ip", "netns", "pids", self.name, check=False).stdout.split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", self.name, check=False)


def boot(out, log, append, nics=(), wrapper=()):
    """Starts QEMU on Image + initrd.cpio; returns (board, start time)."""
    t0 = time.monotonic()
    b = Board(os.path.join(out, "Image"), log, native=True, wrapper=wrapper,
              initrd=os.path.join(out, "initrd.cpio"), append=append, nics=nics,
              virtio_modern=True)
    return b, t0


def http_get_in_ns(ns, url):
    code = ("import urllib.request,sys;"
            f"sys.stdout.write(urllib.request.urlopen({url!r}, timeout=10).read().decode())")
    p = subprocess.run(ns.exec(sys.executable, "-c", code), capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"GET {url} failed: {p.stderr[-1000:]}")
    return p.stdout


def test_linux_native(ctx):
    out = linux_dir(ctx.build)
    ensure_image(out)
    log = ctx.log("linux_native") if hasattr(ctx, "log") else "/tmp/linux_native.log"
    with Netns() as ns:
        b, t0 = boot(out, log, f"console=ttyAMA0 cv.ip={GUEST_IP}/24",
                     nics=[qemu.nic("n0", f"tap,ifname={TAP},script=no,downscript=no",
                                    "52:54:00:c0:00:10")],
                     wrapper=ns.exec())
        try:
            b.expect(r"linuxguest: init", 90)
            b.expect(r"linuxguest: modules loaded", 30)
            b.expect(rf"linuxguest: eth0 up {re.escape(GUEST_IP)}\b", 30)
            m = b.expect(r"linuxguest: ready \(uptime ([\d.]+) s\)", 30)
            boot_s = time.monotonic() - t0
            print(f"  linux guest ready {boot_s:.1f}s after QEMU start (guest uptime "
                  f"{m.group(1)} s)")
            b.expect(r"linuxguest# ", 15)
            p = subprocess.run(ns.exec("ping", "-c", "3", "-W", "2", GUEST_IP),
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, f"ping {GUEST_IP} failed:\n{p.stdout}{p.stderr}"
            p = subprocess.run(ns.exec(os.path.join(ROOT, "tools", "counter-client"),
                                       "--host", GUEST_IP, "seq", "1000"),
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, f"counter-client failed:\n{p.stdout}{p.stderr}"
            res = json.loads(p.stdout)
            print(f"  counter-client seq 1000: {json.dumps(res)[:300]}")
            page = http_get_in_ns(ns, f"http://{GUEST_IP}/")
            assert "linuxguest httpd ok" in page, f"unexpected page: {page[:500]!r}"
            # The console shell answers too.
            b.send("cat /etc/linuxguest/packages; echo shell-$((6*7))\n")
            b.expect(r"shell-42", 20)
        finally:
            b.close()


# ---------------------------------------------------------- iperf3 pair --

def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def iperf_pair(out, logdir, seconds=10):
    """Two instances over a UDP socket netdev pair on loopback; B serves, A runs the client.
    Returns A's iperf3 output."""
    ports = {"a": free_udp_port(), "b": free_udp_port()}
    boards = []
    try:
        for me, peer, ip, role, n in (("b", "a", "198.51.100.2", "server", 2),
                                      ("a", "b", "198.51.100.1", "client:198.51.100.2", 1)):
            b, _ = boot(out, os.path.join(logdir, f"linux-iperf-{me}.log"),
                        f"console=ttyAMA0 cv.ip={ip}/24 cv.iperf={role} cv.iperf_time={seconds}",
                        nics=[qemu.nic("r", f"socket,udp=127.0.0.1:{ports[peer]},"
                                            f"localaddr=127.0.0.1:{ports[me]}",
                                       f"52:54:00:c0:03:0{n}")])
            boards.append(b)
        a = boards[1]
        start = a.expect(r"linuxguest: ready", 120).end()
        m = a.expect(r"linuxguest: iperf3 client done rc=(\d+)", 120 + seconds * 3)
        text = a.buf[start:m.end()]
        if m.group(1) != "0":
            raise AssertionError(f"iperf3 client failed:\n{text[-2000:]}")
        return text
    finally:
        for b in boards:
            b.close()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "qemu-virt-arm64"))
    ap.add_argument("--iperf", action="store_true")
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()

    class Ctx:
        build = a.build

        @staticmethod
        def log(name):
            d = os.path.join(linux_dir(a.build), "logs")
            os.makedirs(d, exist_ok=True)
            return os.path.join(d, name + ".log")

    if a.iperf:
        ensure_image(linux_dir(a.build))
        print(iperf_pair(linux_dir(a.build), os.path.dirname(Ctx.log("x")), a.seconds))
    else:
        t = time.monotonic()
        test_linux_native(Ctx)
        print(f"PASS test_linux_native ({time.monotonic() - t:.1f}s)")
