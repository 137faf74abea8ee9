#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the test guest under plain QEMU at EL1 with a virtio-net NIC on a tap device inside a
network namespace of its own, and checks the guest's network from a Linux client there: ping,
then the counter service on TCP port 7000 (one connection, pipelining, 100 short connections,
100 concurrent connections, malformed input).

    guests/test/net-test.py [path/to/testguest.bin] [-v]

Needs root (ip netns, tap). Environment: TG_CPU, TG_MEM (as qemu-test.py), TG_NETNS (namespace
name, default cvtest-guest), TG_TAP (tap name, default cvtap0). Everything it creates
(namespace, tap, QEMU, client processes) is removed on exit, also on failure or SIGTERM. An
existing namespace of that name is not touched: the test stops instead.

Only TEST-NET-1 addresses: the namespace side is 192.0.2.1/24, the guest 192.0.2.10; the
namespace has no other interface than lo and the tap, so nothing can leave it.
Also `net-test.py --client <phase>`: the client half, run inside the namespace (JSON out).
"""

import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

GUEST_IP = "192.0.2.10"
HOST_CIDR = "192.0.2.1/24"
PORT = 7000
MAC = "52:54:00:c0:00:10"
NS = os.environ.get("TG_NETNS", "cvtest-guest")
TAP = os.environ.get("TG_TAP", "cvtap0")
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- client half: runs inside the namespace ----

def connect():
    s = socket.create_connection((GUEST_IP, PORT), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Lines:
    """Reads '\\n'-terminated lines from a socket."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError(f"connection closed, partial {self.buf!r}")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()


def reply(line):
    ident, n = line.rsplit(" ", 1)
    return ident, int(n)


def client_seq(count=1000):
    """count requests on one connection, one at a time: latency."""
    s = connect()
    r = Lines(s)
    out, lat = [], []
    start = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        s.sendall(f"q{i}\n".encode())
        out.append(reply(r.line()))
        lat.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    s.close()
    return {"replies": [out], "ids": [[f"q{i}" for i in range(count)]], "elapsed": elapsed,
            "lat_median": statistics.median(lat), "lat_p99": sorted(lat)[int(count * 0.99)]}


def client_pipe(count=1000):
    """count requests on one connection, all sent at once: throughput."""
    s = connect()
    r = Lines(s)
    ids = [f"p{i}-{'x' * (i % 50)}" for i in range(count)]
    start = time.perf_counter()
    s.sendall("".join(i + "\n" for i in ids).encode())
    out = [reply(r.line()) for _ in ids]
    elapsed = time.perf_counter() - start
    s.close()
    return {"replies": [out], "ids": [ids], "elapsed": elapsed}


def client_short(conns=100, per=10):
    """conns short connections one after another, per requests each (pipelined)."""
    all_out, all_ids = [], []
    start = time.perf_counter()
    for c in range(conns):
        s = connect()
        r = Lines(s)
        ids = [f"s{c}.{k}" for k in range(per)]
        s.sendall("".join(i + "\n" for i in ids).encode())
        all_out.append([reply(r.line()) for _ in ids])
        all_ids.append(ids)
        s.close()
    return {"replies": all_out, "ids": all_ids, "elapsed": time.perf_counter() - start}


def client_conc(conns=100):
    """conns connections open at once, requests interleaved; holds them open until told."""
    socks = [connect() for _ in range(conns)]
    readers = [Lines(s) for s in socks]
    out = [[] for _ in socks]
    ids = [[] for _ in socks]
    for rnd in range(2):
        for c, s in enumerate(socks):
            ids[c].append(f"c{c}.{rnd}")
            s.sendall(f"c{c}.{rnd}\n".encode())
        for c, r in enumerate(readers):
            out[c].append(reply(r.line()))
        if rnd == 0:
            print(json.dumps({"open": conns}), flush=True)
            sys.stdin.readline()  # the console checks `net` meanwhile
    for s in socks:
        s.close()
    return {"replies": out, "ids": ids}


