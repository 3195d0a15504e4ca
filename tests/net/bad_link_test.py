#!/usr/bin/env python3
"""Sync through a link that drops every few hundred kilobytes: the real
`tuphap` binary, a hub serving on loopback and tests/net/cut_proxy.py cutting
every connection after a random 20-300 KB (both directions together).

usage: bad_link_test.py TUPHAP CUT_PROXY [hub|relay]

  hub    (BadLink.TwentyThousandRecordsConvergeThroughACuttingProxy)
         A commune node of 22333 with 20,000 imported records syncs to the
         hub of province 56 through the proxy: `sync --once --timeout 60` run
         again until it exits 0. Then the digests of 22333 are equal with
         20,000 records, the hub holds exactly the commune's changes rows of
         22333, no (origin, scope, seq) twice, nothing held, integrity ok, and
         the proxy did cut. Then a new laptop of 22333 (`init --secondary`,
         enrolled) pulls everything from the hub through the proxy the same
         way: equal digest, equal rows, integrity ok.
  relay  (BadLink.CommuneRecordsReachTheHubThroughARelayOverACuttingLink)
         Commune 22366 relays (`serve --listen Q --upstream HUB`, having
         learnt its neighbours' certificates from the hub); commune 22333
         syncs its 2,000 records to it (`sync ... --peer RELAY-ID`) through
         the proxy; the relay forwards them, live, to the hub.

Environment (defaults are the issue's workload):
  TUPHAP_BADLINK_RECORDS        records of the hub case (20000)
  TUPHAP_BADLINK_RELAY_RECORDS  records of the relay case (2000)
  TUPHAP_BADLINK_CUT            cut range MIN:MAX bytes, or none (20000:300000)
  TUPHAP_BADLINK_SEED           the proxy's seed (1)
  TUPHAP_BADLINK_MIN_CUTS       the proxy must have cut more than this many
                                connections (hub 10, relay 5); with the cut
                                none, exactly 0 cuts are expected instead
  TUPHAP_BADLINK_MAX_SECONDS    bound on the whole case (1500; ctest: 1800)
  TUPHAP_BADLINK_MAX_ATTEMPTS   sync attempts per phase (100)
  TUPHAP_BADLINK_KEEP=1         keep the scratch directory
"""
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import badlink  # noqa: E402
from badlink import Failure, env_int, env_str  # noqa: E402

HUB_COMMUNE = "22333"
RELAY_COMMUNE = "22366"


class Stop(Failure):
    """A failed check the rest of the case depends on (already counted)."""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return cond

    def fatal(self, cond, what, detail=""):
        if not self.check(cond, what, detail):
            raise Stop(f"cannot go on after: {what}")


def mb(n):
    return f"{n / 1e6:.1f} MB"


def expect_cuts(checks, stats, cut, min_cuts, phase):
    cuts = stats["cuts"]
    if cut == "none":
        checks.check(cuts == 0, f"{phase}: the proxy (cut none) cut nothing", f"{cuts} cuts")
    else:
        checks.check(cuts > min_cuts, f"{phase}: the proxy cut more than {min_cuts} connections",
                     f"{cuts} cuts in {stats['connections']} connections")


def report(phase, n, run, stats):
    print(f"{phase}: {n} records, converged={run.ok} in {run.seconds:.1f} s, "
          f"{run.attempts} sync attempt(s), {stats['connections']} connections, "
          f"{stats['cuts']} cuts, {mb(stats['bytes_total'])} on the wire "
          f"({mb(stats['bytes_client_to_target'])} to the server, "
          f"{mb(stats['bytes_target_to_client'])} back)", flush=True)


def converged_run(checks, run, phase, nodes=None, receiver=None, scope=None, n=None):
    if not run.ok and nodes is not None:
        got = nodes.changes_rows(receiver, scope)
        print(f"{phase}: {receiver} stores {got} changes of {scope} ({n} records were sent)",
              flush=True)
    checks.fatal(run.ok, f"{phase}: converged (`sync --once` exited 0)",
                 f"no attempt exited 0: {run.attempts} attempt(s) in {run.seconds:.1f} s, "
                 f"exit codes {run.exit_codes}; last: {run.last_error}")


def progress_checks(checks, run, stats, useful, direction, what):
    """Acknowledged work is never sent again: one `sync --once` gets there
    (its --timeout counts from the last batch acknowledged), and the bytes
    that crossed the cutting link towards the receiver are at most 1.6x the
    envelopes it needed (the frame lost at each cut, handshakes, HELLOs)."""
    checks.check(run.attempts == 1, f"{what}: one `sync --once` converged",
                 f"{run.attempts} attempts")
    wire = stats[direction]
    checks.check(wire <= 1.6 * useful,
                 f"{what}: {wire} bytes on the wire for {useful} bytes of envelopes "
                 f"(goodput {useful / max(wire, 1):.2f} >= 0.62)",
                 f"ratio {wire / max(useful, 1):.2f}")


