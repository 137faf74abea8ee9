# SPDX-License-Identifier: Apache-2.0
"""An unmodified Debian arm64 kernel as the guest, under colovisor, in the rig: it boots on
plain -cpu max to its init, loads Debian's virtio modules, gets its address on the service LAN,
and a real Linux client fetches a page from its httpd and runs 1000 counter requests."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from riglib import Rig  # noqa: E402

CLIENT = os.path.join(ROOT, "tools", "counter-client")


def test_linux_guest_on_the_service_lan(ctx):
    image = os.path.join(ctx.build + "-linux", "colovisor.bin")
    assert os.path.isfile(image), f"{image} missing: `make linux` builds it (make test does)"
    # Plain -cpu max: architected pointer authentication, as the product must support.
    with Rig(name="linux", build=ctx.build, guest="linux", image=image, cpu="max",
             single=True) as rig:
        rig.expect_log("a", r"linuxguest: init", 180)
        rig.expect_log("a", r"linuxguest: modules loaded", 120)
        rig.expect_log("a", r"linuxguest: eth0 up 192\.0\.2\.10", 60)
        rig.expect_log("a", r"linuxguest: ready", 60)
        p = rig.exec(["ping", "-c", "2", "-W", "5", "192.0.2.10"], timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        p = rig.exec(["python3", "-c",
                      "import urllib.request;"
                      "print(urllib.request.urlopen('http://192.0.2.10/', timeout=20).read()"
                      ".decode())"], timeout=60)
        assert p.returncode == 0 and "linuxguest" in p.stdout.lower(), p.stdout + p.stderr
        p = rig.exec(["python3", CLIENT, "seq", "1000"], timeout=300)
        res = json.loads(p.stdout.strip().splitlines()[-1])
        assert p.returncode == 0 and res["replies"] == 1000 and not res["errors"], res
        # Its console, through the shell's `guest console`: a shell prompt that runs commands.
        out = rig.guest_console("a", "uname -m; echo sum-$((6*7))", r"sum-42\n", 60)
        assert "aarch64" in out, out
        st = rig.console("a", "status")
        assert "guest=running" in st, st
        print(f"  linux guest: {res['rate_per_s']} req/s, median {res['latency_ms_median']} ms")