def client_edge():
    """Partial lines get no reply; CR LF and empty lines; an over-long line closes."""
    res = {}
    s = connect()
    r = Lines(s)
    s.sendall(b"partial")
    s.settimeout(0.5)
    try:
        res["partial_reply"] = s.recv(100).decode()
    except socket.timeout:
        res["partial_reply"] = ""
    s.settimeout(10)
    s.sendall(b"-id\n\n\r\nwin\r\n")
    res["edge_replies"] = [reply(r.line()), reply(r.line())]
    s.sendall(b"L" * 127 + b"\n")  # 128 bytes with the newline: still allowed
    res["max_line"] = reply(r.line())
    s.sendall(b"y" * 200 + b"\n")
    try:
        extra = s.recv(100)
        res["long_line_closed"] = extra == b""
    except ConnectionResetError:
        res["long_line_closed"] = True
    s.close()
    return res


def client_main(phase):
    fn = {"seq": client_seq, "pipe": client_pipe, "short": client_short, "conc": client_conc,
          "edge": client_edge}[phase]
    print(json.dumps(fn()), flush=True)
    return 0


# ---- test half: sets up the namespace and QEMU ----

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(*cmd, check_rc=True):
    return subprocess.run(cmd, check=check_rc, capture_output=True, text=True)


