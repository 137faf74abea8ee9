# SPDX-License-Identifier: Apache-2.0
"""Drives one QEMU board running colovisor over its serial console, for the integration
tests, the benchmarks and the rig."""
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from riglib import qemu  # noqa: E402

PROMPT = "colovisor> "


class Timeout(Exception):
    pass


class Board:
    def __init__(self, image, log_path, cpu=None, mem=None, extra=(), native=False, wrapper=(),
                 board=None, **qemu_args):
        """cpu, mem: the board's defaults if None. native: the machine without EL2. board: the
        build directory's board if None (see qemu.board_of). qemu_args: further qemu.argv()
        arguments (initrd, append, nics, virtio_modern)."""
        self.log_path = log_path
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")
        self.args = qemu.argv(board or qemu.board_of(image), image, native=native, cpu=cpu,
                              mem=mem, serial="stdio", monitor="none", extra=extra,
                              wrapper=wrapper, **qemu_args)
        self.buf = ""
        self.pos = 0  # where the next expect() starts searching
        self.lock = threading.Condition()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            data = self.proc.stdout.read1(4096)
            if not data:
                break
            text = data.decode("utf-8", errors="replace").replace("\r", "")
            self.log.write(text)
            self.log.flush()
            with self.lock:
                self.buf += text
                self.lock.notify_all()
        with self.lock:
            self.lock.notify_all()

    def expect(self, pattern, timeout=30):
        """Waits for regex pattern in the output after the last match; returns the match."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    tail = self.buf[-1500:]
                    raise Timeout(f"no /{pattern}/ within {timeout}s; console tail:\n{tail}")
                self.lock.wait(min(left, 0.5))

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def cmd(self, line, timeout=30):
        """Runs one shell command and returns its output (up to the next prompt)."""
        with self.lock:
            self.pos = len(self.buf)
        self.send(line + "\r")
        start = self.expect(re.escape(line) + r"\n", timeout).end()
        m = self.expect(re.escape(PROMPT), timeout)
        return self.buf[start:m.start()]

    def since(self, pos):
        return self.buf[pos:]

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        self.log.close()

    def guest(self, line, pattern, timeout=60):
        """Attaches to the guest's console, runs one guest command, waits for pattern (a
        regex that should end with a newline), detaches; returns the match."""
        self.send("guest console\r")
        self.expect(r"attached to guest console", 10)
        self.send(line + "\r")
        m = self.expect(pattern, timeout)
        self.send("\x1d")
        self.expect(r"detached from guest console", 10)
        self.expect(re.escape(PROMPT), 10)
        return m

    def guest_start(self, line):
        """Starts a long-running guest command and returns to the shell without waiting."""
        self.send("guest console\r")
        self.expect(r"attached to guest console", 10)
        self.send(line + "\r")
        self.send("\x1d")
        self.expect(r"detached from guest console", 10)
        self.expect(re.escape(PROMPT), 10)


def native_guest(image, log_path, **kw):
    """Boots a guest image directly at EL1 under QEMU (no hypervisor), for same-run baselines.
    Its console is the guest's own. kw: as Board's."""
    return Board(image, log_path, native=True, **kw)
