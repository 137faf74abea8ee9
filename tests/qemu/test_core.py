# SPDX-License-Identifier: Apache-2.0
"""The hypervisor core on one QEMU board with the bare-metal test guest: boot, shell, guest
console, timer, PSCI, a misbehaving guest, dirty logging, power requests, board check."""
import re

from board import Board

BOOT_TIMEOUT = 60


def boot(ctx, name, **kw):
    b = Board(ctx.image, ctx.log(name), **kw)
    try:
        b.expect(r"colovisor \S+ \(qemu-virt-arm64\)", BOOT_TIMEOUT)
        b.expect(r"\[guest\] testguest: ready", BOOT_TIMEOUT)
        b.expect(r"colovisor> ", BOOT_TIMEOUT)
    except Exception:
        b.close()
        raise
    return b


def kv(text):
    return dict(re.findall(r"^(\w+)=(\S*)$", text, re.M))


def guest_cmd(b, line, pattern, timeout=60):
    """Attaches to the guest console, runs one guest command, detaches; returns the match."""
    b.send("guest console\r")
    b.expect(r"attached to guest console", 10)
    b.send(line + "\r")
    m = b.expect(pattern, timeout)
    b.send("\x1d")
    b.expect(r"detached from guest console", 10)
    b.expect(r"colovisor> ", 10)
    return m


def test_boot_and_shell(ctx):
    b = boot(ctx, "boot_and_shell")
    try:
        out = b.cmd("help")
        for c in ("help", "version", "status", "guest", "reboot", "dirty"):
            assert re.search(rf"^\s*{c}\b", out, re.M), f"help lacks {c}:\n{out}"
        out = b.cmd("version")
        assert re.search(r"colovisor \S+ board=qemu-virt-arm64", out), out
        st = kv(b.cmd("status"))
        assert st.get("guest") == "running", st
        assert int(st["exits_total"]) > 0, st
        assert int(st["exit_mmio"]) > 0, st  # the guest printed through the emulated PL011
        out = b.cmd("frobnicate")
        assert "unknown command 'frobnicate'" in out, out
        out = b.cmd("guest sideways")
        assert "usage: guest" in out, out
        out = b.cmd("guest pause")
        assert "guest: paused" in out, out
        st1 = kv(b.cmd("status"))
        st2 = kv(b.cmd("status"))
        assert st1["guest"] == "paused", st1
        # A paused guest makes no exits of its own.
        assert int(st2["exits_total"]) == int(st1["exits_total"]), (st1, st2)
        out = b.cmd("guest resume")
        assert "guest: running" in out, out
        assert b.alive()
    finally:
        b.close()


def test_guest_console_round_trip(ctx):
    b = boot(ctx, "guest_console")
    try:
        guest_cmd(b, "hello", r"hello from guest")
        # Back at the shell, commands work again.
        assert "guest=running" in b.cmd("status")
    finally:
        b.close()


