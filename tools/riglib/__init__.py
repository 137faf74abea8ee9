# SPDX-License-Identifier: Apache-2.0
"""The paired-board QEMU rig (docs/rig.md): a network namespace with a service LAN bridge, a
Linux client on it, and one or two colovisor boards in QEMU. `tools/rig` is its command line;
tests use the Python API:

    from riglib import Rig
    with Rig("mytest", build) as rig:          # up() on enter, down() on exit
        print(rig.console("a", "status"))
        rig.exec(["ping", "-c", "1", "192.0.2.10"])
        rig.fault("a", "kill")
"""
from .rig import (BOARDS, CLIENT_IP, GUEST_IP, GUEST_MAC, PROMPT, Rig, RigError, RigExists,
                  RigTimeout, RigUsage, STATE_ROOT, board_id, list_runs)

__all__ = ["BOARDS", "CLIENT_IP", "GUEST_IP", "GUEST_MAC", "PROMPT", "Rig", "RigError",
           "RigExists", "RigTimeout", "RigUsage", "STATE_ROOT", "board_id", "list_runs"]
