# SPDX-License-Identifier: Apache-2.0
"""Helpers for the tests that drive a protected pair in the rig: `colo status` as a dict,
waiting for a condition on it, and a real client streaming on one connection."""
import json
import os
import re
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def kv(text):
    return dict(re.findall(r"^(\w+)=(.*)$", text, re.M))


def status(rig, board):
    return kv(rig.console(board, "colo status"))


def wait_for(rig, board, pred, timeout, what, every=1.0):
    """Polls board's `colo status` until pred(status) holds; fails early if protection failed
    on a primary that is not meant to retry (state=failed)."""
    deadline = time.monotonic() + timeout
    st = {}
    while time.monotonic() < deadline:
        st = status(rig, board)
        if pred(st):
            return st
        if st.get("state") == "failed" and st.get("role") == "primary":
            break
        time.sleep(every)
    raise AssertionError(f"board {board}: no {what} within {timeout}s; status {st}")


CLIENT = os.path.join(ROOT, "tools", "counter-client")
ARGS = "cv.colo_auto=1 cv.checkpoint_delay=50"


def protected(rig, board="a", timeout=240):
    return wait_for(rig, board, lambda s: s.get("state") == "protected" and
                    int(s.get("checkpoints", 0)) >= 2, timeout, "protection")


class Client:
    """tools/counter-client in stream mode inside the rig's namespace, read line by line."""

    def __init__(self, rig, n, every=0.05, timeout=60):
        self.p = subprocess.Popen(["ip", "netns", "exec", rig.netns, "python3", CLIENT,
                                   "--timeout", str(timeout), "--no-gaps", "stream", str(n),
                                   str(every)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.replies = []

    def wait_replies(self, n, timeout=120):
        deadline = time.monotonic() + timeout
        while len(self.replies) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"client: {len(self.replies)} replies, wanted {n}")
            line = self.p.stdout.readline()
            if not line:
                raise AssertionError(f"client ended early: {self.p.stderr.read()[-2000:]}")
            d = json.loads(line)
            if "id" in d:
                self.replies.append(d)
            else:
                self.result = d
                raise AssertionError(f"client ended early: {d}")

    def stop(self):
        """Ends a client that was meant to run on (n far beyond the test): reads every reply it
        printed and checks, as --no-gaps does, that the counter moved by exactly one each time.
        Returns the replies."""
        self.p.kill()
        # Through the same buffered reader wait_replies() used (communicate() would read the
        # pipe beneath it and miss what the buffer already holds).
        out = self.p.stdout.read()
        self.p.wait(timeout=30)
        for line in out.splitlines():
            try:
                d = json.loads(line)
            except ValueError:
                continue  # the line being written when it was killed
            if "id" in d:
                self.replies.append(d)
            elif d.get("errors"):
                raise AssertionError(f"client: {d}")
        ns = [r["n"] for r in self.replies]
        bad = [(x, y) for x, y in zip(ns, ns[1:]) if y != x + 1]
        assert not bad, f"counter steps other than +1: {bad[:5]}"
        return self.replies

    def finish(self, timeout=300):
        out, err = self.p.communicate(timeout=timeout)
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        self.replies += [d for d in lines if "id" in d]
        res = [d for d in lines if "id" not in d][-1]
        assert self.p.returncode == 0 and not res["errors"], (res, err[-2000:])
        return res


def check_failover_event(rig, board, offset, timeout=60):
    try:
        m, _ = rig.expect_log(board, r"colo: event=failover .*gap_ms=(\d+)", timeout,
                              offset=offset, what=f"board {board} taking over")
    except Exception:  # both boards' COLO lines say why not
        for bd in ("a", "b"):
            for line in rig.console_log(bd).splitlines():
                if "event=" in line or "colo:" in line:
                    print(f"  {bd}| {line}")
        raise
    return int(m.group(1))