def test_timer_rate(ctx):
    b = boot(ctx, "timer")
    try:
        m = guest_cmd(b, "timer 100 2", r"timer: hz=100 ticks=(\d+) expected=(\d+) elapsed", 60)
        ticks, expected = int(m.group(1)), int(m.group(2))
        assert expected > 0 and abs(ticks - expected) <= max(3, expected // 10), (ticks, expected)
    finally:
        b.close()


def test_psci(ctx):
    b = boot(ctx, "psci")
    try:
        m = guest_cmd(b, "psci", r"psci: (.*cpu_on=\S+)\n")
        vals = dict(re.findall(r"(\w+)=(-?\w+)", m.group(1)))
        assert vals["version"] in ("0x10001", "65537"), vals
        assert int(vals["features_cpu_on"]) == -1, vals
        assert int(vals["features_system_off"]) == 0, vals
        assert int(vals["smccc_version"]) == 0x10001, vals
        assert int(vals["arch_features"]) == -1, vals
        assert int(vals["cpu_on"]) < 0, vals
    finally:
        b.close()


def test_misbehaving_guest(ctx):
    b = boot(ctx, "misbehave")
    try:
        guest_cmd(b, "bad ram", r"bad: done ram")
        guest_cmd(b, "bad size", r"bad: done size")
        guest_cmd(b, "bad hvc", r"bad: done hvc")
        guest_cmd(b, "bad smc", r"bad: done smc")
        guest_cmd(b, "bad sysreg", r"bad: done sysreg")
        log = b.buf
        # Each misbehaviour got the architectural answer and a log line.
        assert re.search(r"W: guest: bad 8-byte read at 0x100000000 \(no device\)", log) or \
            re.search(r"W: guest: bad \d-byte (read|write) at 0x100000000", log), log[-3000:]
        assert re.search(r"W: guest: bad 8-byte read at 0x9000000 \(pl011\)", log) or \
            re.search(r"W: guest: bad \d-byte \w+ at 0x[89]0000\w* \((pl011|gicd)", log), log[-3000:]
        assert re.search(r"unknown SMCCC function 0x86001234", log), log[-3000:]
        assert re.search(r"unemulated system register", log), log[-3000:]
        assert re.search(r"caught sync ec=0x25", log), log[-3000:]
        assert re.search(r"caught sync ec=0x0\b", log), log[-3000:]
        assert re.search(r"hvc.*-1", log), log[-3000:]
        st = kv(b.cmd("status"))
        assert st["guest"] == "running", st
        assert int(st["exit_abort_injected"]) >= 2, st
        assert int(st["exit_undef_injected"]) >= 1, st
    finally:
        b.close()


def _dirty_verify(ctx, mode):
    b = boot(ctx, f"dirty_{mode}")
    try:
        # The guest writes a few pages per epoch of its own, forever, in the work region.
        b.send("guest console\r")
        b.expect(r"attached to guest console", 10)
        b.send("mem 0 64\r")
        b.send("\x1d")
        b.expect(r"detached from guest console", 10)
        b.expect(r"colovisor> ", 10)
        out = b.cmd(f"dirty verify {mode} 100 20", timeout=600)
        m = re.search(r"dirty: verify mode=(\w+) epochs=(\d+) harvested=(\d+) missed=(\d+) "
                      r"extra=(\d+) result=(\w+)", out)
        assert m, out
        assert m.group(1) == mode and int(m.group(2)) == 100, out
        assert int(m.group(3)) > 100, out  # the workload really wrote pages
        assert m.group(4) == "0" and m.group(5) == "0" and m.group(6) == "PASS", out
    finally:
        b.close()


def test_dirty_log_exact_wp(ctx):
    _dirty_verify(ctx, "wp")


def test_dirty_log_exact_dbm(ctx):
    _dirty_verify(ctx, "dbm")


def test_guest_reset_and_poweroff(ctx):
    b = boot(ctx, "power")
    try:
        b.send("guest console\r")
        b.expect(r"attached to guest console", 10)
        b.send("reset\r")
        b.expect(r"testguest: ready", 60)
        b.send("\x1d")
        b.expect(r"colovisor> ", 10)
        assert re.search(r"guest: reset \(PSCI SYSTEM_RESET\)", b.buf), b.buf[-2000:]
        b.send("guest console\r")
        b.expect(r"attached to guest console", 10)
        b.send("poweroff\r")
        b.expect(r"guest: powered off \(PSCI SYSTEM_OFF\)", 30)
        b.send("\x1d")
        b.expect(r"colovisor> ", 10)
        st = kv(b.cmd("status"))
        assert st["guest"] == "stopped", st
    finally:
        b.close()


def test_plain_cpu_max(ctx):
    """The product must work on plain -cpu max (architected pointer authentication)."""
    b = boot(ctx, "plain_cpu_max", cpu="max")
    try:
        guest_cmd(b, "hello", r"hello from guest")
    finally:
        b.close()


def test_board_mismatch_refused(ctx):
    """Too little RAM for the board description: a clear refusal, not a hang."""
    b = Board(ctx.image, ctx.log("board_mismatch"), mem="256M")
    try:
        b.expect(r"board: .*RAM", 60)
        b.expect(r"board check failed; the board is halted", 30)
    finally:
        b.close()
