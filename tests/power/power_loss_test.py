#!/usr/bin/env python3
"""Power loss at every kind of moment of the node's writing commands.

The real `tuphap` runs with tests/power/powerloss.cc preloaded: at a chosen
operation (a write, truncate, fsync, create, rename, unlink or mkdir of a file
under the scratch folder) the power fails: every write since the file's last
fsync is undone (or, in "torn" mode, the last one is left half written), every
name change since its directory's last fsync is undone, and the process ends.
A run that gets past its last operation loses power just after it exits.

For one scenario (a command on a node prepared beforehand) this counts the
command's operations, then runs it again from the same prepared copy with the
power failing at crash points spread over them (both modes), and checks after
each, with the real SQLite and the real binary:
  - the store opens and PRAGMA integrity_check is ok;
  - every feed's head is its last stored change (count, hash), nothing is held
    or quarantined that was not before;
  - the command's effect is whole or absent (a record, an import batch, an
    ingested batch, an enrolment, a revocation, a written file);
  - a command that exited 0 before the power failed lost nothing it did;
  - the node still works: its next command succeeds, and a later sync with its
    peer converges (equal digests).

  power_loss_test.py TUPHAP PRELOAD NET_DIR SCENARIO [--points N] [--seed S]

NET_DIR is tests/net (its badlink.Nodes drives the nodes).

Ends with one line: "power_loss SCENARIO: P crash points (D drop, T torn) over
N operations, 0 failures". Exit status 1 on any failure.
"""
import argparse
import contextlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, sys.argv[3] if len(sys.argv) > 3 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "net"))
import badlink  # noqa: E402  (tests/net)
from badlink import Failure, check, free_port  # noqa: E402

POWER_LOSS_EXIT = 86


