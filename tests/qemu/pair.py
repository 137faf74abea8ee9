# SPDX-License-Identifier: Apache-2.0
"""Helpers for the tests that drive a protected pair in the rig: `colo status` as a dict, and
waiting for a condition on it."""
import re
import time


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