def store_checks(checks, nodes, name, what):
    ic = nodes.integrity(name)
    checks.check(ic == "ok", f"PRAGMA integrity_check of {what}'s store is ok", ic)
    total, distinct = nodes.duplicate_positions(name)
    checks.check(total == distinct,
                 f"{what} stores no (origin, scope, seq) twice ({total} changes rows)",
                 f"{total} rows, {distinct} distinct positions")


def converged(checks, nodes, a, b, scope, n, what):
    da, db = nodes.digest(a, scope), nodes.digest(b, scope)
    checks.check(da["records"] == n, f"{what}: {a} holds {n} records of {scope}",
                 f"{da['records']}")
    checks.check(db["records"] == n, f"{what}: {b} holds {n} records of {scope}",
                 f"{db['records']}")
    checks.check(da["digest"] == db["digest"] and da["digest"] is not None,
                 f"{what}: digest of {scope} equal at {a} and {b}", f"{da} vs {db}")
    ra, rb = nodes.changes_rows(a, scope), nodes.changes_rows(b, scope)
    checks.check(ra == rb and ra > 0,
                 f"{what}: changes rows of {scope} equal at {a} and {b} ({ra})",
                 f"{a} {ra}, {b} {rb}")


def hub_case(nodes, checks, deadline, cut, seed, max_attempts):
    n = env_int("TUPHAP_BADLINK_RECORDS", 20000)
    min_cuts = env_int("TUPHAP_BADLINK_MIN_CUTS", 10)
    t0 = time.monotonic()
    nodes.init_hub()
    nodes.init_commune("commune", HUB_COMMUNE)
    nodes.enrol("commune")
    nodes.records("commune", HUB_COMMUNE, n, 7)
    print(f"setup: hub 56, commune {HUB_COMMUNE} enrolled with {n} records imported "
          f"({time.monotonic() - t0:.1f} s)", flush=True)
    before = nodes.digest("commune", HUB_COMMUNE)
    checks.fatal(before["records"] == n, f"the commune holds its {n} imported records",
                 f"{before}")

    hub_port = badlink.free_port()
    nodes.serve("hub", "--listen", f"tcp://127.0.0.1:{hub_port}")
    stats1 = nodes.dir("proxy1.json")
    _, pport = nodes.proxy(hub_port, cut, seed, stats1)
    print(f"hub on 127.0.0.1:{hub_port}, proxy on 127.0.0.1:{pport}, cut {cut}, seed {seed}",
          flush=True)
    run = nodes.sync_until_done("commune", f"tcp://127.0.0.1:{pport}", deadline, max_attempts,
                                label="commune -> hub")
    s = badlink.read_stats(stats1)
    report("commune -> hub", n, run, s)
    converged_run(checks, run, "commune -> hub", nodes, "hub", HUB_COMMUNE, n)
    if run.result:
        print(f"  last attempt: {run.result}", flush=True)
    converged(checks, nodes, "commune", "hub", HUB_COMMUNE, n, "commune -> hub")
    progress_checks(checks, run, s, nodes.changes_bytes("hub", HUB_COMMUNE),
                    "bytes_client_to_target", "commune -> hub")
    held = nodes.scalar("hub", "SELECT count(*) FROM held WHERE scope = ?", (HUB_COMMUNE,))
    checks.check(held == 0, f"the hub holds no change of {HUB_COMMUNE} back behind a gap",
                 f"{held} held")
    eq = nodes.scalar("hub", "SELECT count(*) FROM equivocations")
    checks.check(eq == 0, "the hub recorded no equivocation", f"{eq}")
    store_checks(checks, nodes, "hub", "the hub")
    store_checks(checks, nodes, "commune", "the commune")
    expect_cuts(checks, s, cut, min_cuts, "commune -> hub")

    # A new laptop of the same commune pulls everything through the same kind of link.
    nodes.init_commune("laptop", HUB_COMMUNE, secondary=True)
    nodes.enrol("laptop")
    stats2 = nodes.dir("proxy2.json")
    _, pport2 = nodes.proxy(hub_port, cut, seed + 1, stats2)
    run2 = nodes.sync_until_done("laptop", f"tcp://127.0.0.1:{pport2}", deadline, max_attempts,
                                 label="hub -> laptop")
    s2 = badlink.read_stats(stats2)
    report("hub -> laptop", n, run2, s2)
    converged_run(checks, run2, "hub -> laptop", nodes, "laptop", HUB_COMMUNE, n)
    converged(checks, nodes, "laptop", "hub", HUB_COMMUNE, n, "hub -> laptop")
    progress_checks(checks, run2, s2, nodes.changes_bytes("laptop", HUB_COMMUNE),
                    "bytes_target_to_client", "hub -> laptop")
    store_checks(checks, nodes, "laptop", "the laptop")
    store_checks(checks, nodes, "hub", "the hub (after the laptop)")
    expect_cuts(checks, s2, cut, min_cuts, "hub -> laptop")


