#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the test guest directly under QEMU at EL1 (no hypervisor) and checks every command.

    guests/test/qemu-test.py [path/to/testguest.bin] [-v]

Environment: TG_CPU (QEMU -cpu, default max), TG_MEM (-m, default 1G).
The Guest class is the part worth reusing: start QEMU on a pipe, wait for the prompt, send a
command, collect its output lines, and always kill QEMU in the end.
"""

import os
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools"))
from riglib import qemu  # noqa: E402

PROMPT = b"guest> "


class Guest:
    def __init__(self, image, extra=(), verbose=False, wrapper=(), nics=()):
        """wrapper: argv prefix for QEMU (e.g. ip netns exec <ns>); nics: qemu.nic()s."""
        self.verbose = verbose
        cmd = qemu.argv(qemu.board_of(image), image, native=True,
                        cpu=os.environ.get("TG_CPU", "max"), mem=os.environ.get("TG_MEM"),
                        nics=nics, serial="stdio", monitor="none", no_default_nic=True,
                        extra=extra, wrapper=wrapper)
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return False
        data = os.read(self.p.stdout.fileno(), 65536)
        if not data:
            raise EOFError("QEMU exited")
        if self.verbose:
            sys.stdout.write(data.decode(errors="replace"))
            sys.stdout.flush()
        self.buf += data
        return True

    def expect(self, what, timeout=10.0):
        """Waits for bytes `what`; returns everything before it and consumes through it."""
        end = time.monotonic() + timeout
        while what not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waiting for {what!r}; have {self.buf[-300:]!r}")
            self._read(left)
        before, _, self.buf = self.buf.partition(what)
        return before

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def cmd(self, line, timeout=10.0):
        """Runs one command line; returns its output lines (echo stripped, CR removed)."""
        self.send(line + "\r")
        out = self.expect(PROMPT, timeout).decode(errors="replace").replace("\r", "")
        lines = out.split("\n")
        assert lines[0] == line, f"echo {lines[0]!r} != {line!r}"
        return [x for x in lines[1:] if x]

    def wait_exit(self, timeout=10.0):
        end = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < end:
            try:
                self._read(0.1)
            except EOFError:
                break
        return self.p.wait(max(0.1, end - time.monotonic()))


def fields(line, prefix):
    assert line.startswith(prefix), f"{line!r} does not start with {prefix!r}"
    return dict(kv.split("=", 1) for kv in line[len(prefix):].split() if "=" in kv)


failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    image = args[0] if args else "/tmp/testguest/testguest.bin"
    verbose = "-v" in sys.argv
    with Guest(image, verbose=verbose) as g:
        boot = g.expect(PROMPT).decode().replace("\r", "")
        check("testguest: booted at EL1" in boot and "testguest: ready" in boot, "banner")

        check(g.cmd("hello") == ["hello from guest"], "hello")
        check(g.cmd("nosuch") == ["error: unknown command"], "unknown command")
        check(len(g.cmd("help")) >= 10, "help")
        print("     " + g.cmd("info")[0])

        for hz, secs in ((100, 2), (1000, 2), (10000, 1)):
            out = g.cmd(f"timer {hz} {secs}", timeout=secs + 20)
            f = fields(out[0], "timer:")
            print("     " + out[0])
            ticks, exp = int(f["ticks"]), int(f["expected"])
            check(abs(ticks - exp) <= max(2, exp // 100), f"timer {hz} Hz ticks≈expected")
            check(abs(int(f["elapsed_ms"]) - secs * 1000) <= 20, f"timer {hz} Hz elapsed_ms")

        out = g.cmd("psci")
        print("     " + out[0])
        f = fields(out[0], "psci:")
        check(f["version"] in ("0x10000", "0x10001"), "psci version")
        check(f["features_cpu_on"] == "0" and f["features_system_off"] == "0", "psci features")
        check(f["cpu_on"] in ("-2", "-4"), "psci cpu_on of a missing cpu fails")

        check(g.cmd("memzero") == ["memzero: done pages=4096"], "memzero")
        zero = g.cmd("memsum")[0]
        check(zero == "memsum: 0x" + f"{expected_zero_sum():016x}", "memsum of zeroes")
        out = g.cmd("mem 3 16 7 -v")
        print("     " + "\n     ".join(out))
        check(len(out) == 4 and out[3].startswith("mem: done epochs=3 pages_written=48 "),
              "mem verbose")
        s1 = g.cmd("memsum")[0]
        check(s1 != zero, "memsum changes after mem")
        check(s1 == "memsum: 0x" + f"{model_sum([(3, 16, 7)]):016x}", "memsum matches model")

        out = g.cmd("mem 200 4096", timeout=120)
        print("     " + out[0])
        f = fields(out[0], "mem: done")
        check(int(f["pages_written"]) == 200 * 4096, "mem 200x4096 pages_written")
        s2 = g.cmd("memsum", timeout=30)[0]
        check(s2 == "memsum: 0x" + f"{model_sum([(3, 16, 7), (200, 4096, 1)]):016x}",
              "memsum matches model after mem 200 4096")

        g.send("mem 0 64\r")
        g.expect(b"mem 0 64\r\n")
        time.sleep(1.0)
        g.send("x")
        out = g.expect(PROMPT, 10).decode().replace("\r", "").strip()
        print("     " + out)
        check(out.startswith("mem: done epochs=") and int(fields(out, "mem: done")["epochs"]) > 0,
              "mem forever stops on a key")

        for which in ("ram", "size", "hvc", "smc", "sysreg"):
            out = g.cmd(f"bad {which}")
            print("     " + "\n     ".join(out))
            check(out[-1] == f"bad: done {which}", f"bad {which} finishes")
        check(g.cmd("bad") == ["error: usage: bad ram|size|hvc|smc|sysreg|all"], "bad usage")
        out = g.cmd("bad all")
        check([x for x in out if x.startswith("bad: done")] ==
              [f"bad: done {w}" for w in ("ram", "size", "hvc", "smc", "sysreg")], "bad all")
        check(g.cmd("hello") == ["hello from guest"], "alive after bad")
        out = g.cmd("crash")
        print("     " + "\n     ".join(out))
        check(len(out) == 2 and out[0].startswith("testguest: unexpected exception ec=0x3c ")
              and out[1] == "crash: survived", "unexpected exception reported, guest goes on")
        check(g.cmd("timer 0 1")[0].startswith("error: usage: timer"), "timer usage")
        check(g.cmd("mem 1")[0].startswith("error: usage: mem"), "mem usage")
        check(g.cmd("mem 1 4097")[0].startswith("error: usage: mem"), "mem page limit")

        g.send("reset\r")
        out = g.expect(PROMPT, 10).decode().replace("\r", "")
        check("reset: calling SYSTEM_RESET" in out and "testguest: booted at EL1" in out,
              "reset reboots")
        g.send("poweroff\r")
        g.expect(b"poweroff: calling SYSTEM_OFF")
        check(g.wait_exit() == 0, "poweroff exits QEMU")
    print("FAILED: " + ", ".join(failures) if failures else "all passed")
    return 1 if failures else 0


# Python models of the guest's workload and checksum, for checking memsum end to end.
M64 = (1 << 64) - 1
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
WORK_PAGES = 4096


def expected_zero_sum():
    return model_sum([])


def epoch_seed(seed, epoch):
    z = (seed * 0x9E3779B97F4A7C15 + epoch) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    z ^= z >> 31
    return z or 1


def model_sum(runs):
    """memsum after memzero and then `mem epochs pages seed` for each run in order."""
    pages_mem = {}
    for epochs, pages, seed in runs:
        perm = list(range(WORK_PAGES))
        for e in range(1, epochs + 1):
            s = epoch_seed(seed, e)
            for i in range(pages):
                s ^= (s << 13) & M64
                s ^= s >> 7
                s ^= (s << 17) & M64
                j = i + s % (WORK_PAGES - i)
                perm[i], perm[j] = perm[j], perm[i]
                idx = perm[i]
                w = pages_mem.setdefault(idx, [0, 0, 0, 0])
                count = w[0] + 1
                pattern = count ^ (idx << 32) ^ seed
                pages_mem[idx] = [count, e, pattern, ~pattern & M64]
    h = FNV_OFFSET
    for idx in range(WORK_PAGES):
        w = pages_mem.get(idx)
        words = [0] * 512
        if w:
            words[0], words[1], words[2], words[511] = w
        for x in words:
            h = ((h ^ x) * FNV_PRIME) & M64
    return h


if __name__ == "__main__":
    sys.exit(main())
