# SPDX-License-Identifier: Apache-2.0
"""The rig itself: namespace, bridge, taps, QEMU boards, consoles, monitors, faults.
Python 3 standard library only; needs root (network namespaces). See docs/rig.md."""
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import tty

from . import qemu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BUILD = os.path.join(ROOT, "build", "qemu-virt-arm64")
STATE_ROOT = "/run/cvrig"
NETNS_PREFIX = "cvrig-"
DEFAULT_CPU = qemu.board().CPU
BOOT_TIMEOUT = 120
PROMPT = "colovisor> "

# The service LAN (192.0.2.0/24, TEST-NET-1) and the replication link (198.51.100.0/24,
# TEST-NET-2). Nothing here is routed anywhere: it all lives in the run's namespace.
BRIDGE = "br0"
CLIENT_IP = "192.0.2.1"
CLIENT_MAC = "52:54:00:c0:00:01"
SERVICE_NET = "192.0.2.0/24"
REPLICATION_NET = "198.51.100.0/24"
GUEST_IP = "192.0.2.10"
GUEST_MAC = "52:54:00:c0:00:10"
BOARDS = {
    "a": {"repl_ip": "198.51.100.1", "svc_ip": "192.0.2.2", "repl_mac": "52:54:00:c0:01:01",
          "svc_mac": "52:54:00:c0:02:01", "repl_port": 40001, "tap": "cv-a-svc"},
    "b": {"repl_ip": "198.51.100.2", "svc_ip": "192.0.2.3", "repl_mac": "52:54:00:c0:01:02",
          "svc_mac": "52:54:00:c0:02:02", "repl_port": 40002, "tap": "cv-b-svc"},
}
PEER = {"a": "b", "b": "a"}
ROLES = {"a": "a", "b": "b", "primary": "a", "secondary": "b"}
LINKS = {"replication": "repl", "repl": "repl", "service": "svc", "svc": "svc"}
FAULTS = ("kill", "freeze", "thaw", "restart", "cut", "restore", "drop-udp", "allow-udp",
          "isolate", "rejoin")
WITNESS_FAULTS = ("kill", "freeze", "thaw", "restart")
# The witness (tools/cv-witness) runs on the client, the way a user runs it on a host of the
# service LAN; the boards are told of it with cv.witness.
WITNESS_SCRIPT = os.path.join(ROOT, "tools", "cv-witness")
WITNESS_PORT = 7790
# Heartbeats go to the COLO port + 1 (kernel/colo/colo_board.c HB_PORT_OFFSET).
HB_PORT_OFFSET = 1
DEFAULT_COLO_PORT = 7100
NAME_RX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
ESCAPE_BYTE = 0x1C  # Ctrl-\ detaches an interactive `rig console` (Ctrl-] is the hypervisor's)


class RigError(Exception):
    """A rig operation failed; the message says why and what to do."""
    status = 1  # tools/rig's exit status


class RigUsage(RigError):
    """Not root, no such run or board, a bad name: nothing was tried."""
    status = 2


class RigExists(RigUsage):
    """`up` found a run with the same name."""


class RigTimeout(RigError):
    """A board did not answer (no prompt) in time."""


class _Interrupted(BaseException):
    pass


def board_id(board):
    """'primary'/'secondary'/'a'/'b' -> 'a' or 'b'."""
    b = ROLES.get(str(board).lower())
    if b is None:
        raise RigUsage(f"unknown board '{board}': use a, b, primary or secondary")
    return b


def require_root():
    if os.geteuid() != 0:
        raise RigUsage("the rig needs root (it creates a network namespace, a bridge and taps "
                       "and runs QEMU inside the namespace); run it as root, e.g. sudo tools/rig")


def list_runs():
    try:
        return sorted(n for n in os.listdir(STATE_ROOT)
                      if os.path.isdir(os.path.join(STATE_ROOT, n)))
    except FileNotFoundError:
        return []


