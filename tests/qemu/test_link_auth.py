# SPDX-License-Identifier: Apache-2.0
"""The authenticated replication link in the rig (docs/security.md), with a real client
streaming on one connection with --no-gaps, and a hostile host on the replication link
(tests/qemu/repl_attacker.py):

  - a blind attacker floods the secondary with SYNs from other addresses and from the
    primary's, ARP-spoofs the primary to it and the secondary to the primary, and slips a
    plain-protocol stream into the session's port: nothing reconnects, protection goes on,
    the flood is counted and the client sees every reply;
  - a host that takes a dead secondary's place (its IP and MAC) and answers without the key,
    in the old plain protocol or by reflecting the primary's own bytes: the primary never
    counts it as a replica, and protects again once the real secondary is back;
  - a secondary booted with another key: neither board accepts the other, until it has the
    pair's key again;
  - boards without a key refuse to protect (and say why); cv.insecure=1 protects unauthenticated,
    as `colo status` says."""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from riglib import Rig  # noqa: E402
from riglib.rig import BOARDS  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import repl_attacker as atk  # noqa: E402
from pair import ARGS, Client, protected, status, wait_for  # noqa: E402
from test_pair import one_releases, watch  # noqa: E402

ATTACKER = os.path.join(ROOT, "tests", "qemu", "repl_attacker.py")
EVIL_MAC = "52:54:00:66:66:66"


