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
        b.guest("hello", r"hello from guest")
        # Back at the shell, commands work again.
        assert "guest=running" in b.cmd("status")
    finally:
        b.close()


def test_timer_rate(ctx):
    b = boot(ctx, "timer")
    try:
        m = b.guest("timer 100 2", r"timer: hz=100 ticks=(\d+) expected=(\d+) elapsed", 60)
        ticks, expected = int(m.group(1)), int(m.group(2))
        assert expected > 0 and abs(ticks - expected) <= max(3, expected // 10), (ticks, expected)
    finally:
        b.close()


def test_psci(ctx):
    b = boot(ctx, "psci")
    try:
        m = b.guest("psci", r"psci: (.*cpu_on=\S+)\n")
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
        b.guest("bad ram", r"bad: done ram")
        b.guest("bad size", r"bad: done size")
        b.guest("bad hvc", r"bad: done hvc")
        b.guest("bad smc", r"bad: done smc")
        b.guest("bad sysreg", r"bad: done sysreg")
        log = b.buf
        expect_lines = [
            # Outside RAM and devices: a synchronous external abort at EL1, and a log line.
            r"W: guest: bad 8-byte read at 0x100000000 \(no device\), abort injected",
            r"bad: ram read -> caught sync ec=0x25 esr=0x96000010 far=0x100000000",
            r"bad: ram write -> caught sync ec=0x25 esr=0x96000050 far=0x100000000",
            # Wrong access size on a device: the same.
            r"W: guest: bad 8-byte read at 0x9000000 \(pl011\), abort injected",
            r"bad: size uart 64-bit read -> caught sync ec=0x25",
            r"W: guest: bad 1-byte write at 0x8000000 \(gicd\), abort injected",
            r"bad: size gicd 8-bit write -> caught sync ec=0x25",
            # Unknown SMCCC function, over HVC and SMC: NOT_SUPPORTED.
            r"W: guest: unknown SMCCC function 0x86001234",
            r"bad: hvc fn=0x86001234 -> x0=-1",
            r"bad: smc fn=0x86001234 -> x0=-1",
            # PMU hidden: its registers are UNDEFINED; debug registers RAZ/WI.
            r"W: guest: read of unemulated system register S3_3_C9_C12_0 .*undef injected",
            r"bad: sysreg pmcr_el0 read -> caught sync ec=0x0 ",
            r"bad: sysreg pmccntr_el0 read -> caught sync ec=0x0 ",
            r"bad: sysreg mdscr_el1 read -> no exception value=0x0",
            r"bad: sysreg mdscr_el1 write -> no exception",
        ]
        for pat in expect_lines:
            assert re.search(pat, log), f"missing /{pat}/ in:\n{log[-4000:]}"
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
        b.guest_start("mem 0 64")
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
        b.guest("hello", r"hello from guest")
    finally:
        b.close()


def test_cortex_a72_without_fwb(ctx):
    """A CPU without FEAT_S2FWB (and with AArch32 at EL0): the clean-to-PoC path and the
    classic stage-2 encoding run the guest, guest reboots included, and the CPU section of
    the state stream (PSTATE checked against this CPU's ID registers) reloads."""
    b = boot(ctx, "cortex_a72", cpu="cortex-a72")
    try:
        assert "vm: stage 2 without FEAT_S2FWB" in b.buf, b.buf[-2000:]
        b.guest("hello", r"hello from guest")
        for _ in range(3):
            assert "vmstate: reloaded bytes=" in b.cmd("vmstate reload")
        b.guest("hello", r"hello from guest")
        b.guest_start("reset")
        b.expect(r"\[guest\] testguest: ready", 60)
        b.guest("hello", r"hello from guest")
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


def test_vmstate_reload_keeps_guest_running(ctx):
    """The checkpoint interface on the real CPU: save the complete vCPU + vGIC + device state,
    load it back into the live registers, resume; the guest's timer keeps its rate."""
    b = boot(ctx, "vmstate")
    try:
        out = b.cmd("vmstate save")
        m = re.search(r"vmstate: bytes=(\d+) crc=0x[0-9a-f]{8} sections=(\d+)", out)
        assert m and int(m.group(1)) > 1000 and int(m.group(2)) >= 3, out
        b.guest_start("timer 100 3")
        for _ in range(10):
            out = b.cmd("vmstate reload")
            assert "vmstate: reloaded bytes=" in out, out
        m = b.expect(r"timer: hz=100 ticks=(\d+) expected=(\d+) elapsed", 60)
        ticks, expected = int(m.group(1)), int(m.group(2))
        assert abs(ticks - expected) <= max(3, expected // 10), (ticks, expected)
        b.guest("hello", r"hello from guest\n")
        assert b.cmd("vmstate frob").startswith("usage: vmstate"), "usage expected"
    finally:
        b.close()


def test_board_reboot(ctx):
    b = boot(ctx, "reboot")
    try:
        b.send("reboot\r")
        b.expect(r"rebooting", 10)
        b.expect(r"colovisor \S+ \(qemu-virt-arm64\)", 60)
        b.expect(r"\[guest\] testguest: ready", 60)
        assert "guest=running" in b.cmd("status")
    finally:
        b.close()


def _bad_guest(ctx, kind, reason):
    image = ctx.image.replace("colovisor.bin", f"colovisor-bad-{kind}.bin")
    b = Board(image, ctx.log(f"bad_guest_{kind}"))
    try:
        b.expect(reason, 60)
        b.expect(r"guest: not started", 30)
        b.expect(r"colovisor> ", 30)
        # The hypervisor itself carries on: its shell answers, the guest is reported stopped.
        st = kv(b.cmd("status"))
        assert st["guest"] == "stopped", st
    finally:
        b.close()


def test_guest_not_an_arm64_image(ctx):
    _bad_guest(ctx, "notimage", r"E: loader: kernel is not an arm64 Image")


def test_guest_ram_too_small(ctx):
    _bad_guest(ctx, "toobig", r"E: loader: kernel needs \d+ KiB at offset 0x\w+; guest RAM is "
               r"only 131072 KiB")


def test_guest_kernel_missing(ctx):
    _bad_guest(ctx, "nokernel", r"E: guest image: no kernel entry")


def test_guest_image_corrupt(ctx):
    _bad_guest(ctx, "corrupt", r"E: guest image: entry 'corrupt' is corrupt \(checksum mismatch\)")