def _run(args, check=True, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise RigError(f"`{' '.join(args)}` failed ({p.returncode}): {p.stderr.strip()}")
    return p


def _proc_stat(pid):
    """(state letter, starttime) of pid, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[19])


def _strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b.", "", text)


class _Stream:
    """A unix-socket client that collects text (\\r dropped) and waits for regexes in it."""

    def __init__(self, path, timeout, retry=0.0):
        """retry: seconds to keep trying while the socket is missing or not listening yet."""
        end = time.monotonic() + retry
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if isinstance(e, (FileNotFoundError, ConnectionRefusedError)) and \
                        time.monotonic() < end:
                    time.sleep(0.02)
                    continue
                raise RigError(f"cannot connect to {path}: {e.strerror}") from None
        self.buf = ""
        self.pos = 0

    def send(self, data):
        self.sock.sendall(data)

    def expect(self, pattern, deadline):
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise RigTimeout(f"no /{pattern}/")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            if not data:
                raise RigError("the other end closed the socket (board stopped?)")
            self.buf += data.decode("utf-8", errors="replace").replace("\r", "")

    def close(self):
        self.sock.close()


class Rig:
    """One rig run, named `name`: namespace cvrig-<name>, state in /run/cvrig/<name>/.

    Rig(name, build) describes a run to start with up(); Rig.load(name) (or any method on a
    Rig whose run exists) picks up a run started elsewhere, e.g. by `tools/rig up`."""

    def __init__(self, name="default", build=None, single=False, guest="test", image=None,
                 cpu=DEFAULT_CPU, boot_timeout=BOOT_TIMEOUT, bootargs="", witness=True,
                 keys=True):
        # Test runs in parallel checkouts keep apart by a prefix on every run name they use.
        name = os.environ.get("CVRIG_TEST_PREFIX", "") + (name or "")
        if not NAME_RX.match(name or ""):
            raise RigUsage(f"bad run name '{name}': 1-32 characters of A-Z a-z 0-9 _ . - "
                           "(starting with a letter or digit)")
        if guest not in ("test", "linux"):
            raise RigUsage(f"unknown guest '{guest}': test or linux")
        self.name = name
        self.netns = NETNS_PREFIX + name
        self.state_dir = os.path.join(STATE_ROOT, name)
        self.state_file = os.path.join(self.state_dir, "state.json")
        self.build = os.path.abspath(build or DEFAULT_BUILD)
        # The Linux guest's image is built beside the default one (`make linux`).
        default_image = (os.path.join(self.build + "-linux", "colovisor.bin") if guest == "linux"
                         else os.path.join(self.build, "colovisor.bin"))
        self.image = os.path.abspath(image) if image else default_image
        self.single = single
        self.guest = guest
        self.cpu = cpu
        self.boot_timeout = boot_timeout
        # Extra cv.* boot arguments for both boards (cv/config.h), e.g. "cv.colo_verify=1".
        self.bootargs = " ".join(bootargs.split()) if bootargs else ""
        # A pair gets a witness on the client unless told not to (a single board has no pair).
        self.witness = bool(witness) and not single
        # The pair's key (docs/security.md): a fresh one per run, or False for none (a test that
        # runs without one says so, and the boards then refuse unless cv.insecure=1), or per
        # board a pair key other than the rig's (64 hex digits), e.g. {"b": "00" * 32}: for tests
        # of a board that does not hold its peer's key.
        self.keys = keys if isinstance(keys, dict) else bool(keys)
        self.state = None
        self._procs = {}  # board -> Popen, for the QEMUs this process started (to reap them)
        self._lock = threading.RLock()

    # ---- run state ----

    @classmethod
    def load(cls, name="default"):
        """The Rig of an existing run; RigError if there is none."""
        r = cls(name)
        r._load()
        return r

    def _load(self):
        """(Re)reads state.json: other processes (`tools/rig fault ...`) change the run."""
        try:
            with open(self.state_file, encoding="utf-8") as f:
                st = json.load(f)
        except FileNotFoundError:
            raise RigUsage(f"no rig run named '{self.name}' (start one with "
                           f"`tools/rig up --name {self.name}`)") from None
        except ValueError as e:
            raise RigError(f"{self.state_file} is damaged ({e}); `tools/rig down --name "
                           f"{self.name}` cleans the run up") from None
        self.state = st
        self.build, self.image = st["build"], st["image"]
        self.single, self.guest, self.cpu = st["single"], st["guest"], st["cpu"]
        self.boot_timeout = st.get("boot_timeout", BOOT_TIMEOUT)
        self.bootargs = st.get("bootargs", "")
        self.witness = bool(st.get("witness"))
        self.keys = bool(st.get("pair_key_file"))
        return st

    def _save(self):
        tmp = self.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=2)
            f.write("\n")
        os.replace(tmp, self.state_file)

    def exists(self):
        return os.path.isdir(self.state_dir) or self._netns_exists()

    def _netns_exists(self):
        return os.path.exists(os.path.join("/run/netns", self.netns))

    def boards(self):
        return ["a"] if self.single else ["a", "b"]

    def _board(self, board):
        b = board_id(board)
        self._load()
        if b not in self.state["boards"]:
            raise RigUsage(f"run '{self.name}' has no board {b} (it was started with --single)")
        return b

    def _paths(self, b):
        d = self.state_dir
        return {"console": os.path.join(d, f"{b}.console"),
                "log": os.path.join(d, f"{b}.console.log"),
                "monitor": os.path.join(d, f"{b}.monitor"),
                "qemu_log": os.path.join(d, f"{b}.qemu.log"),
                "console_lock": os.path.join(d, f"{b}.console.lock"),
                "monitor_lock": os.path.join(d, f"{b}.monitor.lock")}

    # ---- up ----

    def up(self):
        """Builds the namespace and network, starts the boards and waits for their prompts.
        Returns info(). On any failure or interruption (KeyboardInterrupt, SIGTERM, SIGHUP)
        everything created so far is removed again before the exception propagates."""
        require_root()
        for tool in ("ip", qemu.board(qemu.board_of(self.build)).EMULATOR):
            if shutil.which(tool) is None:
                raise RigError(f"`{tool}` is not installed (tools/setup installs it)")
        if self._netns_exists():
            raise RigExists(f"a rig run named '{self.name}' already exists (namespace "
                            f"{self.netns}); stop it first with `tools/rig down --name "
                            f"{self.name}`")
        os.makedirs(STATE_ROOT, exist_ok=True)
        try:
            os.mkdir(self.state_dir, 0o700)  # claims the name atomically; holds the keys
        except FileExistsError:
            raise RigExists(f"a rig run named '{self.name}' already exists ({self.state_dir}); "
                            f"stop it first with `tools/rig down --name {self.name}`") from None
        old = self._trap_signals()
        try:
            self.state = {"name": self.name, "netns": self.netns, "state_dir": self.state_dir,
                          "phase": "starting", "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                          "build": self.build, "image": self.image, "guest": self.guest,
                          "single": self.single, "cpu": self.cpu, "bootargs": self.bootargs,
                          "boot_timeout": self.boot_timeout, "rig_pid": os.getpid(),
                          "boards": {}, "witness": None, "udp_dropped": [],
                          "pair_key_file": self._new_key("pair.key") if self.keys else None,
                          "board_keys": dict(self.keys) if isinstance(self.keys, dict) else {}}
            if self.witness:
                wd = os.path.join(self.state_dir, "witness")
                self.state["witness"] = {"pid": None, "starttime": None, "argv": None,
                                         "state_dir": wd, "log": wd + ".log",
                                         "ip": CLIENT_IP, "port": WITNESS_PORT,
                                         "key_file": self._new_key("witness.key")}
            for b in self.boards():
                self.state["boards"][b] = {**self._paths(b), **BOARDS[b], "pid": None,
                                           "starttime": None, "argv": None,
                                           "links": {"repl": "up", "svc": "up"}}
            self._save()
            self._net_up()
            if self.witness:
                self._witness_start()
            offsets = {b: self._log_size(b) for b in self.boards()}
            for b in self.boards():
                self._start(b)
            deadline = time.monotonic() + self.boot_timeout
            for b in self.boards():
                self._wait_prompt(b, offsets[b], deadline)
            self.state["phase"] = "up"
            del self.state["rig_pid"]
            self._save()
            return self.info()
        except BaseException:
            for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                with contextlib.suppress(ValueError):
                    signal.signal(s, signal.SIG_IGN)
            try:
                self.down()
            finally:
                self._restore_signals(old)
            raise
        finally:
            self._restore_signals(old)

    @staticmethod
    def _trap_signals():
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            raise _Interrupted(f"interrupted by signal {signum}")
        old = {}
        for s in (signal.SIGTERM, signal.SIGHUP):
            old[s] = signal.signal(s, handler)
        old[signal.SIGINT] = signal.getsignal(signal.SIGINT)
        return old

    @staticmethod
    def _restore_signals(old):
        if old is None or threading.current_thread() is not threading.main_thread():
            return
        for s, h in old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)

    def _net_up(self):
        ns = self.netns
        _run(["ip", "netns", "add", ns])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # IPv4 only: no router solicitations or DAD frames on the service LAN.
        _run(["ip", "netns", "exec", ns, "sh", "-c",
              "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
              "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"])
        _run(["ip", "-n", ns, "link", "add", BRIDGE, "type", "bridge", "stp_state", "0",
              "forward_delay", "0"])
        _run(["ip", "-n", ns, "link", "set", BRIDGE, "address", CLIENT_MAC])
        _run(["ip", "-n", ns, "addr", "add", f"{CLIENT_IP}/24", "dev", BRIDGE])
        for b in self.boards():
            tap = BOARDS[b]["tap"]
            _run(["ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"])
            _run(["ip", "-n", ns, "link", "set", tap, "master", BRIDGE])
            _run(["ip", "-n", ns, "link", "set", tap, "up"])
        _run(["ip", "-n", ns, "link", "set", BRIDGE, "up"])

    def qemu_argv(self, b, paused=False):
        """QEMU's command line for board b (run inside the namespace with `ip netns exec`)."""
        c = BOARDS[b]
        p = self._paths(b)
        peer_port = BOARDS[PEER[b]]["repl_port"]
        return qemu.argv(
            qemu.board_of(self.build), self.image, name=f"cvrig-{self.name}-{b}", cpu=self.cpu,
            append=f"cv.board={b} {self._key_arg(b)}{self._witness_arg()}{self.bootargs}".strip(),
            nics=[qemu.nic("repl", f"socket,udp=127.0.0.1:{peer_port},"
                                   f"localaddr=127.0.0.1:{c['repl_port']}", c["repl_mac"]),
                  qemu.nic("svc", f"tap,ifname={c['tap']},script=no,downscript=no",
                           c["svc_mac"])],
            serial=qemu.console_socket(p["console"], p["log"]),
            monitor=f"unix:{p['monitor']},server=on,wait=off", paused=paused)

    def _start(self, b):
        """Starts board b's QEMU (links recorded as down are cut before the CPU runs)."""
        st = self.state["boards"][b]
        down = [link for link, s in st["links"].items() if s == "down"]
        argv = self.qemu_argv(b, paused=bool(down))
        for sock in (st["console"], st["monitor"]):  # stale sockets of a dead QEMU
            with contextlib.suppress(FileNotFoundError):
                os.unlink(sock)
        with open(st["qemu_log"], "ab") as qlog:
            qlog.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} rig: starting board {b}: "
                       f"{' '.join(argv)}\n".encode())
            qlog.flush()
            proc = subprocess.Popen(["ip", "netns", "exec", self.netns, *argv],
                                    stdin=subprocess.DEVNULL, stdout=qlog,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self._procs[b] = proc
        stat = _proc_stat(proc.pid)
        st.update(pid=proc.pid, starttime=stat[1] if stat else None, argv=argv)
        self._save()
        if down:
            try:
                deadline = time.monotonic() + 10
                while not os.path.exists(st["monitor"]):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RigError(f"board {b}'s QEMU did not start: "
                                       f"{self._qemu_log_tail(b)}")
                    time.sleep(0.02)
                for link in down:
                    self._monitor(b, f"set_link {link} off")
                self._monitor(b, "cont")
            except BaseException:
                self._signal(b, signal.SIGKILL)
                raise

    # ---- keys ----

    def _new_key(self, name):
        """A fresh 256-bit key in the run's state directory (mode 0600): its path."""
        path = os.path.join(self.state_dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        return path

    @staticmethod
    def _read_key(path):
        with open(path) as f:
            return f.read().strip()

    def _key_arg(self, b):
        """Board b's cv.key word: the rig's pair key, or the one the run was told to give b."""
        st = self.state or {}
        key = (st.get("board_keys") or {}).get(b)
        if not key and st.get("pair_key_file"):
            key = self._read_key(st["pair_key_file"])
        return f"cv.key={key} " if key else ""

    # ---- the witness ----

    def set_board_key(self, b, key_hex):
        """From board b's next start on, its cv.key is key_hex (None: the run's pair key again).
        For tests of a board with the wrong key."""
        with self._lock:
            self._load()
            self.state.setdefault("board_keys", {})[b] = key_hex
            self._save()

    def pair_key(self):
        """The run's pair key (hex), None without one."""
        f = (self.state or {}).get("pair_key_file")
        return self._read_key(f) if f else None

    def witness_key(self):
        """The witness's key (hex), None without a witness."""
        w = (self.state or {}).get("witness")
        return self._read_key(w["key_file"]) if w and w.get("key_file") else None

    def _witness_arg(self):
        """The boards' cv.witness and cv.witness_key words (the caller's own bootargs come after
        and win)."""
        w = (self.state or {}).get("witness")
        if not w:
            return ""
        key = f"cv.witness_key={self._read_key(w['key_file'])} " if w.get("key_file") else ""
        return f"cv.witness={w['ip']}:{w['port']} {key}"

    def _witness_start(self):
        w = self.state["witness"]
        argv = [sys.executable, WITNESS_SCRIPT, "--listen", w["ip"], "--port", str(w["port"]),
                "--state-dir", w["state_dir"], "--key-file", w["key_file"]]
        offset = os.path.getsize(w["log"]) if os.path.exists(w["log"]) else 0
        with open(w["log"], "ab") as log:
            proc = subprocess.Popen(["ip", "netns", "exec", self.netns, *argv],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self._procs["witness"] = proc
        stat = _proc_stat(proc.pid)
        w.update(pid=proc.pid, starttime=stat[1] if stat else None, argv=argv)
        self._save()
        deadline = time.monotonic() + 10
        while True:
            with open(w["log"], encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                text = f.read()
            if "event=start" in text:
                return
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RigError(f"the witness did not start: {text.strip()[-800:] or '(no output)'}")
            time.sleep(0.02)

    def _witness_state(self):
        w = self.state.get("witness")
        if not w:
            return "none"
        if self._procs.get("witness"):
            self._procs["witness"].poll()
        stat = _proc_stat(w["pid"]) if w.get("pid") else None
        if stat is None or stat[1] != w.get("starttime") or stat[0] in "ZXx":
            return "dead"
        return "frozen" if stat[0] in "Tt" else "running"

    def _witness_fault(self, what):
        w = self.state.get("witness")
        if not w:
            raise RigUsage(f"run '{self.name}' has no witness (it was started with --no-witness "
                           "or --single)")
        if what not in WITNESS_FAULTS:
            raise RigError(f"the witness takes {', '.join(WITNESS_FAULTS)}, not '{what}'")
        alive = self._witness_state() != "dead"
        sig = {"kill": signal.SIGKILL, "freeze": signal.SIGSTOP, "thaw": signal.SIGCONT,
               "restart": signal.SIGKILL}[what]
        if alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(w["pid"], sig)
        elif what in ("freeze", "thaw"):
            raise RigError("the witness is dead; `restart` it")
        want = {"kill": "dead", "restart": "dead", "freeze": "frozen", "thaw": "running"}[what]
        deadline = time.monotonic() + 10
        while self._witness_state() != want:
            if time.monotonic() > deadline:
                raise RigError(f"the witness did not become {want}")
            time.sleep(0.02)
        if what == "restart":
            self._witness_start()
        return self._witness_status()

    def _witness_status(self):
        w = self.state.get("witness")
        return {"witness_pid": str(w["pid"]) if w else "none",
                "witness_state": self._witness_state()}

    # ---- heartbeat filters (drop-udp) ----

    def _hb_port(self):
        m = re.findall(r"(?:^|\s)cv\.colo_port=(\d+)(?=\s|$)", self.bootargs)
        return (int(m[-1]) if m else DEFAULT_COLO_PORT) + HB_PORT_OFFSET

    def _apply_udp_filters(self):
        """Drops the heartbeat datagrams (UDP to the heartbeat port) between the boards on both
        paths for every board in state["udp_dropped"], and nothing else: the checkpoint stream,
        ARP, the guest's traffic and the witness's datagrams go on. Both paths are filtered in
        the namespace, by u32 matches steering into a class whose queue holds nothing (a pfifo
        of limit 0); the host kernel needs no netfilter for this. Replication: the QEMU socket
        netdev's UDP on lo carries whole Ethernet frames, so the match is on the inner header
        (outer IP 20 + UDP 8 + Ethernet 14 bytes: inner protocol at 51, inner UDP destination
        port at 64). Service LAN: on the egress of each board's tap."""
        ns = self.netns
        dropped = self.state.get("udp_dropped", [])
        port = self._hb_port()
        devs = ["lo"] + [BOARDS[b]["tap"] for b in self.boards()]
        for dev in devs:
            _run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"],
                 check=False)
        if not dropped:
            return

        def tc(*a):
            p = _run(["ip", "netns", "exec", ns, "tc", *a], check=False)
            if p.returncode != 0:
                raise RigError(f"tc {' '.join(a)} failed: {p.stderr.strip()}")

        for dev in devs:
            tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "1",
               "r2q", "100000")
            tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate",
               "100gbit")
            tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:2", "htb", "rate",
               "100gbit")
            tc("qdisc", "add", "dev", dev, "parent", "1:2", "handle", "20:", "pfifo", "limit",
               "0")
        hexport = f"0x{port:04x}"
        prio = 1
        for b in dropped:
            # Replication: the frames of b's cable, from or to b's socket port.
            for at in (20, 22):  # outer UDP source, destination port
                tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio",
                   str(prio), "u32", "match", "u16", f"0x{BOARDS[b]['repl_port']:04x}", "0xffff",
                   "at", str(at), "match", "u8", "0x11", "0xff", "at", "51", "match", "u16",
                   hexport, "0xffff", "at", "64", "flowid", "1:2")
                prio += 1
            # Service LAN: heartbeats to b (b's tap), and from b (the other boards' taps).
            for o in self.boards():
                match = ([] if o == b else
                         ["match", "ip", "src", BOARDS[b]["svc_ip"] + "/32"])
                tc("filter", "add", "dev", BOARDS[o]["tap"], "parent", "1:", "protocol", "ip",
                   "prio", str(prio), "u32", "match", "ip", "protocol", "17", "0xff", *match,
                   "match", "ip", "dport", str(port), "0xffff", "flowid", "1:2")
                prio += 1

    def udp_drops(self):
        """Heartbeat datagrams the drop-udp filters have dropped so far (all devices)."""
        total = 0
        for dev in ["lo"] + [BOARDS[b]["tap"] for b in self.boards()]:
            p = _run(["ip", "netns", "exec", self.netns, "tc", "-s", "qdisc", "show", "dev", dev],
                     check=False)
            m = re.search(r"qdisc pfifo 20:.*?dropped (\d+)", p.stdout, re.S)
            total += int(m.group(1)) if m else 0
        return total

    def _log_size(self, b):
        try:
            return os.path.getsize(self._paths(b)["log"])
        except FileNotFoundError:
            return 0

    def _qemu_log_tail(self, b, n=1500):
        try:
            with open(self._paths(b)["qemu_log"], encoding="utf-8", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return "(no QEMU log)"
        text = text.rsplit("--- ", 1)[-1].partition("\n")[2]  # after the rig's header line
        return text[-n:].strip() or "(nothing)"

    def _console_tail(self, b, offset=0, n=1500):
        try:
            with open(self._paths(b)["log"], "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", errors="replace").replace("\r", "")
        except FileNotFoundError:
            return "(no console output)"
        return text[-n:] or "(nothing)"

    def _wait_prompt(self, b, offset, deadline):
        """Waits until board b's console log shows the prompt after byte offset."""
        self._expect_log(b, re.escape(PROMPT), deadline - time.monotonic(), offset=offset,
                        what=f"board {b} did not reach the `{PROMPT.strip()}` prompt")

    def expect_log(self, board, pattern, timeout, offset=0, what=None):
        """Waits for regex `pattern` in board's console log (from byte `offset`) without
        touching the console socket; returns (match, end offset in bytes). Raises RigTimeout,
        or RigError when the board's QEMU is gone."""
        return self._expect_log(self._board(board), pattern, timeout, offset, what)

    def _expect_log(self, b, pattern, timeout, offset=0, what=None):
        path = self._paths(b)["log"]
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        data = b""
        while True:
            try:
                with open(path, "rb") as f:
                    f.seek(offset + len(data))
                    data += f.read()
            except FileNotFoundError:
                pass
            # latin-1 keeps one character per byte, so match positions are byte offsets.
            text = data.decode("latin-1")
            clean = text.replace("\r", "")
            m = rx.search(clean)
            if m:
                raw_end, seen = 0, 0
                while seen < m.end():
                    if text[raw_end] != "\r":
                        seen += 1
                    raw_end += 1
                return m, offset + raw_end
            state = self._pstate(b)
            if state == "dead":
                raise RigError(f"{what or f'no /{pattern}/ on board {b}'}: its QEMU exited; "
                               f"QEMU said: {self._qemu_log_tail(b)}\nconsole tail:\n"
                               f"{self._console_tail(b, offset)}")
            if time.monotonic() > deadline:
                raise RigTimeout(f"{what or f'no /{pattern}/ on board {b}'} within "
                                 f"{timeout:.0f}s; console tail:\n{self._console_tail(b, offset)}")
            time.sleep(0.05)

    def console_log(self, board, offset=0):
        """Board's console output from byte `offset` on (carriage returns removed)."""
        return self._console_tail(self._board(board), offset, n=1 << 30)

    def log_offset(self, board):
        """The current size of board's console log: pass it to expect_log() as offset."""
        return self._log_size(self._board(board))

    # ---- processes ----

    def board_pid(self, board):
        b = self._board(board)
        return self.state["boards"][b]["pid"]

    def board_state(self, board):
        """'running', 'frozen' or 'dead' (from /proc/<pid>/stat)."""
        return self._pstate(self._board(board))

    def _pstate(self, b):
        st = self.state["boards"][b]
        proc = self._procs.get(b)
        if proc is not None:
            proc.poll()  # reaps our own child if it died
        if not st.get("pid"):
            return "dead"
        stat = _proc_stat(st["pid"])
        if stat is None or stat[0] in "ZXx":
            return "dead"
        if st.get("starttime") is not None and stat[1] != st["starttime"]:
            return "dead"  # the pid belongs to someone else now
        return "frozen" if stat[0] in "Tt" else "running"

    def _wait_state(self, b, want, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            s = self._pstate(b)
            if s in want:
                return s
            if time.monotonic() > deadline:
                raise RigError(f"board {b} is still {s} after {timeout}s")
            time.sleep(0.02)

    def _signal(self, b, sig):
        if self._pstate(b) == "dead":
            return False
        try:
            os.kill(self.state["boards"][b]["pid"], sig)
        except ProcessLookupError:
            return False
        return True

    # ---- faults ----

    def fault(self, board, what, link=None, timeout=None):
        """kill | freeze | thaw | restart, or cut | restore with link 'replication'|'service'.
        Returns the board's status lines as a dict."""
        require_root()
        with self._lock, self._state_flock():
            if board == "witness":
                self._load()
                if what not in WITNESS_FAULTS or link is not None:
                    raise RigError(f"the witness takes {', '.join(WITNESS_FAULTS)} (no link), "
                                   f"not '{' '.join(filter(None, (what, link)))}'")
                return self._witness_fault(what)
            b = self._board(board)  # reads state.json under the lock
            if what not in FAULTS:
                raise RigError(f"unknown fault '{what}': one of {', '.join(FAULTS)}")
            if what in ("drop-udp", "allow-udp", "isolate", "rejoin") and link is not None:
                raise RigError(f"`{what}` takes no link")
            if what in ("drop-udp", "allow-udp"):
                dropped = [x for x in self.state.get("udp_dropped", []) if x != b]
                self.state["udp_dropped"] = dropped + ([b] if what == "drop-udp" else [])
                self._save()
                self._apply_udp_filters()
            elif what in ("isolate", "rejoin"):
                for ln in ("repl", "svc"):
                    self._set_link(b, ln, "down" if what == "isolate" else "up")
            elif what in ("cut", "restore"):
                if link is None or link not in LINKS:
                    raise RigError(f"`{what}` needs a link: replication or service")
                self._set_link(b, LINKS[link], "down" if what == "cut" else "up")
            elif link is not None:
                raise RigError(f"`{what}` takes no link")
            elif what == "kill":
                self._signal(b, signal.SIGKILL)
                self._wait_state(b, ("dead",))
            elif what == "freeze":
                if not self._signal(b, signal.SIGSTOP):
                    raise RigError(f"board {b} is dead; `restart` it")
                self._wait_state(b, ("frozen",))
            elif what == "thaw":
                if not self._signal(b, signal.SIGCONT):
                    raise RigError(f"board {b} is dead; `restart` it")
                self._wait_state(b, ("running",))
            elif what == "restart":
                self._signal(b, signal.SIGKILL)
                self._wait_state(b, ("dead",))
                offset = self._log_size(b)
                self._start(b)
                t = timeout if timeout is not None else self.boot_timeout
                self._wait_prompt(b, offset, time.monotonic() + t)
            return self._board_status(b)

    def _set_link(self, b, link, state):
        st = self.state["boards"][b]
        s = self._pstate(b)
        if s == "frozen":
            raise RigError(f"board {b} is frozen: its monitor cannot answer; `thaw` it first")
        if s == "running":
            self._monitor(b, f"set_link {link} {'off' if state == 'down' else 'on'}")
        # A dead board only records it: the link is cut before the CPU runs on `restart`.
        st["links"][link] = state
        self._save()

    def monitor(self, board, command, timeout=5):
        """Runs one QEMU HMP monitor command on board; returns its output."""
        return self._monitor(self._board(board), command, timeout)

    def _monitor(self, b, command, timeout=5):
        p = self._paths(b)
        deadline = time.monotonic() + timeout
        with self._flock(p["monitor_lock"], f"monitor of board {b}", timeout, "cmd"):
            s = _Stream(p["monitor"], timeout, retry=1.0)
            try:
                try:
                    s.expect(r"\(qemu\) ", deadline)
                    s.send(command.encode() + b"\n")
                    m = s.expect(r"\(qemu\) ", deadline)
                except RigTimeout:
                    raise RigTimeout(f"board {b}'s QEMU monitor did not answer `{command}` "
                                     f"within {timeout}s (board frozen?)") from None
            finally:
                s.close()
        out = _strip_ansi(s.buf[s.buf.index("(qemu) ") + 7:m.start()])
        lines = out.split("\n")
        out = "\n".join(lines[1:]).strip() if lines and command in lines[0] else out.strip()
        if re.search(r"not found|error|unknown command|invalid", out, re.I):
            raise RigError(f"board {b}'s QEMU monitor refused `{command}`: {out}")
        return out

    @contextlib.contextmanager
    def _state_flock(self):
        """Serialises read-modify-write of state.json between processes (faults)."""
        try:
            fd = os.open(os.path.join(self.state_dir, "state.lock"), os.O_RDWR | os.O_CREAT,
                         0o644)
        except FileNotFoundError:
            raise RigUsage(f"no rig run named '{self.name}' (start one with "
                           f"`tools/rig up --name {self.name}`)") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # ---- consoles ----

    @contextlib.contextmanager
    def _flock(self, path, what, timeout, kind):
        """One user at a time of a single-client socket. An interactive holder makes others
        fail at once; a command holder makes them wait up to timeout."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "?"
                    if kind == "interactive" or holder.startswith("interactive") or \
                            time.monotonic() > deadline:
                        raise RigError(
                            f"the {what} is in use ({holder}): QEMU's socket takes one client "
                            "at a time; detach the interactive `tools/rig console` (Ctrl-\\) "
                            "or wait for the other command") from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{kind} pid {os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)

    def console(self, board, cmd, timeout=30):
        """Runs one shell command on board's serial console; returns its output (between the
        echoed command line and the next prompt). RigTimeout if the prompt does not come back.

        It first sends Ctrl-] (leaves `guest console` if someone left it attached; ignored by
        the shell) and Ctrl-C (drops a half-typed line) and waits for the prompt, so a command
        is never left queued on a board that does not answer (frozen, busy socket)."""
        b = self._board(board)
        p = self._paths(b)
        if "\r" in cmd or "\n" in cmd:
            raise RigError("one command per call (no newlines)")
        deadline = time.monotonic() + timeout
        with self._flock(p["console_lock"], f"console of board {b}", timeout, "cmd"):
            if self._pstate(b) == "dead":
                raise RigError(f"board {b} is dead (`tools/rig fault {b} restart` starts it)")
            s = _Stream(p["console"], timeout)
            try:
                try:
                    s.send(b"\x1d\x03")
                    s.expect(r"\^C\n", deadline)
                    s.expect(re.escape(PROMPT), deadline)
                except RigTimeout:
                    raise RigTimeout(f"no prompt from board {b} within {timeout:g}s (frozen, "
                                     "busy, or another client holds its console socket)") \
                        from None
                s.send(cmd.encode() + b"\r")
                try:
                    start = s.expect(re.escape(cmd) + r"\n", deadline).end()
                    end = s.expect(re.escape(PROMPT), deadline).start()
                except RigTimeout:
                    raise RigTimeout(f"board {b} did not finish `{cmd}` within {timeout:g}s; "
                                     f"output so far:\n{s.buf[s.pos:][-1500:]}") from None
                return s.buf[start:end]
            finally:
                s.close()

    def guest_console(self, board, text, pattern, timeout=30, chunk=0):
        """Attaches to the guest's console on board (the shell's `guest console`), types text
        and Enter, waits for regex pattern in what the guest prints, detaches (Ctrl-]); returns
        the guest's output. RigTimeout if the pattern does not come.

        chunk > 0 types text chunk characters at a time, each once the guest has echoed the one
        before: the guest's UART FIFO holds 32 characters and what arrives while it is full is
        lost, so a guest that echoes (a Linux shell) takes longer lines only this way. Keep such
        a line within one terminal row: a wrapped echo is not the text typed."""
        b = self._board(board)
        p = self._paths(b)
        deadline = time.monotonic() + timeout
        with self._flock(p["console_lock"], f"console of board {b}", timeout, "cmd"):
            s = _Stream(p["console"], timeout)
            try:
                s.send(b"\x1d\x03")
                s.expect(re.escape(PROMPT), deadline)
                s.send(b"guest console\r")
                s.expect(r"attached to guest console", deadline)
                start = s.pos
                try:
                    for i in range(0, len(text) if chunk > 0 else 0, max(chunk, 1)):
                        part = text[i:i + chunk]
                        s.send(part.encode())
                        s.expect(re.escape(part), deadline)
                    s.send((text.encode() if chunk <= 0 else b"") + b"\r")
                    m = s.expect(pattern, deadline)
                except RigTimeout:
                    raise RigTimeout(f"no /{pattern}/ from board {b}'s guest within "
                                     f"{timeout:g}s; it printed:\n{s.buf[start:][-1500:]}") \
                        from None
                out = s.buf[start:m.end()]
                s.send(b"\x1d")
                s.expect(r"detached from guest console", deadline)
                s.expect(re.escape(PROMPT), deadline)
                return out
            finally:
                s.close()

    def attach(self, board, stdin=None, stdout=None):
        """Interactive console: raw terminal, Ctrl-\\ (or `~.` at the start of a line)
        detaches. Returns 0 on detach, 1 when the board's console closed."""
        b = self._board(board)
        p = self._paths(b)
        fin = (stdin or sys.stdin).fileno()
        fout = (stdout or sys.stdout).fileno()
        with self._flock(p["console_lock"], f"console of board {b}", 0, "interactive"):
            if self._pstate(b) == "dead":
                raise RigError(f"board {b} is dead (`tools/rig fault {b} restart` starts it)")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            try:
                sock.connect(p["console"])
            except OSError as e:
                sock.close()
                raise RigError(f"cannot connect to {p['console']}: {e.strerror}") from None
            saved = None
            if os.isatty(fin):
                saved = termios.tcgetattr(fin)
                tty.setraw(fin)
            os.write(fout, f"[rig: attached to board {b}'s console; Ctrl-\\ or ~. at the start "
                           "of a line detaches; Ctrl-] is the hypervisor's guest-console "
                           "escape]\r\n".encode())
            rc = 0
            line_start, tilde = True, False
            stdin_open = True
            try:
                while True:
                    rlist = [sock] + ([fin] if stdin_open else [])
                    r, _, _ = select.select(rlist, [], [], None if stdin_open else 1.0)
                    if not r:
                        break  # stdin ended and the board went quiet
                    if sock in r:
                        data = sock.recv(4096)
                        if not data:
                            os.write(fout, b"\r\n[rig: the board's console closed]\r\n")
                            rc = 1
                            break
                        os.write(fout, data)
                    if fin in r:
                        data = os.read(fin, 1024)
                        if not data:
                            stdin_open = False
                            continue
                        out = bytearray()
                        detach = False
                        for c in data:
                            if tilde:
                                tilde = False
                                if c == ord("."):
                                    detach = True
                                    break
                                out.append(ord("~"))
                                if c == ord("~"):
                                    line_start = False
                                    continue
                            if c == ESCAPE_BYTE:
                                detach = True
                                break
                            if line_start and c == ord("~"):
                                tilde = True
                                continue
                            out.append(c)
                            line_start = c in (10, 13)
                        if out:
                            sock.sendall(bytes(out))
                        if detach:
                            break
            finally:
                os.write(fout, b"\r\n[rig: detached]\r\n")
                if saved is not None:
                    termios.tcsetattr(fin, termios.TCSADRAIN, saved)
                sock.close()
            return rc

    # ---- client namespace ----

    def exec(self, args, timeout=None, check=False, capture=True, **kw):
        """Runs args in the client namespace; returns subprocess.CompletedProcess (text,
        captured unless capture=False)."""
        self._load()
        if isinstance(args, str):
            args = ["sh", "-c", args]
        if not self._netns_exists():
            raise RigError(f"namespace {self.netns} is gone; `tools/rig down --name {self.name}`"
                           " cleans up the rest")
        if capture:
            kw.setdefault("capture_output", True)
            kw.setdefault("text", True)
        return subprocess.run(["ip", "netns", "exec", self.netns, *args], timeout=timeout,
                              check=check, **kw)

    # ---- reports ----

    def info(self):
        """What `up` prints, as an ordered dict of strings."""
        self._load()
        d = {"name": self.name, "netns": self.netns, "state_dir": self.state_dir,
             "single": "yes" if self.single else "no", "guest": self.guest,
             "image": self.image, "service_bridge": BRIDGE, "service_net": SERVICE_NET,
             "replication_net": REPLICATION_NET, "client_ip": CLIENT_IP,
             "client_mac": CLIENT_MAC, "guest_ip": GUEST_IP, "guest_mac": GUEST_MAC}
        for b in self.boards():
            st = self.state["boards"][b]
            pre = f"board_{b}_"
            d.update({pre + "pid": str(st["pid"]), pre + "console": st["console"],
                      pre + "log": st["log"], pre + "monitor": st["monitor"],
                      pre + "qemu_log": st["qemu_log"], pre + "repl_ip": st["repl_ip"],
                      pre + "repl_mac": st["repl_mac"], pre + "svc_ip": st["svc_ip"],
                      pre + "svc_mac": st["svc_mac"], pre + "tap": st["tap"],
                      pre + "repl_udp": f"127.0.0.1:{st['repl_port']}"})
        w = self.state.get("witness")
        d["witness"] = f"{w['ip']}:{w['port']}" if w else "none"
        if w:
            d.update(witness_pid=str(w["pid"]), witness_log=w["log"],
                     witness_state_dir=w["state_dir"])
        return d

    def board_status(self, board):
        return self._board_status(self._board(board))

    def _board_status(self, b):
        st = self.state["boards"][b]
        pre = f"board_{b}_"
        return {pre + "pid": str(st["pid"]), pre + "state": self._pstate(b),
                pre + "repl_link": st["links"]["repl"], pre + "svc_link": st["links"]["svc"],
                pre + "heartbeats": ("dropped" if b in self.state.get("udp_dropped", [])
                                     else "passed")}

    def status(self):
        self._load()
        d = {"name": self.name, "netns": self.netns, "state_dir": self.state_dir,
             "phase": self.state.get("phase", "?"),
             "netns_present": "yes" if self._netns_exists() else "no"}
        for b in self.boards():
            d.update(self._board_status(b))
        d.update(self._witness_status())
        return d

    # ---- down ----

    def down(self):
        """Stops every QEMU of the run and every process left in its namespace, deletes the
        taps, the bridge and the namespace, removes the state directory. Idempotent; works on
        half-started runs. Returns True if there was anything to remove."""
        require_root()
        with self._lock:
            found = os.path.isdir(self.state_dir) or self._netns_exists()
            try:
                self._load()
            except RigError:
                pass
            pids = set()
            if self.state:
                for b, st in self.state.get("boards", {}).items():
                    if st.get("pid") and self._pstate(b) != "dead":
                        pids.add(st["pid"])
            if self._netns_exists():
                p = _run(["ip", "netns", "pids", self.netns], check=False)
                pids.update(int(x) for x in p.stdout.split() if x.isdigit())
            pids.discard(os.getpid())
            self._kill_all(pids)
            if self._netns_exists():
                for dev in [BOARDS[b]["tap"] for b in BOARDS] + [BRIDGE]:
                    _run(["ip", "-n", self.netns, "link", "del", dev], check=False)
                p = _run(["ip", "netns", "del", self.netns], check=False)
                if p.returncode != 0 and self._netns_exists():
                    raise RigError(f"could not delete namespace {self.netns}: {p.stderr}")
            shutil.rmtree(self.state_dir, ignore_errors=True)
            for proc in self._procs.values():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            self._procs.clear()
            self.state = None
            return found

    def _kill_all(self, pids):
        if not pids:
            return
        for sig in (signal.SIGTERM, signal.SIGCONT):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            self._reap()
            if all(self._gone(pid) for pid in pids):
                return
            time.sleep(0.02)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            self._reap()
            if all(self._gone(pid) for pid in pids):
                return
            time.sleep(0.02)
        left = [pid for pid in pids if not self._gone(pid)]
        raise RigError(f"processes {left} of run '{self.name}' did not stop")

    def _reap(self):
        for proc in self._procs.values():
            proc.poll()

    @staticmethod
    def _gone(pid):
        s = _proc_stat(pid)
        return s is None or s[0] in "ZXx"

    # ---- context manager ----

    def __enter__(self):
        if self.state is None:
            self.up()
        return self

    def __exit__(self, *exc):
        self.down()
        return False


