# SPDX-License-Identifier: Apache-2.0
"""The guest may only send as itself (kernel/net/guest_filter.c), with a real Linux guest on one
board: from its busybox shell it claims the board's service address (ICMP with that source, a
gratuitous ARP) and then the board's MAC. The hypervisor drops and counts those frames
(`net`: tx_filter_ip, tx_filter_arp_ip, tx_filter_mac), the client on the service LAN sees none
of them (no echo request reaches it, its ARP entry for the board keeps the board's MAC), and the
guest's own traffic goes on before and after."""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from riglib import Rig  # noqa: E402

CLIENT = os.path.join(ROOT, "tools", "counter-client")
CLIENT_IP = "192.0.2.1"
GUEST_IP = "192.0.2.10"
GUEST_MAC = "52:54:00:c0:00:10"
BOARD_IP = "192.0.2.2"  # board a's service address (the rig's BOARDS table)
BOARD_MAC = "52:54:00:c0:02:01"
REASONS = ["mac", "ip", "arp_mac", "arp_ip", "vlan", "malformed"]


def guest(rig, cmd, timeout=90):
    """Runs cmd in the guest's shell; returns what it printed. Typed in chunks the guest's UART
    takes whole; the end marker is computed by the shell, so its echo of the line does not
    match. Lines stay short (shell variables B, C, M, G hold the addresses): one terminal row."""
    assert len(cmd) <= 48, cmd
    return rig.guest_console("a", f"{cmd};echo gf-$((6*7))", r"gf-42\r?\n", timeout, chunk=16)


def guest_nic(rig):
    net = rig.console("a", "net")
    block = net[net.index("name=guest"):]
    return dict(line.split("=", 1) for line in block.splitlines() if "=" in line)


def filtered(rig):
    kv = guest_nic(rig)
    return {r: int(kv["tx_filter_" + r]) for r in REASONS}


def client_in_echos(rig):
    """Echo requests the client's kernel received (its namespace's own ICMP counters)."""
    p = rig.exec(["cat", "/proc/net/snmp"], timeout=30)
    rows = [line.split() for line in p.stdout.splitlines() if line.startswith("Icmp:")]
    return int(rows[1][rows[0].index("InEchos")])


def client_neigh_mac(rig, ip):
    p = rig.exec(["ip", "neigh", "show", ip], timeout=30)
    m = re.search(r"lladdr ([0-9a-f:]{17})", p.stdout)
    return m.group(1) if m else None


def guest_pings_client(rig, count):
    """The guest's own echo requests reach the client: its InEchos rises by count."""
    before = client_in_echos(rig)
    guest(rig, f"ping -c {count} -W 2 $C")
    got = client_in_echos(rig) - before
    assert got == count, f"the client received {got} of the guest's {count} echo requests"


def test_guest_cannot_send_as_the_board(ctx):
    image = os.path.join(ctx.build + "-linux", "colovisor.bin")
    assert os.path.isfile(image), f"{image} missing: `make linux` builds it (make test does)"
    with Rig(name="gfilter", build=ctx.build, guest="linux", image=image, single=True) as rig:
        rig.expect_log("a", r"linuxguest: ready", 420)
        # The client learns the board's and the guest's MACs the honest way.
        for ip in (GUEST_IP, BOARD_IP):
            p = rig.exec(["ping", "-c", "2", "-W", "5", ip], timeout=60)
            assert p.returncode == 0, p.stdout + p.stderr
        assert client_neigh_mac(rig, BOARD_IP) == BOARD_MAC, rig.exec(["ip", "neigh"]).stdout
        # The guest's boot traffic (ARP, IPv4, IPv6 neighbour discovery) is all its own.
        base = filtered(rig)
        assert base == dict.fromkeys(REASONS, 0), base
        guest(rig, f"B={BOARD_IP} C={CLIENT_IP}")
        guest(rig, f"M={BOARD_MAC} G={GUEST_MAC}")
        tools = guest(rig, "type ip ping arping")
        assert all(f"{t} is " in tools for t in ("ip", "ping", "arping")), tools
        guest_pings_client(rig, 2)

        # The board's address: echo requests from it, and a gratuitous ARP claiming it.
        echos = client_in_echos(rig)
        guest(rig, "ip addr add $B/32 dev eth0")
        guest(rig, "ping -c 3 -W 1 -I $B $C")
        guest(rig, "arping -U -c 2 -s $B -I eth0 $B")
        guest(rig, "ip addr del $B/32 dev eth0")
        after_ip = filtered(rig)
        assert after_ip["ip"] >= 3, after_ip
        assert after_ip["arp_ip"] >= 2, after_ip
        assert client_in_echos(rig) == echos, "an echo request from the board's address got out"
        # Without the filter the gratuitous ARP would have moved the client's entry to the guest.
        assert client_neigh_mac(rig, BOARD_IP) == BOARD_MAC, rig.exec(["ip", "neigh"]).stdout

        # The board's MAC: everything the guest sends with it stays inside.
        out = guest(rig, "ip link set eth0 address $M")
        out = guest(rig, "cat /sys/class/net/eth0/address")
        assert BOARD_MAC in out, out
        guest(rig, "ping -c 3 -W 1 $C")
        guest(rig, "ip link set eth0 address $G")
        out = guest(rig, "cat /sys/class/net/eth0/address")
        assert GUEST_MAC in out, out
        after_mac = filtered(rig)
        assert after_mac["mac"] >= 3, after_mac
        assert client_in_echos(rig) == echos, "an echo request from the board's MAC got out"
        assert client_neigh_mac(rig, BOARD_IP) == BOARD_MAC, rig.exec(["ip", "neigh"]).stdout
        # Nothing else was misjudged on the way.
        for r in ("arp_mac", "vlan", "malformed"):
            assert after_mac[r] == 0, after_mac

        # As itself the guest is heard again, and serves its counter.
        guest_pings_client(rig, 2)
        p = rig.exec(["python3", CLIENT, "seq", "300"], timeout=300)
        res = json.loads(p.stdout.strip().splitlines()[-1])
        assert p.returncode == 0 and res["replies"] == 300 and not res["errors"], res
        p = rig.exec(["ping", "-c", "2", "-W", "5", GUEST_IP], timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        kv = guest_nic(rig)
        assert kv["needs_reset"] == "0" and kv["link"] == "up", kv
        print(f"  filtered: {filtered(rig)}; counter {res['rate_per_s']} req/s")