def ns_exec(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


def client(phase, timeout=120):
    p = subprocess.run(ns_exec(sys.executable, os.path.abspath(__file__), "--client", phase),
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"client {phase} failed: {p.stderr.strip()[-800:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def check_replies(res, what):
    """ids echoed in order and counters strictly increasing on every connection."""
    ok_ids = all([i for i, _ in out] == ids for out, ids in zip(res["replies"], res["ids"]))
    ok_inc = all(all(b[1] > a[1] for a, b in zip(out, out[1:])) for out in res["replies"])
    count = sum(len(x) for x in res["ids"])
    got = sum(len(x) for x in res["replies"])
    check(ok_ids and got == count, f"{what}: {count} replies, ids echoed in order")
    check(ok_inc, f"{what}: counter strictly increasing per connection")
    return [n for out in res["replies"] for _, n in out]


def fields(line, prefix):
    assert line.startswith(prefix), f"{line!r} does not start with {prefix!r}"
    return dict(kv.split("=", 1) for kv in line[len(prefix):].split() if "=" in kv)


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    image = args[0] if args else "/tmp/testguest/testguest.bin"
    verbose = "-v" in sys.argv
    spec = importlib.util.spec_from_file_location("qemu_test", os.path.join(HERE, "qemu-test.py"))
    qt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(qt)

    if NS in run("ip", "netns", "list").stdout.split():
        print(f"error: network namespace {NS} exists already; remove it or set TG_NETNS")
        return 2
    ns_created = False
    guest = None
    conc = None
    try:
        run("ip", "netns", "add", NS)
        ns_created = True
        run("ip", "-n", NS, "link", "set", "lo", "up")
        run("ip", "-n", NS, "tuntap", "add", "dev", TAP, "mode", "tap")
        run("ip", "-n", NS, "addr", "add", HOST_CIDR, "dev", TAP)
        run("ip", "-n", NS, "link", "set", TAP, "up")

        guest = qt.Guest(image, verbose=verbose, wrapper=["ip", "netns", "exec", NS],
                         nics=[qt.qemu.nic("n0", f"tap,ifname={TAP},script=no,downscript=no",
                                           MAC)])
        boot = guest.expect(qt.PROMPT, 20).decode().replace("\r", "")
        netline = [x for x in boot.split("\n") if x.startswith("testguest: net:")]
        check(len(netline) == 1 and f"mac={MAC}" in netline[0]
              and f"ip={GUEST_IP}/24" in netline[0], "boot finds the NIC")
        if netline:
            print("     " + netline[0])
        f = fields(guest.cmd("net")[0], "net:")
        check(f["mac"] == MAC and f["ip"] == GUEST_IP and f["link"] == "up"
              and f["counter"] == "1" and f["conns"] == "0", "net before traffic")
        check(guest.cmd("counter") == ["counter: 1"], "counter starts at 1")

        p = subprocess.run(ns_exec("ping", "-c", "3", "-W", "2", GUEST_IP), capture_output=True,
                           text=True, timeout=30)
        summary = [x for x in p.stdout.splitlines() if "packets transmitted" in x]
        check(p.returncode == 0 and summary and " 3 received" in summary[0], "ping -c 3")
        if summary:
            print("     " + summary[0] + " / " + p.stdout.strip().splitlines()[-1])

        all_n = []
        seq = client("seq")
        all_n += check_replies(seq, "1000 requests on one connection")
        rate_seq = 1000 / seq["elapsed"]
        print(f"     one connection, one request at a time: {rate_seq:.0f} requests/s, "
              f"median latency {seq['lat_median'] * 1e6:.0f} us, p99 {seq['lat_p99'] * 1e6:.0f} us")

        pipe = client("pipe")
        all_n += check_replies(pipe, "1000 pipelined requests on one connection")
        print(f"     one connection, 1000 pipelined: {1000 / pipe['elapsed']:.0f} requests/s")

        short = client("short")
        all_n += check_replies(short, "100 short connections x 10 requests")
        print(f"     100 short connections: {100 / short['elapsed']:.0f} connections/s")

        conc = subprocess.Popen(ns_exec(sys.executable, os.path.abspath(__file__), "--client",
                                        "conc"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        first = conc.stdout.readline()
        if first:
            f = fields(guest.cmd("net")[0], "net:")
            check(f["conns"] == str(json.loads(first)["open"]), "net shows 100 open connections")
        conc.stdin.write("go\n")
        conc.stdin.flush()
        out, err = conc.communicate(timeout=60)
        if conc.returncode != 0:
            raise RuntimeError(f"client conc failed: {err.strip()[-800:]}")
        all_n += check_replies(json.loads(out.strip().splitlines()[-1]),
                               "100 concurrent connections")

        edge = client("edge")
        check(edge["partial_reply"] == "", "no reply to an unterminated line")
        check([i for i, _ in edge["edge_replies"]] == ["partial-id", "win"],
              "line joined across packets, CR stripped, empty lines ignored")
        check(edge["max_line"][0] == "L" * 127, "128-byte line answered")
        check(edge["long_line_closed"], "over-long line closes the connection")
        all_n += [n for _, n in edge["edge_replies"]] + [edge["max_line"][1]]

        total = len(all_n)
        check(sorted(all_n) == list(range(1, total + 1)), f"counter 1..{total}: no gap, no repeat")
        time.sleep(0.5)
        check(guest.cmd("counter") == [f"counter: {total + 1}"], "counter after traffic")
        line = guest.cmd("net")[0]
        print("     " + line)
        f = fields(line, "net:")
        check(f["conns"] == "0" and f["link"] == "up" and int(f["rx"]) > 0
              and int(f["tx"]) > 0, "net after traffic: no connection left open")
        check(guest.cmd("hello") == ["hello from guest"], "console still works")
    except (RuntimeError, TimeoutError, EOFError, subprocess.TimeoutExpired, KeyError,
            ValueError, AssertionError) as e:
        check(False, f"{type(e).__name__}: {e}")
    finally:
        if conc and conc.poll() is None:
            conc.kill()
            conc.wait()
        if guest:
            guest.close()
        if ns_created:
            run("ip", "-n", NS, "link", "del", TAP, check_rc=False)
            run("ip", "netns", "del", NS, check_rc=False)
    print("FAILED: " + ", ".join(failures) if failures else "all passed")
    return 1 if failures else 0


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        sys.exit(client_main(sys.argv[2]))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    sys.exit(main())
