#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The witness service (tools/cv-witness) over real UDP on 127.0.0.1: it replays
tests/witness/scenarios.txt, the file the C rules replay in tests/unit/test_colo_witness.c, so the
two implementations agree; RESTART lines really restart it (SIGTERM, then started again on the
same state directory). Also: the state files and --status, persistence across a restart, garbage
and random bytes get no reply, forged (another key, CRC-sealed) and replayed requests get none,
before and after a restart, the key file's checks, a corrupt state file stops it from starting,
SIGTERM exits 0.

The service's clock is the test's: --test-clock-file (a test-only option) names a file holding
the witness's monotonic time in ms, which the test rewrites before every request.

This test builds and checks datagrams with its own packer and parser, not the service's code.
Run: python3 tests/witness/test_witness.py (meson: the suite unit, test witness-py)."""
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVICE = os.path.join(ROOT, "tools", "cv-witness")
SCENARIOS = os.path.join(HERE, "scenarios.txt")

KINDS = ["?", "RENEW", "CLAIM_ALONE", "CLAIM_TAKEOVER", "BOOT", "QUERY"]
MODES = ["NONE", "PROTECTED", "ALONE", "TAKEOVER"]
VERDICTS = {1: "GRANTED", 2: "REFUSED"}
REASONS = ["OK", "LEASE_LIVE", "STALE_REPLICA", "NOT_OWNER", "STALE_TERM", "NO_RECORD",
           "STARTING", "PEER_HOLDS_REPLICA", "BAD_REQUEST"]
DEFAULT_PAIR = "02:00:00:00:00:01"
PROBE_NONCE = 0x9999999999999999
PROBE_BOOT = 0x9999
LEN = 76
# The witness key the service is started with (its file), and another one (a forger's).
KEY_HEX = "00112233445566778899aabbccddeeff" * 2
OTHER_HEX = "ff" * 32


def hkdf_sha256(ikm, info, length=32):
    """RFC 5869 with no salt (HashLen zeros), written here apart from the service's."""
    prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()
    okm, block = b"", b""
    n = 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([n]), hashlib.sha256).digest()
        okm += block
        n += 1
    return okm[:length]


MAC_KEY = hkdf_sha256(bytes.fromhex(KEY_HEX), b"colovisor witness")
OTHER_MAC_KEY = hkdf_sha256(bytes.fromhex(OTHER_HEX), b"colovisor witness")


def seal(body, key=MAC_KEY):
    if key is None:
        return struct.pack("<I", crc32c(body)) + bytes(12)
    return hmac.new(key, body, hashlib.sha256).digest()[:16]


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def num(s):
    return int(s, 0)


def pack_request(kind, board, pair=DEFAULT_PAIR, mode=0, nonce=0, boot=0, term=0, epoch=0,
                 ttl=0, version=2, magic=0x51575643, rsvd15=0, rsvd52=0, badcrc=False, length=LEN,
                 wrongkey=False, crc=False, key=MAC_KEY):
    """badcrc flips a bit of the seal; wrongkey seals with another key; crc with the CRC."""
    b = bytearray(LEN)
    struct.pack_into("<IHBB", b, 0, magic, version, kind, board)
    b[8:14] = bytes(int(x, 16) for x in pair.split(":"))
    b[14], b[15] = mode, rsvd15
    struct.pack_into("<QQQQI", b, 16, nonce, boot, term, epoch, ttl)
    b[52] = rsvd52
    b[60:76] = seal(bytes(b[:60]), None if crc else OTHER_MAC_KEY if wrongkey else key)
    if badcrc:
        b[60] ^= 1
    return bytes(b[:length]) + bytes(max(0, length - LEN))


def parse_reply(data, key=MAC_KEY):
    """The reply's fields; fails on anything a correct witness does not send."""
    assert len(data) == LEN, len(data)
    (magic, version, kind, board, pair, verdict, reason, nonce, term, epoch, owner, mode, rsvd,
     ttl, wait, rsvd8, tag) = struct.unpack("<IHBB6sBBQQQBBHII8s16s", data)
    assert magic == 0x52575643 and version == 2, (magic, version)
    assert tag == seal(data[:60], key), "reply tag"
    assert rsvd == 0 and rsvd8 == bytes(8), "reply reserved bytes"
    return {"kind": kind, "board": chr(board), "pair": pair, "verdict": VERDICTS[verdict],
            "reason": REASONS[reason], "nonce": nonce, "term": term, "epoch": epoch,
            "owner": chr(owner) if owner else "-", "mode": MODES[mode], "ttl": ttl, "wait": wait}


