# SPDX-License-Identifier: Apache-2.0
"""The service LAN end to end: a real Linux client in the rig's namespace reaches the primary
board's test guest through the hypervisor's L2 bridge (guest virtio-net device -> pipeline ->
board NIC -> tap -> bridge), pings it and talks to its counter service."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from riglib import Rig  # noqa: E402

CLIENT = os.path.join(ROOT, "tools", "counter-client")


def run_client(rig, *args, timeout=300):
    p = rig.exec(["python3", CLIENT, *args], timeout=timeout)
    last = p.stdout.strip().splitlines()[-1]
    res = json.loads(last)
    assert p.returncode == 0 and not res["errors"], p.stdout[-2000:] + p.stderr[-2000:]
    return res


def test_ping_and_counter_service(ctx):
    with Rig(name="svclan", build=ctx.build) as rig:
        info = rig.info() if hasattr(rig, "info") else {}
        # The guest logs its address; ARP and ICMP go through the bridge.
        p = rig.exec(["ping", "-c", "3", "-W", "5", "192.0.2.10"], timeout=60)
        assert p.returncode == 0 and " 0% packet loss" in p.stdout, p.stdout + p.stderr
        one = run_client(rig, "seq", "1000")
        assert one["replies"] == 1000, one
        short = run_client(rig, "short", "100", "10")
        assert short["replies"] == 1000, short
        # The counter kept counting across both runs: strictly increasing, nothing lost.
        assert short["first"] > one["last"], (one, short)
        assert short["last"] - one["first"] + 1 == 2000, (one, short)
        # The secondary holds its guest: only one guest answers on the LAN.
        out = rig.console("b", "status")
        assert "guest=paused" in out, out
        net = rig.console("a", "net")
        assert "link=up" in net, net
        # The guest NIC's and the bridge's counters in `net` saw the traffic.
        guest = net[net.index("name=guest"):]
        kv = dict(line.split("=", 1) for line in guest.splitlines() if "=" in line)
        assert int(kv["tx_frames"]) >= 2000 and int(kv["rx_frames"]) >= 2000, kv
        assert int(kv["bridge_to_lan"]) >= int(kv["tx_frames"]) - int(kv["bridge_to_lan_drops"]), kv
        assert kv["needs_reset"] == "0" and kv["link"] == "up", kv
        print(f"  seq: {one['rate_per_s']} req/s, median {one['latency_ms_median']} ms; "
              f"short: {short['rate_per_s']} req/s; {info.get('name', '')}")