def relay_case(nodes, checks, deadline, cut, seed, max_attempts):
    n = env_int("TUPHAP_BADLINK_RELAY_RECORDS", 2000)
    min_cuts = env_int("TUPHAP_BADLINK_MIN_CUTS", 5)
    nodes.init_hub()
    nodes.init_commune("relay", RELAY_COMMUNE)
    nodes.enrol("relay")
    nodes.init_commune("commune", HUB_COMMUNE)
    nodes.enrol("commune")
    nodes.records("commune", HUB_COMMUNE, n, 7)
    hub_port = badlink.free_port()
    nodes.serve("hub", "--listen", f"tcp://127.0.0.1:{hub_port}")
    # The relay learns its neighbours' certificates from the hub's public
    # feed (it admits only keys it can check): one direct sync first.
    first = nodes.sync_until_done("relay", f"tcp://127.0.0.1:{hub_port}", deadline, 3,
                                  label="relay <-> hub (direct, no proxy)")
    checks.fatal(first.ok, "the relay synced with the hub directly", first.last_error)
    relay_id = nodes.node_id("relay")
    relay_port = badlink.free_port()
    nodes.serve("relay", "--listen", f"tcp://127.0.0.1:{relay_port}", "--upstream",
                f"tcp://127.0.0.1:{hub_port}")
    stats = nodes.dir("proxy-relay.json")
    _, pport = nodes.proxy(relay_port, cut, seed, stats)
    print(f"hub on 127.0.0.1:{hub_port}; relay {relay_id} ({RELAY_COMMUNE}) on "
          f"127.0.0.1:{relay_port} dialling the hub; proxy on 127.0.0.1:{pport}, cut {cut}",
          flush=True)
    run = nodes.sync_until_done("commune", f"tcp://127.0.0.1:{pport}", deadline, max_attempts,
                                peer=relay_id, label="commune -> relay")
    s = badlink.read_stats(stats)
    report("commune -> relay", n, run, s)
    converged_run(checks, run, "commune -> relay", nodes, "relay", HUB_COMMUNE, n)
    rc, rr = nodes.changes_rows("commune", HUB_COMMUNE), nodes.changes_rows("relay", HUB_COMMUNE)
    checks.check(rc == rr and rc > 0,
                 f"the relay stores every change of {HUB_COMMUNE} ({rr} of {rc})")
    # The relay cannot read them (no key of 22333)...
    checks.check(nodes.digest("relay", HUB_COMMUNE)["records"] == 0,
                 f"the relay holds {HUB_COMMUNE}'s changes unread (0 records)")
    # ...and forwards them to the hub on its live upstream session.
    t0 = time.monotonic()
    want = nodes.digest("commune", HUB_COMMUNE)
    got = None
    while time.monotonic() < min(deadline, t0 + 120):
        got = nodes.digest("hub", HUB_COMMUNE)
        if got["digest"] == want["digest"]:
            break
        time.sleep(0.5)
    print(f"the hub had them {time.monotonic() - t0:.1f} s after the commune's sync", flush=True)
    converged(checks, nodes, "commune", "hub", HUB_COMMUNE, n, "commune -> relay -> hub")
    for name in ("hub", "relay", "commune"):
        store_checks(checks, nodes, name, f"the {name}")
    expect_cuts(checks, s, cut, min_cuts, "commune -> relay")


CASES = {
    "hub": ("BadLink.TwentyThousandRecordsConvergeThroughACuttingProxy", hub_case),
    "relay": ("BadLink.CommuneRecordsReachTheHubThroughARelayOverACuttingLink", relay_case),
}


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] not in CASES):
        print(__doc__, file=sys.stderr)
        return 2
    tuphap, proxy = sys.argv[1], sys.argv[2]
    case = sys.argv[3] if len(sys.argv) == 4 else "hub"
    title, fn = CASES[case]
    cut = badlink.parse_cut(env_str("TUPHAP_BADLINK_CUT", "20000:300000"))
    seed = env_int("TUPHAP_BADLINK_SEED", 1)
    max_s = env_int("TUPHAP_BADLINK_MAX_SECONDS", 1500)
    max_attempts = env_int("TUPHAP_BADLINK_MAX_ATTEMPTS", 100)
    start = time.monotonic()
    deadline = start + max_s
    print(f"{title}: cut {cut} bytes, proxy seed {seed}, bound {max_s} s, "
          f"{max_attempts} attempts per phase", flush=True)
    badlink.on_sigterm_exit()
    checks = Checks()
    root = tempfile.mkdtemp(prefix=f"tuphap-badlink-{case}-")
    nodes = badlink.Nodes(tuphap, proxy, root)
    error = None
    try:
        fn(nodes, checks, deadline, cut, seed, max_attempts)
    except Stop as e:
        print(str(e), flush=True)
    except Failure as e:
        error = str(e)
    except Exception as e:  # a harness bug still cleans up and fails clearly
        error = f"{type(e).__name__}: {e}"
    finally:
        nodes.close()
        if os.environ.get("TUPHAP_BADLINK_KEEP") == "1":
            print(f"kept {root}")
        else:
            badlink.shutil.rmtree(root, ignore_errors=True)
    print(f"{title}: {time.monotonic() - start:.1f} s in all", flush=True)
    if error:
        print(f"FAIL {error}", flush=True)
        checks.failed.append(error)
    print(f"{checks.passed} passed, {len(checks.failed)} failed", flush=True)
    return 0 if not checks.failed else 1


if __name__ == "__main__":
    sys.exit(main())
