# SPDX-License-Identifier: Apache-2.0
"""How QEMU emulates this board. tools/riglib/qemu.py builds every QEMU command line of the
tree from it (tools/rig, tests/qemu, tools/bench, tests/fuzz's device-tree seeds,
guests/test/qemu-test.py), so a board is described here once. Plain data: read by Python only,
never by the build."""

EMULATOR = "qemu-system-aarch64"

# EL2 for the hypervisor, and GICv3: board.c lays out QEMU 7.2's virt machine with these.
MACHINE = "virt,virtualization=on,gic-version=3"
# The same machine without EL2, for guests booted directly at EL1 by QEMU: the same-run
# baselines (the test guest, Debian's kernel) that the hypervisor is compared against.
MACHINE_NATIVE = "virt,gic-version=3"
# The device trees the board_dt fuzz target starts from, by seed name: the one the
# hypervisor boots on and a GICv2 one it has to refuse cleanly.
DT_MACHINES = {"virt-gicv3": MACHINE, "virt-gicv2": "virt,gic-version=2"}

# QEMU's own pointer-authentication algorithm runs two to three times faster under TCG than
# the architected one; plain "max" must work too (the tests that need it pass it).
CPU = "max,pauth-impdef=on"
MEMORY = "1G"

# The image goes in with -kernel: QEMU loads an arm64 Image 2 MiB above RAM base
# (board_load_addr in meson.build) and enters it at the machine's highest EL.
LOAD = "-kernel"

# The console is the first PL011 (ttyAMA0 at board_early_uart), i.e. QEMU's first -serial.
SERIAL = "-serial"

# NICs are virtio-net on the virtio-mmio transports, the first -device on the highest
# transport (net0). QEMU's virt machine defaults to legacy (version 1) transports, which the
# hypervisor's and the test guest's drivers refuse: NIC_GLOBALS asks for version 2.
NIC_DEVICE = "virtio-net-device"
NIC_GLOBALS = ("-global", "virtio-mmio.force-legacy=false")
