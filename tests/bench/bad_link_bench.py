#!/usr/bin/env python3
"""Sync through links that drop every few hundred kilobytes (benchmark).

The real `tuphap` binary: a hub of province 56 and a commune node of 22333
with N generated records (default 20,000), enrolled, and a new laptop of
22333 (`init --secondary`, enrolled). For each cut range (default 20-300 KB,
100 KB-1 MB, and none) from fresh copies of those nodes:

  commune -> hub   the commune's initial sync to the hub through
                   tests/net/cut_proxy.py (`sync --once --timeout 60` run
                   again until it exits 0);
  hub -> laptop    then the laptop's initial pull from the hub through a new
                   proxy with the same range (skip with --no-reverse).

Figures: time to converge (wall, every attempt included), connections,
cuts, and goodput = useful bytes / bytes on the wire, where useful bytes =
the sum of length(envelope) of the receiver's `changes` rows of scope 22333
after convergence, and bytes on the wire = what the proxy forwarded in both
directions. Convergence is checked (equal digest of 22333, N records).

usage: bad_link_bench.py [--tuphap PATH] [--proxy PATH] [--records N]
                         [--ranges MIN:MAX,...|none] [--seed N]
                         [--max-seconds S] [--no-reverse] [--keep]

Exits 1 if a range does not converge within --max-seconds (per direction).
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(REPO, "tests", "net"))
import badlink  # noqa: E402

COMMUNE = "22333"


def mb(n):
    return f"{n / 1e6:.1f} MB"


def measure(nodes, receiver, sender, src_name, endpoint_port, cut, seed, records, max_s, tag):
    """One direction through a fresh proxy; returns (converged, line)."""
    stats_path = nodes.dir(f"{tag}.proxy.json")
    proxy, pport = nodes.proxy(endpoint_port, cut, seed, stats_path)
    deadline = time.monotonic() + max_s
    run = nodes.sync_until_done(src_name, f"tcp://127.0.0.1:{pport}", deadline, 10**6,
                                quiet=True)
    nodes.stop(proxy)  # final counters written on SIGTERM
    s = badlink.read_stats(stats_path)
    wire = s["bytes_total"]
    head = (f"{run.attempts} sync attempt(s), {s['connections']} connections, "
            f"{s['cuts']} cuts")
    if not run.ok:
        held = nodes.digest(receiver, COMMUNE)["records"]
        return False, (f"did NOT converge within {max_s} s ({head}, {mb(wire)} on the wire, "
                       f"{held} of {records} records arrived; last {run.last_error})")
    a, b = nodes.digest(receiver, COMMUNE), nodes.digest(sender, COMMUNE)
    if a["digest"] != b["digest"] or a["records"] != records:
        return False, (f"`sync` exited 0 after {run.seconds:.1f} s but the digests differ: "
                       f"{receiver} {a}, {sender} {b}")
    useful = nodes.changes_bytes(receiver, COMMUNE)
    goodput = useful / wire if wire else float("nan")
    return True, (f"{records} records converged in {run.seconds:.1f} s, {head}, goodput "
                  f"{goodput:.2f} ({mb(useful)} useful / {mb(wire)} on the wire)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tuphap", default=os.path.join(REPO, "build", "release", "cli", "tuphap"))
    p.add_argument("--proxy", default=os.path.join(REPO, "tests", "net", "cut_proxy.py"))
    p.add_argument("--records", type=int, default=20000)
    p.add_argument("--ranges", default="20000:300000,100000:1000000,none",
                   help="comma-separated cut ranges in bytes (MIN:MAX or none)")
    p.add_argument("--seed", type=int, default=1, help="the proxies' seed")
    p.add_argument("--max-seconds", type=int, default=600,
                   help="bound on each direction of each range (default 600)")
    p.add_argument("--no-reverse", action="store_true", help="commune -> hub only")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = p.parse_args()
    ranges = [badlink.parse_cut(r.strip()) for r in a.ranges.split(",") if r.strip()]
    if not os.access(a.tuphap, os.X_OK):
        p.error(f"no tuphap binary at {a.tuphap} (build it, or give --tuphap)")

    badlink.on_sigterm_exit()
    root = tempfile.mkdtemp(prefix="tuphap-badlink-bench-")
    nodes = badlink.Nodes(a.tuphap, a.proxy, root)
    failures = 0
    try:
        t0 = time.monotonic()
        nodes.init_hub("hub0")
        nodes.init_commune("commune0", COMMUNE)
        nodes.enrol("commune0", hub="hub0")
        nodes.init_commune("laptop0", COMMUNE, secondary=True)
        nodes.enrol("laptop0", hub="hub0")
        nodes.records("commune0", COMMUNE, a.records, 7)
        print(f"bad_link_bench setup: hub, commune {COMMUNE} with {a.records} records, laptop "
              f"({time.monotonic() - t0:.1f} s)", flush=True)
        for i, cut in enumerate(ranges):
            label = badlink.cut_label(cut)
            hub, commune, laptop = f"r{i}-hub", f"r{i}-commune", f"r{i}-laptop"
            for src, dst in (("hub0", hub), ("commune0", commune), ("laptop0", laptop)):
                badlink.copy_node(nodes.dir(src), nodes.dir(dst))
            port = badlink.free_port()
            serve = nodes.serve(hub, "--listen", f"tcp://127.0.0.1:{port}")
            ok, line = measure(nodes, hub, commune, commune, port, cut, a.seed + 2 * i,
                               a.records, a.max_seconds, f"r{i}-up")
            failures += not ok
            print(f"bad_link_bench cut {label}: {line}", flush=True)
            if not a.no_reverse:
                if ok:
                    ok2, line2 = measure(nodes, laptop, hub, laptop, port, cut,
                                         a.seed + 2 * i + 1, a.records, a.max_seconds,
                                         f"r{i}-down")
                    failures += not ok2
                else:
                    line2 = "skipped: the hub does not have the records"
                print(f"bad_link_bench cut {label} reverse (hub -> new laptop): {line2}",
                      flush=True)
            nodes.stop(serve)
            if not a.keep:
                for d in (hub, commune, laptop):
                    badlink.shutil.rmtree(nodes.dir(d), ignore_errors=True)
    except badlink.Failure as e:
        print(f"bad_link_bench: {e}", file=sys.stderr)
        failures += 1
    finally:
        nodes.close()
        if a.keep:
            print(f"kept {root}")
        else:
            badlink.shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