def inject(rig, board, frames):
    port = BOARDS[board]["repl_port"]
    p = subprocess.run(["ip", "netns", "exec", rig.netns, "python3", ATTACKER, "inject",
                        str(port)], input="\n".join(f.hex() for f in frames) + "\n",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and f"inject: {len(frames)} frames" in p.stdout, p


def ints(st, *keys):
    return tuple(int(st[k]) for k in keys)


def test_blind_flood_and_spoof(ctx):
    with Rig(name="laflood", build=ctx.build, bootargs=ARGS) as rig:
        a0, b0 = protected(rig), status(rig, "b")
        assert a0["auth"] == "key" and b0["auth"] == "key", (a0, b0)
        c = Client(rig, 100000, every=0.05, timeout=60)
        c.wait_replies(20)
        A, B = BOARDS["a"], BOARDS["b"]
        frames_b = []
        for i in range(40):  # SYNs from hosts that are not the peer
            frames_b.append(atk.syn_frame(B["repl_mac"], EVIL_MAC, f"198.51.100.{50 + i}",
                                          B["repl_ip"], 20000 + i))
        for i in range(40):  # SYNs claiming to be the primary (its address, our MAC)
            frames_b.append(atk.syn_frame(B["repl_mac"], EVIL_MAC, A["repl_ip"], B["repl_ip"],
                                          30000 + i))
        # "the primary is at our MAC", then a plain stream into the session's port
        frames_b.append(atk.arp_reply(EVIL_MAC, A["repl_ip"], B["repl_mac"], B["repl_ip"]))
        hello = atk.colo_plain(1, 0, bytes(88)) + atk.colo_plain(4, 1)
        for sport in (49152, 49153, 49999):
            frames_b.append(atk.eth(B["repl_mac"], EVIL_MAC, 0x0800,
                                    atk.tcp(A["repl_ip"], B["repl_ip"], sport, 7100, 7,
                                            flags=0x18, ack=1, data=hello)))
        frames_a = [atk.arp_reply(EVIL_MAC, B["repl_ip"], A["repl_mac"], A["repl_ip"])]
        for round_ in range(3):
            inject(rig, "b", frames_b)
            inject(rig, "a", frames_a)
            watch(rig, 3)
        time.sleep(2)
        a, b = status(rig, "a"), status(rig, "b")
        # No new session, no reconnect: the live one was never touched; the flood was counted.
        assert a["state"] == "protected" and b["replica"] == "yes", (a, b)
        assert ints(a, "sessions") == ints(a0, "sessions"), (a0, a)
        assert ints(b, "sessions") == ints(b0, "sessions"), (b0, b)
        assert int(b["link_refused_syn"]) >= 3 * 40, b
        assert int(b["link_replaced"]) == 0, b
        assert int(a["checkpoints"]) > int(a0["checkpoints"]) + 10, (a0, a)
        one_releases(rig)
        n = len(c.replies)
        c.wait_replies(n + 20)
        replies = c.stop()
        print(f"  {3 * len(frames_b)} frames injected to b, {3 * len(frames_a)} to a: "
              f"b refused {b['link_refused_syn']} SYNs, sessions unchanged ({a['sessions']}), "
              f"{int(a['checkpoints']) - int(a0['checkpoints'])} checkpoints meanwhile; client "
              f"{len(replies)} replies without a gap")


def impostor(ctx, name, mode):
    with Rig(name=name, build=ctx.build, bootargs=ARGS) as rig:
        protected(rig)
        c = Client(rig, 100000, every=0.05, timeout=60)
        c.wait_replies(20)
        rig.fault("b", "kill")
        # The primary goes on alone (the witness grants it); then a host takes b's place.
        wait_for(rig, "a", lambda s: s.get("pair") == "alone", 60, "the primary alone")
        n = len(c.replies)
        c.wait_replies(n + 20)  # served alone
        c.stop()
        A, B = BOARDS["a"], BOARDS["b"]
        p = subprocess.Popen(["ip", "netns", "exec", rig.netns, "python3", ATTACKER, "impostor",
                              str(B["repl_port"]), str(A["repl_port"]), B["repl_ip"],
                              B["repl_mac"], mode], stdout=subprocess.PIPE, text=True)
        try:
            assert p.stdout.readline().strip() == "impostor: ready"
            # A primary that never heard its peer connects on its own: restart it, so that it
            # meets the impostor (one that hears a peer waits for the peer's LISTENING, which
            # only a board with the key can send).
            rig.fault("a", "restart")
            a = wait_for(rig, "a", lambda s: int(s.get("link_refused_auth", 0)) >= 2, 120,
                         "the primary refusing the impostor")
            end = time.monotonic() + 10
            while time.monotonic() < end:
                a = status(rig, "a")
                assert a["state"] != "protected" and a.get("replica", "no") != "yes", a
                assert int(a.get("checkpoints", 0)) == 0, a
                time.sleep(1)
            log = rig.console_log("a")
            assert "authentication failed" in log, log[-3000:]
        finally:
            p.kill()
            p.wait()
            subprocess.run(["ip", "-n", rig.netns, "link", "del", "cvatk0"], check=False)
        rig.fault("b", "restart")
        a = wait_for(rig, "a", lambda s: s.get("state") == "protected", 240,
                     "protection with the real secondary")
        print(f"  impostor ({mode}): the primary refused it {a['link_refused_auth']} times and "
              f"took no checkpoint; with the real secondary back it protects again")


def test_impostor_secondary_plain(ctx):
    impostor(ctx, "laimp", "plain")


def test_impostor_secondary_reflect(ctx):
    impostor(ctx, "laref", "reflect")


def test_wrong_key(ctx):
    with Rig(name="lakey", build=ctx.build, bootargs=ARGS) as rig:
        protected(rig)
        rig.set_board_key("b", os.urandom(32).hex())
        rig.fault("b", "restart")
        # Its heartbeats fail their tags: the primary does not even hear a secondary listening.
        a = wait_for(rig, "a", lambda s: int(s.get("hb_bad", 0)) > 20 and s.get("pair") == "alone",
                     120, "the primary refusing the heartbeats of a board with another key")
        # A primary that never heard its peer connects on its own: there the link refuses it.
        rig.fault("a", "restart")
        a = wait_for(rig, "a", lambda s: int(s.get("link_refused_auth", 0)) >= 2, 120,
                     "the primary refusing a secondary with another key")
        b = status(rig, "b")
        assert a["state"] != "protected" and b["replica"] == "no", (a, b)
        assert int(b["link_refused_auth"]) >= 1 and int(b["hb_bad"]) > 0, b
        log = rig.console_log("a")
        assert "authentication failed: the responder does not hold the pair key" in log, log[-3000:]
        rig.set_board_key("b", None)
        rig.fault("b", "restart")
        a = wait_for(rig, "a", lambda s: s.get("state") == "protected", 240,
                     "protection with the key back")
        print(f"  another key: its heartbeats refused ({b['hb_bad']} at b), the link refused "
              f"{a['link_refused_auth']} times by the primary, {b['link_refused_auth']} by the "
              f"secondary; the right key: protected")


def test_no_key_refused_insecure_allowed(ctx):
    with Rig(name="lanokey", build=ctx.build, bootargs=ARGS, witness=False, keys=False) as rig:
        for board in ("a", "b"):
            st = status(rig, board)
            assert st["auth"] == "none" and st["state"] == "unavailable", st
            assert "no pair key (cv.key): protection is refused" in rig.console_log(board)
        out = rig.console("a", "colo start")
        assert "refused: this board has no pair key" in out, out
        assert "key=none" in rig.console("a", "net config")
    with Rig(name="lainsec", build=ctx.build, bootargs=ARGS + " cv.insecure=1", witness=False,
             keys=False) as rig:
        a = protected(rig)
        assert a["auth"] == "insecure", a
        assert "NOT authenticated" in rig.console_log("a")
        print("  no key: both boards refuse to protect; cv.insecure=1: protected, auth=insecure")


def test_key_never_shown(ctx):
    with Rig(name="lashow", build=ctx.build, bootargs=ARGS) as rig:
        protected(rig)
        key, wkey = rig.pair_key(), rig.witness_key()
        assert key and wkey
        for board in ("a", "b"):
            out = rig.console(board, "net config") + rig.console(board, "colo status")
            assert "key=set" in out and "witness_key=set" in out, out
            log = rig.console_log(board)
            for k in (key, wkey):
                assert k not in out and k[:16] not in log, board
        print("  net config and colo status say key=set; neither they nor the console log show "
              "the key")
