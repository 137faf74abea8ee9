# SPDX-License-Identifier: Apache-2.0
"""`tools/rig`: the command line of the paired-board QEMU rig (docs/rig.md).

Exit status: 0 done; 1 the operation failed (no prompt in time, QEMU failed, ...);
2 usage error, not root, no such run, or a run with that name already exists.
`exec` passes the command's own exit status through."""
import argparse
import os
import subprocess
import sys

from .rig import (DEFAULT_BUILD, DEFAULT_CPU, BOOT_TIMEOUT, FAULTS, Rig, RigError, RigExists,
                  RigTimeout, _Interrupted, list_runs, require_root)

EPILOG = """examples:
  tools/rig up                          # a pair of boards, run name 'default'
  tools/rig console a status            # one shell command on board a
  tools/rig console primary             # interactive; Ctrl-\\ detaches
  tools/rig exec ping -c 3 192.0.2.10   # in the client's namespace
  tools/rig fault b kill                # also freeze, thaw, restart
  tools/rig fault a cut replication     # and restore; also service
  tools/rig fault b isolate             # both links cut (rejoin restores them)
  tools/rig fault a drop-udp            # heartbeats to/from a lost on both paths (allow-udp)
  tools/rig fault witness kill          # also restart, freeze, thaw
  tools/rig status
  tools/rig down
Every subcommand takes --name NAME (default: $CVRIG_NAME or 'default'). See docs/rig.md."""


def kv(d):
    for k, v in d.items():
        print(f"{k}={v}")
    sys.stdout.flush()


def parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--name", default=os.environ.get("CVRIG_NAME", "default"),
                        help="run name (namespace cvrig-NAME, state /run/cvrig/NAME)")
    ap = argparse.ArgumentParser(prog="tools/rig", description="Paired colovisor boards in "
                                 "QEMU with a real service LAN and a Linux client.",
                                 epilog=EPILOG, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", metavar="SUBCOMMAND")
    sub.required = True

    p = sub.add_parser("up", parents=[common], help="start a run (namespace, LAN, boards)")
    p.add_argument("--single", action="store_true", help="one board (a) instead of a pair")
    p.add_argument("--guest", choices=("test", "linux"), default="test",
                   help="guest to run (recorded; the image decides for now)")
    p.add_argument("--build", default=DEFAULT_BUILD, help="build directory (default %(default)s)")
    p.add_argument("--image", help="board image (default BUILD/colovisor.bin)")
    p.add_argument("--cpu", default=DEFAULT_CPU, help="QEMU -cpu (default %(default)s)")
    p.add_argument("--bootargs", default="",
                   help="extra cv.* boot arguments for both boards, e.g. 'cv.colo_verify=1'")
    p.add_argument("--timeout", type=float, default=BOOT_TIMEOUT,
                   help="seconds to wait for the prompts (default %(default)s)")
    p.add_argument("--no-witness", action="store_true",
                   help="no witness on the client (a pair gets one by default, cv.witness)")

    sub.add_parser("down", parents=[common], help="stop everything of a run (idempotent)")
    sub.add_parser("status", parents=[common], help="key=value state of each board")
    sub.add_parser("list", help="names of the runs that exist")

    p = sub.add_parser("console", parents=[common],
                       help="run one shell command on a board, or attach interactively")
    p.add_argument("--timeout", type=float, default=30,
                   help="seconds to wait for the prompt (default %(default)s)")
    p.add_argument("board", help="a, b, primary or secondary")
    p.add_argument("command", nargs=argparse.REMAINDER, help="shell command (none: attach)")

    p = sub.add_parser("exec", parents=[common], help="run a command in the client namespace")
    p.add_argument("command", nargs=argparse.REMAINDER, help="command and arguments")

    p = sub.add_parser("fault", parents=[common], help="inject a fault into a board")
    p.add_argument("--timeout", type=float, default=None,
                   help="restart: seconds to wait for the prompt (default: up's)")
    p.add_argument("board", help="a, b, primary, secondary or witness")
    p.add_argument("action", choices=FAULTS)
    p.add_argument("link", nargs="?", choices=("replication", "service"),
                   help="for cut/restore")
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    try:
        if a.cmd == "list":
            for n in list_runs():
                print(n)
            return 0
        require_root()
        if a.cmd == "up":
            rig = Rig(a.name, a.build, single=a.single, guest=a.guest, image=a.image, cpu=a.cpu,
                      boot_timeout=a.timeout, bootargs=a.bootargs, witness=not a.no_witness)
            try:
                info = rig.up()
            except (KeyboardInterrupt, _Interrupted) as e:
                print(f"rig: up interrupted ({e or 'Ctrl-C'}); everything it created is "
                      "removed again", file=sys.stderr)
                return 130
            except RigExists:
                raise
            except RigError as e:
                print(f"rig: up failed: {e}\nrig: everything it created is removed again",
                      file=sys.stderr)
                return 1
            kv(info)
            return 0
        if a.cmd == "down":
            found = Rig(a.name).down()
            print(f"rig: run '{a.name}' is down" if found else
                  f"rig: no run named '{a.name}'; nothing to do", file=sys.stderr)
            return 0
        rig = Rig.load(a.name)
        if a.cmd == "status":
            kv(rig.status())
            return 0
        if a.cmd == "console":
            words = a.command[1:] if a.command[:1] == ["--"] else a.command
            if not words:
                return rig.attach(a.board)
            try:
                out = rig.console(a.board, " ".join(words), a.timeout)
            except RigTimeout as e:
                print(f"rig: {e}", file=sys.stderr)
                return 1
            sys.stdout.write(out)
            sys.stdout.flush()
            return 0
        if a.cmd == "exec":
            words = a.command[1:] if a.command[:1] == ["--"] else a.command
            if not words:
                print("rig: exec needs a command", file=sys.stderr)
                return 2
            try:
                return rig.exec(words, capture=False).returncode
            except FileNotFoundError as e:
                print(f"rig: {e}", file=sys.stderr)
                return 127
            except KeyboardInterrupt:
                return 130
        if a.cmd == "fault":
            if a.action in ("cut", "restore") and a.link is None:
                print(f"rig: fault {a.action} needs a link: replication or service",
                      file=sys.stderr)
                return 2
            try:
                kv(rig.fault(a.board, a.action, a.link, timeout=a.timeout))
            except RigTimeout as e:
                print(f"rig: {e}", file=sys.stderr)
                return 1
            return 0
    except RigTimeout as e:
        print(f"rig: {e}", file=sys.stderr)
        return 1
    except RigError as e:
        print(f"rig: {e}", file=sys.stderr)
        return e.status
    except subprocess.SubprocessError as e:
        print(f"rig: {e}", file=sys.stderr)
        return 1
    return 2
