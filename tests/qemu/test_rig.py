# SPDX-License-Identifier: Apache-2.0
"""tools/rig, the paired-board QEMU rig: its command-line contract (up's keys, console, exec,
fault, status, down), its Python API, and that it never leaves anything behind: no namespace,
tap, bridge, state directory or QEMU process, also after a failed or interrupted `up`."""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from board import ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
from riglib import Rig, RigError, RigTimeout  # noqa: E402

RIG = os.path.join(ROOT, "tools", "rig")
CONTRACT = ["name", "netns", "state_dir", "client_ip", "guest_ip", "guest_mac", "service_bridge"]
BOARD_KEYS = ["pid", "console", "log", "repl_ip", "svc_ip"]


def rig(*args, timeout=60, check=True):
    p = subprocess.run([RIG, *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"tools/rig {' '.join(args)} exited {p.returncode}:\n"
                             f"{p.stdout}{p.stderr}")
    return p


def kv(text):
    return dict(re.findall(r"^(\w+)=(.*)$", text, re.M))


def leftovers(name):
    """What a run named `name` left behind; empty when it is all gone."""
    left = []
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    if re.search(rf"^cvrig-{re.escape(name)}\b", ns, re.M):
        left.append(f"namespace cvrig-{name}")
    if os.path.exists(f"/run/cvrig/{name}"):
        left.append(f"/run/cvrig/{name}")
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    left += [f"root-namespace link {m}" for m in re.findall(r"^(cv-[ab]-svc)\b", links, re.M)]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"cvrig-{name}-" in cmd or f"/run/cvrig/{name}/" in cmd:
            left.append(f"process {pid}: {cmd[:120]}")
    return left


def assert_clean(name):
    left = leftovers(name)
    assert not left, f"run {name} left behind: {left}"


def fresh(name):
    """Removes what an earlier, crashed test run may have left under this name."""
    Rig(name).down()
    assert_clean(name)


def test_rig_pair_cli_contract(ctx):
    name = "t-pair"
    fresh(name)
    try:
        t0 = time.monotonic()
        p = rig("up", "--name", name, "--build", ctx.build, timeout=150)
        up_s = time.monotonic() - t0
        info = kv(p.stdout)
        for k in CONTRACT:
            assert k in info, f"up printed no {k}=:\n{p.stdout}"
        for b in "ab":
            for k in BOARD_KEYS:
                assert f"board_{b}_{k}" in info, f"up printed no board_{b}_{k}=:\n{p.stdout}"
        assert info["name"] == name and info["netns"] == f"cvrig-{name}", info
        assert info["state_dir"] == f"/run/cvrig/{name}", info
        assert info["client_ip"] == "192.0.2.1" and info["guest_ip"] == "192.0.2.10", info
        assert info["guest_mac"] == "52:54:00:c0:00:10" and info["service_bridge"] == "br0", info
        assert info["board_a_repl_ip"] == "198.51.100.1", info
        assert info["board_b_repl_ip"] == "198.51.100.2", info
        assert info["board_a_svc_ip"] == "192.0.2.2" and info["board_b_svc_ip"] == "192.0.2.3"
        assert os.path.isfile(info["board_a_log"]) and os.path.exists(info["board_b_console"])
        print(f"  (up of a pair took {up_s:.1f}s)")

        # Both consoles answer; the CLI's `console` prints the command's output only.
        # Board a (primary) runs its guest; board b (secondary) holds its copy.
        for b, want in (("a", "running"), ("b", "paused")):
            st = kv(rig("console", "--name", name, b, "status").stdout)
            assert st.get("guest") == want, st
        p = rig("console", "--name", name, "primary", "version")
        assert re.match(r"colovisor \S+ board=qemu-virt-arm64 built .*\n$", p.stdout), p.stdout
        p = rig("console", "--name", name, "b", "help")
        assert "dirty" in p.stdout and "colovisor> " not in p.stdout, p.stdout

        # The client namespace: br0 with 192.0.2.1, both taps on it, no route out.
        p = rig("exec", "--name", name, "ip", "-br", "addr")
        assert re.search(r"^br0\s+UP\s+192\.0\.2\.1/24", p.stdout, re.M), p.stdout
        p = rig("exec", "--name", name, "ip", "-br", "link", "show", "master", "br0")
        assert "cv-a-svc" in p.stdout and "cv-b-svc" in p.stdout, p.stdout
        p = rig("exec", "--name", name, "ip", "route")
        assert "default" not in p.stdout, p.stdout
        p = rig("exec", "--name", name, "ping", "-c", "1", "-W", "2", "192.0.2.1")
        assert "1 received" in p.stdout, p.stdout
        p = rig("exec", "--name", name, "sh", "-c", "exit 7", check=False)
        assert p.returncode == 7, p

        # The QEMU processes run inside the namespace.
        ns_pids = subprocess.run(["ip", "netns", "pids", f"cvrig-{name}"], capture_output=True,
                                 text=True).stdout
        for b in "ab":
            assert info[f"board_{b}_pid"] in ns_pids.split(), (b, ns_pids)
        # So does the witness, on the client's address, and the boards are told of it.
        assert info["witness"] == "192.0.2.1:7790", info
        assert info["witness_pid"] in ns_pids.split(), (info["witness_pid"], ns_pids)
        p = rig("console", "--name", name, "a", "net", "config")
        assert "witness=192.0.2.1:7790\n" in p.stdout, p.stdout

        st = kv(rig("status", "--name", name).stdout)
        assert st["board_a_state"] == "running" and st["board_b_state"] == "running", st

        # A second `up` with the same name refuses and points at `down`; the run survives.
        p = rig("up", "--name", name, "--build", ctx.build, check=False)
        assert p.returncode == 2 and "already exists" in p.stderr and "down" in p.stderr, p
        assert kv(rig("console", "--name", name, "a", "status").stdout)["guest"] == "running"
    finally:
        rig("down", "--name", name, check=False)
    assert_clean(name)
    p = rig("down", "--name", name)  # idempotent
    assert "nothing to do" in p.stderr, p.stderr
    p = rig("status", "--name", name, check=False)
    assert p.returncode == 2 and "no rig run" in p.stderr, p


def test_rig_faults(ctx):
    name = "t-fault"
    fresh(name)
    with Rig(name, ctx.build) as r:
        # freeze: the process is stopped, the console does not answer, thaw brings it back.
        st = kv(rig("fault", "--name", name, "a", "freeze").stdout)
        assert st["board_a_state"] == "frozen", st
        assert kv(rig("status", "--name", name).stdout)["board_a_state"] == "frozen"
        t0 = time.monotonic()
        p = rig("console", "--name", name, "--timeout", "2", "a", "status", check=False)
        assert p.returncode == 1 and "no prompt" in p.stderr, p
        assert time.monotonic() - t0 < 10
        try:
            r.fault("a", "cut", "replication")
            raise AssertionError("cut on a frozen board should refuse")
        except RigError as e:
            assert "frozen" in str(e), e
        rig("fault", "--name", name, "a", "thaw")
        assert r.status()["board_a_state"] == "running"
        assert "guest=running" in r.console("a", "status", timeout=10)

        # kill, then restart: a new QEMU, its console appended to the same log.
        old_pid = r.board_pid("b")
        st = kv(rig("fault", "--name", name, "secondary", "kill").stdout)
        assert st["board_b_state"] == "dead", st
        assert kv(rig("status", "--name", name).stdout)["board_b_state"] == "dead"
        p = rig("console", "--name", name, "b", "version", check=False)
        assert p.returncode == 1 and "dead" in p.stderr, p
        st = kv(rig("fault", "--name", name, "b", "restart").stdout)
        assert st["board_b_state"] == "running" and st["board_b_pid"] != str(old_pid), st
        assert re.match(r"colovisor ", r.console("b", "version", timeout=10))
        with open(r.info()["board_b_log"], encoding="utf-8", errors="replace") as f:
            assert f.read().count("colovisor: ready") == 2, "restart should append to the log"

        # Links through the HMP monitor; status remembers them; a cut survives a restart.
        for link in ("replication", "service"):
            st = kv(rig("fault", "--name", name, "a", "cut", link).stdout)
            assert st[f"board_a_{link[:4] if link == 'replication' else 'svc'}_link"] == "down"
        st = r.status()
        assert st["board_a_repl_link"] == "down" and st["board_a_svc_link"] == "down", st
        assert st["board_b_repl_link"] == "up", st
        r.fault("a", "restart")
        st = r.status()
        assert st["board_a_repl_link"] == "down" and st["board_a_state"] == "running", st
        assert "VM status: running" in r.monitor("a", "info status")
        for link in ("replication", "service"):
            rig("fault", "--name", name, "primary", "restore", link)
        st = r.status()
        assert st["board_a_repl_link"] == "up" and st["board_a_svc_link"] == "up", st
        p = rig("fault", "--name", name, "a", "cut", check=False)
        assert p.returncode == 2, p

        # isolate/rejoin: both links at once.
        st = kv(rig("fault", "--name", name, "b", "isolate").stdout)
        assert st["board_b_repl_link"] == "down" and st["board_b_svc_link"] == "down", st
        st = kv(rig("fault", "--name", name, "b", "rejoin").stdout)
        assert st["board_b_repl_link"] == "up" and st["board_b_svc_link"] == "up", st

        # drop-udp: the boards' heartbeats are lost on both paths, nothing else is.
        st = kv(rig("fault", "--name", name, "a", "drop-udp").stdout)
        assert st["board_a_heartbeats"] == "dropped", st
        deadline = time.monotonic() + 20
        while r.udp_drops() < 20:
            assert time.monotonic() < deadline, r.udp_drops()
            time.sleep(0.5)
        for b in "ab":  # both boards stop hearing each other within their window
            deadline = time.monotonic() + 20
            while True:
                cs = kv(r.console(b, "colo status"))
                if cs["hb_replication"] == "dead" and cs["hb_service"] == "dead":
                    break
                assert time.monotonic() < deadline, cs
                time.sleep(0.5)
        p = rig("exec", "--name", name, "ping", "-c", "1", "-W", "2", "192.0.2.2")
        assert "1 received" in p.stdout, p.stdout  # the service LAN itself still passes
        st = kv(rig("fault", "--name", name, "a", "allow-udp").stdout)
        assert st["board_a_heartbeats"] == "passed", st
        deadline = time.monotonic() + 20
        while kv(r.console("b", "colo status"))["hb_replication"] != "alive":
            assert time.monotonic() < deadline, "heartbeats did not come back"
            time.sleep(0.5)
        p = rig("exec", "--name", name, "tc", "qdisc", "show", "dev", "lo")
        assert "htb" not in p.stdout, p.stdout

        # The witness: killed and restarted, on the same records.
        old = r.status()["witness_pid"]
        st = kv(rig("fault", "--name", name, "witness", "kill").stdout)
        assert st["witness_state"] == "dead", st
        st = kv(rig("fault", "--name", name, "witness", "restart").stdout)
        assert st["witness_state"] == "running" and st["witness_pid"] != old, st
        with open(r.info()["witness_log"], encoding="utf-8") as f:
            assert f.read().count("event=start") == 2
        p = rig("fault", "--name", name, "witness", "cut", "service", check=False)
        assert p.returncode != 0 and "witness" in p.stderr, p

        # Interactive attach on a pty: a concurrent `console CMD` is refused clearly; Ctrl-\
        # detaches (Ctrl-] stays the hypervisor's).
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(RIG, [RIG, "console", "--name", name, "a"])
        try:
            out = _read_until(fd, b"detaches", 10)
            p = rig("console", "--name", name, "a", "version", check=False)
            assert p.returncode == 1 and "in use" in p.stderr, p
            os.write(fd, b"version\r")
            out += _read_until(fd, b"built", 10)
            os.write(fd, b"\x1c")
            out += _read_until(fd, b"[rig: detached]", 10)
            _, status = os.waitpid(pid, 0)
            pid = None
            assert os.WEXITSTATUS(status) == 0, (status, out)
        finally:
            if pid:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(fd)
        assert re.match(r"colovisor ", r.console("a", "version", timeout=10))
        # The API's exec: the client namespace, exit status passed through.
        cp = r.exec(["ip", "-br", "addr", "show", "br0"], timeout=10)
        assert cp.returncode == 0 and "192.0.2.1/24" in cp.stdout, cp
        assert r.exec(["false"], timeout=10).returncode == 1
    assert_clean(name)


def _read_until(fd, token, timeout):
    buf = b""
    end = time.monotonic() + timeout
    while token not in buf:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {token!r} on the pty; got {buf!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
    return buf


def test_rig_failed_up_cleans_up(ctx):
    name = "t-fail"
    fresh(name)
    try:
        # QEMU itself fails (no such image): up says why and removes everything.
        p = rig("up", "--name", name, "--image", "/nonexistent/colovisor.bin", check=False)
        assert p.returncode == 1 and "could not load kernel" in p.stderr, p
        assert_clean(name)
        # A board that never shows the prompt: up times out and removes everything.
        junk = os.path.join(ctx.logdir, "rig-junk.bin")
        with open(junk, "wb") as f:
            f.write(b"\0" * 4096)
        p = rig("up", "--name", name, "--image", junk, "--timeout", "2", check=False)
        assert p.returncode == 1 and "did not reach" in p.stderr, p
        assert_clean(name)
        # SIGTERM while up waits: it removes everything it created.
        proc = subprocess.Popen([RIG, "up", "--name", name, "--image", junk], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        end = time.monotonic() + 20
        while not (os.path.exists(f"/run/cvrig/{name}/a.console.log") and
                   os.path.exists(f"/run/cvrig/{name}/b.console.log")):
            assert proc.poll() is None and time.monotonic() < end, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and "interrupted" in err, (proc.returncode, err)
        assert_clean(name)
    finally:
        Rig(name).down()
    assert_clean(name)


def test_rig_no_witness(ctx):
    name = "t-nowit"
    fresh(name)
    try:
        info = kv(rig("up", "--name", name, "--build", ctx.build, "--no-witness",
                      timeout=150).stdout)
        assert info["witness"] == "none" and "witness_pid" not in info, info
        p = rig("console", "--name", name, "a", "net", "config")
        assert "witness=none\n" in p.stdout, p.stdout
        st = kv(rig("status", "--name", name).stdout)
        assert st["witness_state"] == "none", st
        p = rig("fault", "--name", name, "witness", "kill", check=False)
        assert p.returncode == 2 and "no witness" in p.stderr, p
    finally:
        rig("down", "--name", name, check=False)
    assert_clean(name)


def test_rig_single_and_errors(ctx):
    name = "t-single"
    fresh(name)
    try:
        p = rig("up", "--single", "--guest", "linux", "--name", name, "--build", ctx.build,
                timeout=150)
        info = kv(p.stdout)
        assert "board_a_pid" in info and "board_b_pid" not in info, p.stdout
        assert info["single"] == "yes" and info["guest"] == "linux", info
        st = kv(rig("status", "--name", name).stdout)
        assert st["board_a_state"] == "running" and "board_b_state" not in st, st
        p = rig("console", "--name", name, "b", "version", check=False)
        assert p.returncode == 2 and "no board b" in p.stderr, p
        p = rig("console", "--name", name, "tertiary", "version", check=False)
        assert p.returncode == 2 and "unknown board" in p.stderr, p
        r = Rig.load(name)
        try:
            r.console("a", "guest pause; this is not one command\n", 5)
            raise AssertionError("a newline in a console command should be refused")
        except RigError:
            pass
        # A command that never ends within the timeout: RigTimeout, then the shell is usable.
        try:
            r.console("a", "dirty verify wp 2 100", timeout=1)
            raise AssertionError("expected a timeout")
        except RigTimeout as e:
            assert "did not finish" in str(e), e
        r.expect_log("a", r"dirty verify", 5)
        time.sleep(0.5)
        assert "guest=" in r.console("a", "status", timeout=60)
        # Not root: a clear message, nothing touched. The checkout may sit under a 0700 home
        # that uid 65534 cannot read, so that user runs a world-readable copy of the rig.
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            copy = os.path.join(tmp, "tools")
            shutil.copytree(os.path.dirname(RIG), copy,
                            ignore=shutil.ignore_patterns("__pycache__"))
            # The rig reads the boards' QEMU descriptions (boards/<board>/qemu.py).
            shutil.copytree(os.path.join(os.path.dirname(os.path.dirname(RIG)), "boards"),
                            os.path.join(tmp, "boards"),
                            ignore=shutil.ignore_patterns("__pycache__"))
            p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                os.path.join(copy, "rig"), "status", "--name", name],
                               capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and "needs root" in p.stderr, p
    finally:
        rig("down", "--name", name, check=False)
    assert_clean(name)