def parse_scenarios(path):
    """[[(lineno, line dict), ...], ...]: one list per scenario (blank lines separate them)."""
    scenarios, cur = [], []
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                if "#" not in raw and cur:
                    scenarios.append(cur)
                    cur = []
                continue
            tok = text.split()
            assert tok[0].startswith("@"), f"{lineno}: expected @T"
            line = {"at": num(tok[0][1:])}
            if tok[1] == "RESTART":
                line["restart"] = True
                cur.append((lineno, line))
                continue
            kind = KINDS.index(tok[1]) if tok[1] in KINDS else num(tok[1])
            assert len(tok[2]) == 1, f"{lineno}: board"
            req = {"kind": kind, "board": ord(tok[2]), "nonce": lineno}
            i = 3
            while tok[i] != "=>":
                if tok[i] in ("badcrc", "wrongkey", "crc"):
                    req[tok[i]] = True
                else:
                    k, v = tok[i].split("=", 1)
                    if k == "pair":
                        req["pair"] = v
                    elif k == "mode":
                        req["mode"] = MODES.index(v) if v in MODES else num(v)
                    elif k == "len":
                        req["length"] = num(v)
                    else:
                        assert k in ("boot", "term", "epoch", "ttl", "nonce", "version", "magic",
                                     "rsvd15", "rsvd52"), f"{lineno}: key {k}"
                        req[k] = num(v)
                i += 1
            line["request"] = req
            out = tok[i + 1:]
            if out in (["DROP"], ["REPLAY"]):
                line["drop"] = True  # no reply either way
            else:
                assert len(out) == 8, f"{lineno}: outcome"
                exp = {"verdict": out[0], "reason": out[1]}
                for kv in out[2:]:
                    k, v = kv.split("=", 1)
                    exp[k] = v if k in ("owner", "mode") else num(v)
                line["expect"] = exp
            cur.append((lineno, line))
    if cur:
        scenarios.append(cur)
    return scenarios