class Lab(badlink.Nodes):
    """The prepared nodes (under ROOT/base) and the copies each run works on
    (under ROOT/run)."""

    def __init__(self, tuphap, preload, root):
        super().__init__(tuphap, os.devnull, root)
        self.preload = os.path.abspath(preload)
        self.base = os.path.join(root, "base")
        self.work = os.path.join(root, "run")
        os.makedirs(self.base)
        self.cwd = self.base  # where node directories are made and used

    def dir(self, name):
        return os.path.join(self.cwd, name)

    def run(self, *args, check_rc=True, power_at=None, mode="drop", count_file=None):
        env = dict(os.environ)
        if power_at is not None or count_file is not None:
            env["LD_PRELOAD"] = self.preload
            env["TUPHAP_POWERLOSS_ROOT"] = self.work
            env["TUPHAP_POWERLOSS_MODE"] = mode
            # The sanitizer build: this library comes before the runtime.
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
            if power_at is not None:
                env["TUPHAP_POWERLOSS_AT"] = str(power_at)
            if count_file is not None:
                env["TUPHAP_POWERLOSS_COUNT"] = count_file
        r = subprocess.run([self.tuphap, *args], capture_output=True, text=True, timeout=300,
                           env=env, cwd=self.cwd)
        if check_rc and r.returncode != 0:
            raise Failure(f"tuphap {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def js(self, name, *args):
        return json.loads(self.tp(name, "--json", *args).stdout)

    # -- set-up helpers ----------------------------------------------------
    def generate(self, out, commune, n, seed):
        self.run("generate", "--records", str(n), "--commune", commune, "--seed", str(seed),
                 "--out", self.dir(out))

    # -- a run's copy --------------------------------------------------------
    def fresh_copy(self):
        if os.path.exists(self.work):
            shutil.rmtree(self.work)
        shutil.copytree(self.base, self.work, symlinks=True)
        self.cwd = self.work

    # -- the store, read with SQLite itself (badlink.Nodes.query) --------------
    def store_intact(self, name):
        integrity = self.integrity(name)
        check(integrity == "ok", f"{name}: integrity_check: {integrity[:300]}")
        bad = self.query(
            name, "SELECT origin, scope, head_seq FROM feeds f WHERE head_seq != "
            "(SELECT count(*) FROM changes c WHERE c.origin = f.origin AND c.scope = f.scope) "
            "OR head_hash IS NOT (SELECT hash FROM changes c WHERE c.origin = f.origin "
            "AND c.scope = f.scope AND c.seq = f.head_seq) OR applied_seq > head_seq")
        check(not bad, f"{name}: feed heads do not match the log: {bad[:3]}")
        self.tp(name, "status")  # the node opens and reads itself

    def records(self, name, scope=None):
        if scope is None:
            return self.scalar(name, "SELECT count(*) FROM records")
        return self.scalar(name, "SELECT count(*) FROM records WHERE scope = ?", (scope,))

COMMUNE, OTHER = "22333", "22366"  # two communes of Khánh Hòa (56)


# -- scenarios ------------------------------------------------------------------
# Each has prepare(lab) (in the base folder, no power loss), command(lab)
# (argv of the command run under power loss, on the copy) and verify(lab, rc,
# out) (on the copy, after the power failed or the command ended).


class Scenario:
    commits = True  # the command commits to a store (the library must see it)

    def prepare(self, lab):
        raise NotImplementedError

    def command(self, lab):
        raise NotImplementedError

    def verify(self, lab, rc, out):
        raise NotImplementedError


def hub_and_commune(lab, records=20):
    lab.tp("hub", "init", "--role", "hub", "--province", "56")
    lab.tp("c", "init", "--role", "commune", "--commune", COMMUNE)
    lab.enrol("c")
    if records:
        lab.generate("c-lines.jsonl", COMMUNE, records, 7)
        lab.tp("c", "import", lab.dir("c-lines.jsonl"))


@contextlib.contextmanager
def serving(lab, name):
    """`tuphap serve --listen` on NAME (with the real VFS) while the block
    runs; yields its endpoint. A port free when chosen may be taken before
    serve binds it (another test's connections draw from the same ports):
    then another port, a few times."""
    for attempt in range(5):
        ep = f"tcp://127.0.0.1:{free_port()}"
        server = subprocess.Popen([lab.tuphap, "--data", lab.dir(name), "serve", "--exit-with-parent", "--listen", ep],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = ""
        for line in server.stdout:
            if "listening on" in line:
                break
        else:
            server.wait(20)
            server.stdout.close()
            if "Address already in use" in line and attempt < 4:
                continue
            raise Failure(f"serve {name} did not start: {line}")
        break
    try:
        yield ep
    finally:
        server.terminate()
        server.wait(20)
        server.stdout.close()


def converges(lab, a, b, scope, peer=None):
    """A sync between a and b (a serving; PEER: its node id, when b is a hub
    dialling a commune) ends with equal digests."""
    with serving(lab, a) as ep:
        lab.tp(b, "sync", ep, "--once", "--timeout", "60", *(["--peer", peer] if peer else []))
    da, db = lab.digest(a, scope), lab.digest(b, scope)
    check(da == db, f"after a sync, {a} and {b} differ on {scope}: {da} vs {db}")


class LocalWrite(Scenario):
    """An officer registers a record on the commune (`record add`)."""

    def prepare(self, lab):
        hub_and_commune(lab)
        lab.generate("one.jsonl", COMMUNE, 30, 99)
        with open(lab.dir("one.jsonl"), encoding="utf-8") as f:
            line = f.readlines()[-1]
        with open(lab.dir("one.json"), "w", encoding="utf-8") as f:
            f.write(line)
        self.before = lab.records("c")

    def command(self, lab):
        return ["--data", lab.dir("c"), "record", "add", "--input", lab.dir("one.json")]

    def verify(self, lab, rc, out):
        lab.store_intact("c")
        n = lab.records("c")
        check(n in (self.before, self.before + 1), f"records {n}, before {self.before}")
        if rc == 0:
            rid = out.strip().split()[-1]
            check(n == self.before + 1, "a record add that returned its id was lost")
            check(lab.scalar("c", "SELECT count(*) FROM records WHERE record_id = ?", (rid,)) == 1,
                  f"record {rid} printed but absent")
        converges(lab, "hub", "c", COMMUNE)


class Import(Scenario):
    """An import of 40 lines in batches of 8."""

    def prepare(self, lab):
        hub_and_commune(lab, records=0)
        lab.generate("lines.jsonl", COMMUNE, 40, 11)

    def command(self, lab):
        return ["--data", lab.dir("c"), "import", "--batch", "8", lab.dir("lines.jsonl")]

    def verify(self, lab, rc, out):
        lab.store_intact("c")
        n = lab.records("c")
        check(n % 8 == 0, f"{n} records: a batch of 8 is half applied")
        if rc == 0:
            check(n == 40, f"an import that returned success left {n} of 40 records")
        else:
            r = lab.tp("c", "import", "--batch", "8", lab.dir("lines.jsonl"), check_rc=False)
            check(r.returncode in (0, 1), f"re-import after the power cut: {r.stderr.strip()}")
            check(lab.records("c") == 40, "re-import did not complete the file exactly once: "
                  f"{lab.records('c')} records")
        converges(lab, "hub", "c", COMMUNE)


class Ingest(Scenario):
    """The hub pulls a commune's changes (`sync`, the hub dialling)."""

    def prepare(self, lab):
        hub_and_commune(lab, records=60)
        self.commune_id = lab.js("c", "status")["node_id"]

    def command(self, lab):
        # The commune serves from the copy, with the real VFS; only the hub's
        # process (this command) loses power.
        self.server = contextlib.ExitStack()
        ep = self.server.enter_context(serving(lab, "c"))
        return ["--data", lab.dir("hub"), "sync", ep, "--once", "--timeout", "30", "--peer",
                self.commune_id]

    def verify(self, lab, rc, out):
        self.server.close()
        lab.store_intact("hub")
        if rc == 0:
            check(lab.digest("hub", COMMUNE) == lab.digest("c", COMMUNE),
                  "a sync that returned success left the hub behind the commune")
        converges(lab, "c", "hub", COMMUNE, peer=self.commune_id)


class BundleImport(Scenario):
    """The hub applies a commune's bundle (a USB stick)."""

    def prepare(self, lab):
        hub_and_commune(lab, records=40)
        hub_id = lab.js("hub", "status")["node_id"]
        lab.tp("c", "bundle", "export", "--for", hub_id, "--out", lab.dir("c.bundle"))

    def command(self, lab):
        return ["--data", lab.dir("hub"), "bundle", "import", lab.dir("c.bundle")]

    def verify(self, lab, rc, out):
        lab.store_intact("hub")
        if rc == 0:
            check(lab.digest("hub", COMMUNE) == lab.digest("c", COMMUNE),
                  "a bundle import that returned success was lost")
        lab.tp("hub", "bundle", "import", lab.dir("c.bundle"))
        check(lab.digest("hub", COMMUNE) == lab.digest("c", COMMUNE),
              "the bundle imported again does not bring the hub level")


class BundleExport(Scenario):
    """A commune writes a bundle file."""

    commits = False

    def prepare(self, lab):
        hub_and_commune(lab, records=40)
        self.hub_id = lab.js("hub", "status")["node_id"]

    def command(self, lab):
        return ["--data", lab.dir("c"), "bundle", "export", "--for", self.hub_id, "--out",
                lab.dir("out.bundle")]

    def verify(self, lab, rc, out):
        lab.store_intact("c")
        path = lab.dir("out.bundle")
        if rc == 0:
            check(os.path.exists(path), "a bundle export that returned success left no file")
        if os.path.exists(path):  # a bundle that is there is whole
            lab.tp("hub", "bundle", "import", path)
            check(lab.digest("hub", COMMUNE) == lab.digest("c", COMMUNE),
                  "the bundle left by the power cut does not carry every change")


class Snapshot(Scenario):
    """A commune writes a snapshot of its store."""

    commits = False

    def prepare(self, lab):
        hub_and_commune(lab, records=40)

    def command(self, lab):
        return ["--data", lab.dir("c"), "snapshot", "--out", lab.dir("snap.db")]

    def verify(self, lab, rc, out):
        lab.store_intact("c")
        path = lab.dir("snap.db")
        if rc == 0:
            check(os.path.exists(path), "a snapshot that returned success left no file")
        if os.path.exists(path):
            db = sqlite3.connect(path)
            try:
                rows = db.execute("PRAGMA integrity_check").fetchall()
                n = db.execute("SELECT count(*) FROM records").fetchone()[0]
            finally:
                db.close()
            check([r[0] for r in rows] == ["ok"], f"the snapshot is damaged: {rows[:3]}")
            check(n == lab.records("c"), f"the snapshot holds {n} of {lab.records('c')} records")


class EnrolAccept(Scenario):
    """A new commune node takes its enrolment file (keys and certificate)."""

    def prepare(self, lab):
        hub_and_commune(lab, records=0)
        lab.tp("d", "init", "--role", "commune", "--commune", OTHER)
        lab.tp("d", "enroll", "request", "--out", lab.dir("d.req"))
        lab.tp("hub", "enroll", "sign", lab.dir("d.req"), "--out", lab.dir("d.enrol"))

    def command(self, lab):
        return ["--data", lab.dir("d"), "enroll", "accept", lab.dir("d.enrol")]

    def verify(self, lab, rc, out):
        lab.store_intact("d")
        enrolled = lab.js("d", "status").get("enrolled")
        if rc == 0:
            check(enrolled, "an enrolment that returned success was lost")
        if not enrolled:
            lab.tp("d", "enroll", "accept", lab.dir("d.enrol"))
        lab.generate("d-lines.jsonl", OTHER, 5, 3)
        lab.tp("d", "import", lab.dir("d-lines.jsonl"))
        converges(lab, "hub", "d", OTHER)


class Revoke(Scenario):
    """The hub revokes a node: cuts its feeds and rotates its own keys."""

    def prepare(self, lab):
        hub_and_commune(lab, records=0)
        lab.generate("c-all.jsonl", COMMUNE, 15, 7)
        with open(lab.dir("c-all.jsonl"), encoding="utf-8") as f:
            lines = f.readlines()
        for name, part in (("c-first.jsonl", lines[:10]), ("c-more.jsonl", lines[10:])):
            with open(lab.dir(name), "w", encoding="utf-8") as f:
                f.writelines(part)
        lab.tp("c", "import", lab.dir("c-first.jsonl"))
        lab.tp("d", "init", "--role", "commune", "--commune", OTHER)
        lab.enrol("d")
        self.victim = lab.js("d", "status")["node_id"]
        # The hub holds the commune's records, so the later sync checks them.
        with serving(lab, "hub") as ep:
            lab.tp("c", "sync", ep, "--once")

    def command(self, lab):
        return ["--data", lab.dir("hub"), "revoke", self.victim, "--reason", "máy bị mất"]

    def verify(self, lab, rc, out):
        lab.store_intact("hub")
        revoked = lab.scalar("hub", "SELECT count(*) FROM trust_objects WHERE kind = 'revocation'")
        if rc == 0:
            check(revoked == 1, "a revocation that returned success was lost")
        if revoked == 0:
            lab.tp("hub", "revoke", self.victim, "--reason", "máy bị mất")
        # Its keys open, it signs, and the commune still syncs with it.
        lab.tp("c", "import", lab.dir("c-more.jsonl"))
        converges(lab, "hub", "c", COMMUNE)


class EnrolSign(Scenario):
    """The hub writes a commune's enrolment file."""

    def prepare(self, lab):
        hub_and_commune(lab, records=0)
        lab.tp("d", "init", "--role", "commune", "--commune", OTHER)
        lab.tp("d", "enroll", "request", "--out", lab.dir("d.req"))

    def command(self, lab):
        return ["--data", lab.dir("hub"), "enroll", "sign", lab.dir("d.req"), "--out",
                lab.dir("d.enrol")]

    def verify(self, lab, rc, out):
        lab.store_intact("hub")
        path = lab.dir("d.enrol")
        if rc == 0:
            check(os.path.exists(path), "an enrolment file that was reported written is gone")
        if os.path.exists(path):  # a file that is there is whole: the commune takes it
            lab.tp("d", "enroll", "accept", path)
            check(lab.js("d", "status").get("enrolled"), "the enrolment file did not enrol")


class Init(Scenario):
    """A node is created (its store and key file)."""

    def prepare(self, lab):
        pass

    def command(self, lab):
        return ["--data", lab.dir("n"), "init", "--role", "commune", "--commune", COMMUNE]

    def verify(self, lab, rc, out):
        if rc != 0:
            # Cut short: either the node is whole, or init can be run again.
            r = lab.tp("n", "status", check_rc=False)
            if r.returncode != 0:
                again = lab.tp("n", "init", "--role", "commune", "--commune", COMMUNE,
                               check_rc=False)
                check(again.returncode == 0,
                      f"after a power cut in init the node neither opens ({r.stderr.strip()}) "
                      f"nor can be made again ({again.stderr.strip()})")
        lab.store_intact("n")
        # The key file opens with the passphrase and holds this node's keys
        # (status does not read it): a command that signs with them.
        lab.tp("n", "enroll", "request", "--out", lab.dir("n.req"))


SCENARIOS = {
    "local_write": LocalWrite,
    "import": Import,
    "ingest": Ingest,
    "bundle_import": BundleImport,
    "bundle_export": BundleExport,
    "snapshot": Snapshot,
    "enrol_accept": EnrolAccept,
    "revoke": Revoke,
    "enrol_sign": EnrolSign,
    "init": Init,
}


def read_counts(path):
    """(operations, commits, commits returned unsynced, kinds) from the
    library: kinds has a letter per operation, 'w' a data write, 's' an
    fsync, 'n' a name change."""
    with open(path) as f:
        ops, commits, unsynced, kinds = f.read().split()
    os.remove(path)
    return int(ops), int(commits), int(unsynced), kinds.replace("-", "")


def crash_points(kinds, budget, rng):
    """Operations to fail at (1-based; len(kinds) + 1 is "just after the
    end"): every fsync and name change and the operation after each (where
    a missing sync shows), then data writes drawn at random up to BUDGET."""
    ops = len(kinds)
    chosen = {ops + 1}
    for i, k in enumerate(kinds, start=1):
        if k != "w":
            chosen.update({i, i + 1})
    rest = [i for i in range(1, ops + 1) if i not in chosen]
    if budget > len(chosen):
        chosen.update(rng.sample(rest, min(len(rest), budget - len(chosen))))
    return sorted(chosen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tuphap")
    ap.add_argument("preload")
    ap.add_argument("net_dir")
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--points", type=int, default=120, help="crash points (half of them torn)")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    os.environ.setdefault("TUPHAP_PASSPHRASE", "power-loss")
    os.environ.setdefault("TUPHAP_KDF", "weak")
    os.environ.setdefault("TUPHAP_OFFICER", "power-loss")
    root = tempfile.mkdtemp(prefix=f"tuphap-power-{a.scenario}-")
    lab = Lab(a.tuphap, a.preload, root)
    scenario = SCENARIOS[a.scenario]()
    failures = 0
    points = {"drop": 0, "torn": 0}
    cut_short = 0
    commits_checked = 0
    try:
        scenario.prepare(lab)
        # Count the command's operations on a copy (no power loss).
        lab.fresh_copy()
        count_file = os.path.join(root, "count")
        argv = scenario.command(lab)
        r = lab.run(*argv, count_file=count_file, check_rc=False)
        scenario.verify(lab, r.returncode, r.stdout)
        check(r.returncode == 0, f"the command fails without power loss: {r.stderr.strip()}")
        ops, commits, unsynced, kinds = read_counts(count_file)
        check(ops > 0 and len(kinds) == ops,
              "the preloaded library counted no operation: is it loaded?")
        check(commits > 0 or not scenario.commits,
              "the library saw no commit: its hooks are not installed")
        check(unsynced == 0, f"{unsynced} of {commits} commits returned before they were synced")
        chosen = crash_points(kinds, a.points // 2, rng)
        plan = [(k, m) for k in chosen for m in ("drop", "torn")]
        print(f"power_loss {a.scenario}: seed={seed} (replay with --seed {seed}), {ops} operations "
              f"({kinds.count('s')} syncs, {kinds.count('n')} name changes), "
              f"{len(plan)} crash points", flush=True)
        for k, mode in plan:
            lab.fresh_copy()
            argv = scenario.command(lab)
            r = lab.run(*argv, power_at=k, mode=mode, check_rc=False, count_file=count_file)
            try:
                _, done, unsynced, _ = read_counts(count_file)
                commits_checked += done
                check(unsynced == 0, f"{unsynced} of {done} commits returned before they were "
                      "synced")
                check(r.returncode in (0, POWER_LOSS_EXIT),
                      f"the command failed on its own: exit {r.returncode}: {r.stderr.strip()}")
                scenario.verify(lab, 0 if r.returncode == 0 else POWER_LOSS_EXIT, r.stdout)
            except Failure as e:
                failures += 1
                print(f"FAIL at operation {k} ({mode}, exit {r.returncode}): {e}", flush=True)
                if failures >= 5:
                    raise Failure("stopping after 5 failures")
            points[mode] += 1
            cut_short += r.returncode == POWER_LOSS_EXIT
    except Failure as e:
        print(f"FAIL: {e}")
        failures += 1
    finally:
        lab.cwd = lab.base
        if os.environ.get("TUPHAP_KEEP") is None:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    total = points["drop"] + points["torn"]
    print(f"power_loss {a.scenario}: {total} crash points ({points['drop']} drop, "
          f"{points['torn']} torn; {cut_short} cut the command short; {commits_checked} commits "
          f"synced before they returned), {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
