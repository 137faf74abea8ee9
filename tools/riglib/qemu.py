# SPDX-License-Identifier: Apache-2.0
"""QEMU command lines for a board, from its description in boards/<board>/qemu.py. The rig,
the tests (tests/qemu/board.py), tools/bench, tests/fuzz/run and guests/test/qemu-test.py all
start QEMU through argv() so that a board's emulator, machine, CPU, memory, NIC and console
wiring are written down once. Python 3 standard library only.

    from riglib import qemu
    qemu.argv(image="build/qemu-virt-arm64/colovisor.bin", serial="stdio", monitor="none")
"""
import importlib.util
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BOARD = "qemu-virt-arm64"
_loaded = {}


def board(name=None):
    """The description module of board `name` (boards/<name>/qemu.py)."""
    name = name or DEFAULT_BOARD
    if name not in _loaded:
        path = os.path.join(ROOT, "boards", name, "qemu.py")
        if not os.path.exists(path):
            raise ValueError(f"board '{name}' has no QEMU description ({path})")
        spec = importlib.util.spec_from_file_location(f"cvboard_{name.replace('-', '_')}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mod.NAME = name
        _loaded[name] = mod
    return _loaded[name]


def board_of(path):
    """The board the meson build directory holding `path` (a build directory or a file in one)
    was configured for; DEFAULT_BOARD outside a build directory (a native guest's image, a
    file elsewhere)."""
    d = os.path.abspath(path)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    while True:
        try:
            with open(os.path.join(d, "meson-info", "intro-buildoptions.json")) as f:
                for o in json.load(f):
                    if o.get("name") == "board":
                        return o["value"]
        except (OSError, ValueError):
            pass
        parent = os.path.dirname(d)
        if parent == d or d == ROOT:
            break
        d = parent
    return DEFAULT_BOARD


def cross_file(name=None):
    """build/cross-<cpu family>.ini for the board's arch, as the Makefile picks it."""
    name = name or DEFAULT_BOARD
    arch = _meson_var(os.path.join(ROOT, "boards", name, "meson.build"), "board_arch")
    cpu = _meson_var(os.path.join(ROOT, "kernel", "arch", arch, "meson.build"), "arch_cpu_family")
    return os.path.join(ROOT, "build", f"cross-{cpu}.ini")


def _meson_var(path, var):
    with open(path) as f:
        m = re.search(rf"^{var} = '(.*)'", f.read(), re.M)
    if not m:
        raise ValueError(f"{path} sets no {var}")
    return m.group(1)


def nic(id, backend, mac):
    """One NIC for argv(nics=...): backend is a -netdev without its id, e.g.
    "tap,ifname=cvtap0,script=no,downscript=no"."""
    return (id, backend, mac)


def console_socket(path, logfile):
    """serial= for a console on a unix socket server that QEMU also logs to logfile: returns
    (chardev options, -serial value)."""
    return (["-chardev", f"socket,id=con,path={path},server=on,wait=off,"
                         f"logfile={logfile},logappend=on"], "chardev:con")


def argv(board_name=None, image=None, *, native=False, machine=None, cpu=None, mem=None,
         name=None, initrd=None, append=None, nics=(), virtio_modern=False, serial=None,
         monitor=None, no_default_nic=False, dumpdtb=None, extra=(), wrapper=(), paused=False):
    """QEMU's argv for board_name (DEFAULT_BOARD if None).

    native: the machine without EL2 (a guest booted directly at EL1); machine: another machine
    string instead (one of the board's DT_MACHINES). cpu, mem: -cpu and -m (the board's
    defaults if None). name: -name. image: loaded as the board loads images; initrd, append:
    -initrd, -append. nics: nic() tuples, attached in order (the first gets the board's first
    NIC slot). virtio_modern: the board's NIC globals even without nics. serial: a -serial
    value ("stdio") or a console_socket(). monitor: a -monitor value. no_default_nic: -nic
    none. dumpdtb: QEMU writes the machine's device tree there and exits. extra: further
    options, after all of the above; wrapper: an argv prefix (e.g. ip netns exec NS).
    paused: -S."""
    b = board(board_name)
    machine = machine or (b.MACHINE_NATIVE if native else b.MACHINE)
    if dumpdtb:
        machine += f",dumpdtb={dumpdtb}"
    args = [*wrapper, b.EMULATOR]
    if name:
        args += ["-name", name]
    args += ["-M", machine, "-cpu", cpu or b.CPU, "-m", mem or b.MEMORY, "-display", "none"]
    if image:
        args += [b.LOAD, image]
    if initrd:
        args += ["-initrd", initrd]
    if append is not None:
        args += ["-append", append]
    for id, backend, mac in nics:
        kind, _, opts = backend.partition(",")
        args += ["-netdev", f"{kind},id={id}" + (f",{opts}" if opts else ""),
                 "-device", f"{b.NIC_DEVICE},netdev={id},mac={mac}"]
    if nics or virtio_modern:
        args += list(b.NIC_GLOBALS)
    if isinstance(serial, tuple):
        chardev, serial = serial
        args += chardev
    if serial:
        args += [b.SERIAL, serial]
    if monitor:
        args += ["-monitor", monitor]
    if no_default_nic:
        args += ["-nic", "none"]
    args += list(extra)
    if paused:
        args.append("-S")
    return args