class Service:
    """One cv-witness process on 127.0.0.1 (any free port), its clock and state in a temp dir."""

    def __init__(self, state_dir, workdir):
        self.state_dir = state_dir
        self.key_file = os.path.join(workdir, "witness.key")
        with open(os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(KEY_HEX + "\n")
        self.clock = os.path.join(workdir, "clock")
        self.logpath = os.path.join(workdir, "log")
        self.proc = None
        self.port = None

    def set_clock(self, ms):
        tmp = self.clock + ".new"
        with open(tmp, "w") as f:
            f.write(f"{ms}\n")
        os.replace(tmp, self.clock)

    def start(self, at=0):
        self.set_clock(at)
        log = open(self.logpath, "a")
        start_len = log.tell()
        self.proc = subprocess.Popen(
            [sys.executable, SERVICE, "--listen", "127.0.0.1", "--port", "0", "--state-dir",
             self.state_dir, "--log-level", "debug", "--test-clock-file", self.clock,
             "--key-file", self.key_file],
            stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with open(self.logpath) as f:
                f.seek(start_len)
                m = re.search(r"event=start .*port=(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"cv-witness exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.02)
        raise AssertionError("cv-witness did not start: " + self.log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("cv-witness ignored SIGTERM")
            self.proc = None
            return rc
        return None

    def log(self):
        try:
            with open(self.logpath) as f:
                return f.read()
        except OSError:
            return ""


class WitnessTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cv-witness-test-")
        self.services = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.probes = 0

    def tearDown(self):
        self.sock.close()
        for s in self.services:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def service(self, name):
        work = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(work, "state"))
        s = Service(os.path.join(work, "state"), work)
        self.services.append(s)
        return s

    def send(self, svc, data):
        self.sock.sendto(data, ("127.0.0.1", svc.port))

    def recv(self):
        data, _ = self.sock.recvfrom(2048)
        return parse_reply(data)

    def probe(self, svc, pair=DEFAULT_PAIR):
        """A QUERY after something that must get no reply: the first reply that comes is the
        probe's (the service answers in order), so nothing was sent for what came before."""
        self.probes += 1
        nonce = PROBE_NONCE + self.probes  # a nonce of its own each time: no probe is a replay
        self.send(svc, pack_request(5, ord("a"), pair=pair, nonce=nonce, boot=PROBE_BOOT))
        r = self.recv()
        self.assertEqual(r["nonce"], nonce, f"a reply to garbage: {r}")
        return r

    def test_scenarios(self):
        """Every line of scenarios.txt gives the reply the C rules give (or none)."""
        scenarios = parse_scenarios(SCENARIOS)
        self.assertGreaterEqual(len(scenarios), 10)
        checked = 0
        for n, scenario in enumerate(scenarios):
            svc = self.service(f"s{n}")
            svc.start(0)
            last = 0
            for lineno, line in scenario:
                where = f"scenarios.txt:{lineno}"
                self.assertGreaterEqual(line["at"], last, where)
                last = line["at"]
                if line.get("restart"):
                    self.assertEqual(svc.stop(), 0, where)
                    svc.start(line["at"])
                    continue
                svc.set_clock(line["at"])
                req = line["request"]
                self.send(svc, pack_request(**req))
                if line.get("drop"):
                    self.probe(svc, req.get("pair", DEFAULT_PAIR))
                else:
                    r = self.recv()
                    self.assertEqual(r["nonce"], req["nonce"], where)
                    self.assertEqual((r["kind"], ord(r["board"])), (req["kind"], req["board"]),
                                     where)
                    got = {k: r[k] for k in line["expect"]}
                    self.assertEqual(got, line["expect"], f"{where}\n{svc.log()[-3000:]}")
                checked += 1
            self.assertEqual(svc.stop(), 0)
        self.assertGreaterEqual(checked, 100)

    def test_persistence_status_and_signals(self):
        svc = self.service("p")
        svc.start(1000)
        pair = "02:00:00:00:00:2a"
        self.send(svc, pack_request(4, ord("a"), pair=pair, nonce=1, boot=0xa1, term=2, ttl=3000))
        self.assertEqual(self.recv()["verdict"], "GRANTED")
        svc.set_clock(1100)
        self.send(svc, pack_request(1, ord("a"), pair=pair, mode=1, nonce=2, boot=0xa1, term=2,
                                    epoch=77, ttl=1000))
        r = self.recv()
        self.assertEqual((r["verdict"], r["mode"], r["epoch"]), ("GRANTED", "PROTECTED", 77))

        # The state file: written before the reply, atomically (no temp file left).
        path = os.path.join(svc.state_dir, "02-00-00-00-00-2a.json")
        with open(path) as f:
            d = json.load(f)
        self.assertEqual(d, {"version": 2, "pair": pair, "term": 2, "owner": "a",
                             "owner_boot": 0xa1, "mode": "PROTECTED", "epoch": 77,
                             "max_ttl_ms": 3000, "seen": {"a": [[0xa1, 2]], "b": []}})
        self.assertEqual(sorted(os.listdir(svc.state_dir)), ["02-00-00-00-00-2a.json"])

        # SIGTERM: exit 0, with its log line.
        self.assertEqual(svc.stop(), 0)
        self.assertIn("event=stop", svc.log())
        self.assertRegex(svc.log(), r"event=decision pair=02:00:00:00:00:2a .*kind=RENEW .*"
                                    r"verdict=GRANTED reason=OK")

        out = subprocess.run([sys.executable, SERVICE, "--status", "--state-dir", svc.state_dir],
                             capture_output=True, text=True, check=True).stdout
        self.assertEqual(out, f"pair={pair} term=2 owner=a owner_boot=0xa1 mode=PROTECTED "
                              f"epoch=77 max_ttl_ms=3000\nrecords=1\n")

        # Started again at 50000: the record survived; a takeover waits the window out
        # (3000 + 60 + 20 from the start), the lease granted before is forgotten.
        svc.start(50000)
        self.assertIn("records=1", svc.log())
        svc.set_clock(50001)
        take = dict(pair=pair, boot=0xb1, term=3, epoch=77, ttl=1000)
        self.send(svc, pack_request(3, ord("b"), nonce=3, **take))
        r = self.recv()
        self.assertEqual((r["reason"], r["wait"], r["owner"], r["epoch"]),
                         ("STARTING", 3079, "a", 77))
        self.assertRegex(svc.log(), r"kind=CLAIM_TAKEOVER board=b .*reason=STARTING")
        svc.set_clock(53080)
        self.send(svc, pack_request(3, ord("b"), nonce=4, **take))
        r = self.recv()
        self.assertEqual((r["verdict"], r["owner"], r["mode"], r["term"]),
                         ("GRANTED", "b", "TAKEOVER", 3))
        with open(path) as f:
            self.assertEqual(json.load(f)["owner"], "b")
        self.assertEqual(svc.stop(), 0)

    def test_garbage(self):
        """Random bytes, truncated and damaged datagrams and replies sent back get nothing."""
        svc = self.service("g")
        svc.start(0)
        rnd = random.Random(11)
        good = pack_request(4, ord("a"), nonce=5, boot=1, term=2, ttl=1000)
        junk = [b"", b"\0", bytes(64), bytes(76), bytes(77), good[:75], good + b"\0",
                b"CVWQ" + bytes(72), pack_request(4, ord("a"), nonce=5, boot=1, term=2, ttl=1000,
                                                  crc=True),
                pack_request(4, ord("a"), nonce=5, boot=1, term=2, ttl=1000, wrongkey=True)]
        for i in range(LEN):
            b = bytearray(good)
            b[i] ^= 1 << rnd.randrange(8)
            junk.append(bytes(b))
        for _ in range(100):
            junk.append(bytes(rnd.randrange(256) for _ in range(rnd.choice([16, 64, 75, 76, 200]))))
        for j in junk:
            self.send(svc, j)
        r = self.probe(svc)
        self.assertEqual(r["owner"], "-")  # none of it made a record
        # A reply sent to the witness is no request either.
        self.send(svc, good)
        reply = self.sock.recvfrom(2048)[0]
        self.assertEqual(parse_reply(reply)["verdict"], "GRANTED")
        self.send(svc, reply)
        self.probe(svc)
        self.assertEqual(svc.stop(), 0)

    def test_replay_and_forgery(self):
        """A request seen before, or older, gets no reply, also after a restart (its nonce was
        written before the reply); a forged one neither; a board's next nonce does."""
        svc = self.service("r")
        svc.start(0)
        boot = pack_request(4, ord("a"), nonce=10, boot=0xa1, term=2, ttl=1000)
        renew = pack_request(1, ord("a"), mode=1, nonce=11, boot=0xa1, term=2, epoch=3, ttl=1000)
        self.send(svc, boot)
        self.assertEqual(self.recv()["verdict"], "GRANTED")
        self.send(svc, renew)
        self.assertEqual(self.recv()["epoch"], 3)
        for again in (boot, renew,
                      pack_request(1, ord("a"), mode=1, nonce=9, boot=0xa1, term=2, epoch=4,
                                   ttl=1000),
                      pack_request(1, ord("a"), mode=1, nonce=12, boot=0xa1, term=2, epoch=4,
                                   ttl=1000, wrongkey=True)):
            self.send(svc, again)
            self.assertEqual(self.probe(svc)["epoch"], 3)
        self.assertRegex(svc.log(), r"event=replay .*kind=RENEW board=a boot=0xa1 nonce=11")
        self.assertEqual(svc.stop(), 0)
        svc.start(5000)
        self.send(svc, renew)
        self.probe(svc)
        self.send(svc, pack_request(1, ord("a"), mode=1, nonce=12, boot=0xa1, term=2, epoch=4,
                                    ttl=1000))
        self.assertEqual(self.recv()["epoch"], 4)
        self.assertEqual(svc.stop(), 0)

    def test_key_file(self):
        """No key file, a readable one or a malformed one: it does not start."""
        work = os.path.join(self.tmp, "k")
        os.makedirs(work)
        state = os.path.join(work, "state")
        cases = [([], "no --key-file"), (["--key-file", os.path.join(work, "missing")], "missing")]
        for name, mode, text in (("open", 0o644, KEY_HEX), ("short", 0o600, KEY_HEX[:-2]),
                                 ("nothex", 0o600, "zz" * 32)):
            path = os.path.join(work, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, mode)
            cases.append((["--key-file", path], name))
        for extra, what in cases:
            p = subprocess.run([sys.executable, SERVICE, "--port", "0", "--listen", "127.0.0.1",
                                "--state-dir", state] + extra, capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 1, what)
            self.assertIn("cannot start", p.stderr, what)

    def test_bad_state_file(self):
        """A state file it cannot trust stops it at start: a record silently dropped could let
        the other board win what this one owns."""
        svc = self.service("bad")
        bad = [
            "{not json",
            json.dumps({"version": 1, "pair": "02:00:00:00:00:01", "term": 3, "owner": "a",
                        "owner_boot": 1, "mode": "PROTECTED", "epoch": 0, "max_ttl_ms": 10}),
            json.dumps({"version": 1, "pair": "02:00:00:00:00:09", "term": 2, "owner": "a",
                        "owner_boot": 1, "mode": "PROTECTED", "epoch": 0, "max_ttl_ms": 10}),
            json.dumps({"version": 3, "pair": "02:00:00:00:00:01", "term": 2, "owner": "a",
                        "owner_boot": 1, "mode": "PROTECTED", "epoch": 0, "max_ttl_ms": 10}),
            json.dumps({"version": 2, "pair": "02:00:00:00:00:01", "term": 2, "owner": "a",
                        "owner_boot": 1, "mode": "PROTECTED", "epoch": 0, "max_ttl_ms": 10,
                        "seen": {"a": [[0, 1]], "b": []}}),
        ]
        path = os.path.join(svc.state_dir, "02-00-00-00-00-01.json")
        for text in bad:
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([sys.executable, SERVICE, "--port", "0", "--listen", "127.0.0.1",
                                "--state-dir", svc.state_dir, "--key-file", svc.key_file],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 1, text)
            self.assertIn("cannot start", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
