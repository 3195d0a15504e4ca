#!/usr/bin/env python3
"""Kill-point stress of the real processes (issue 15, part 3).

A hub and four commune nodes (a primary and a secondary of one commune, a
commune that keeps a live link with `serve --upstream`, a commune that only
carries bundles) plus a pool of nodes that come to be enrolled and revoked,
all real `tuphap` processes on their own data directories. Kill points rotate
among the commands that write: the hub's `serve` while communes sync to it, a
commune's `serve --upstream`, `sync`, `import`, `bundle export`, `bundle
import`, `enroll sign`, `enroll accept`, `revoke` (a node: cut its feeds and
rotate its commune's key), `record revoke`, `record amend`, `index rebuild`
and `snapshot`. Each kill is a SIGKILL at a random moment between 0 and the
command's typical duration (measured here as it runs); the command is then
run again until it completes.

After every kill the killed node's store passes `PRAGMA integrity_check`
(opened read-only, before any tuphap process touches it again), its feed
heads match its change log, what the command writes is whole or absent (an
import's batches, an amendment, a bundle, a snapshot), and its own `status`
works and shows no equivocation. At the end every node syncs to
convergence: digests equal per scope, every imported line's record present
exactly once with every change once in its feed, every revocation applied,
the person index equal to a rebuild, nothing quarantined.

The last line is one line of counts; exit 1 on any failure. `--seed N`
replays the same schedule (kinds, targets, kill fractions); the delays in
seconds scale with the durations measured on the machine.

usage: kill_stress.py TUPHAP [--kills N] [--seed N] [--keep] [--verbose]
Python 3 standard library only; 127.0.0.1 only.
"""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TUPHAP_PASSPHRASE", "stress-passphrase")
os.environ.setdefault("TUPHAP_KDF", "weak")

PROVINCE = "56"
STORE = "tuphap.db"
HUB = "hub"
# Node name -> commune; c1b is a secondary of c1's commune.
MAIN = {"c1": "22333", "c2": "22366", "c3": "22390"}
PRIMARIES = ("c1", "c2", "c3")
KINDS = ("serve", "serve-upstream", "sync", "import", "bundle-export", "bundle-import",
         "enroll-sign", "enroll-accept", "node-revoke", "record-revoke", "amend",
         "index-rebuild", "snapshot")
IMPORT_LINES = 200  # lines per killed import, in batches of IMPORT_BATCH
IMPORT_BATCH = 50
FEED_LINES = 50  # lines imported unkilled to give a sync, a serve or a bundle work
POOL_DRAFTS = 60  # lines a pool primary registers before its enrolment
SYNC_TIMEOUT = 20


class Failure(Exception):
    """A check that must hold did not."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def _die_with_parent():
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def tail(text, n=3):
    return " | ".join(text.strip().splitlines()[-n:])


Line = collections.namedtuple("Line", "text op record_id")  # one workload line


class Run:
    """One finished process: code (-9 when our SIGKILL ended it), output, seconds."""

    def __init__(self, code, out, err, seconds):
        self.code, self.out, self.err, self.seconds = code, out, err, seconds

    @property
    def killed(self):
        return self.code == -signal.SIGKILL


class Stress:
    def __init__(self, tuphap, root, seed, kills, verbose):
        self.tuphap = os.path.abspath(tuphap)
        self.root = root
        self.seed = seed
        self.kills_wanted = kills
        self.verbose = verbose
        self.sched = random.Random(seed)
        self.t0 = time.monotonic()
        self.kills = collections.Counter()
        self.misses = collections.Counter()  # the command ended before its kill moment
        self.retries = collections.Counter()  # runs after a kill until one succeeded
        self.failed_retries = collections.Counter()  # of those, runs that failed
        self.durations = collections.defaultdict(list)
        self.servers = {}  # name -> (Popen, serve arguments)
        self.streams = {}  # commune -> [Line], consumed in order
        self.pos = collections.Counter()  # commune -> lines consumed
        self.last_ref = {}  # (commune, record id) -> index of its last line
        self.expected_feed = collections.Counter()  # node -> changes it authored
        self.created = collections.defaultdict(set)  # commune -> record ids imported
        self.revoked_records = {}  # (commune, record id) -> node that revoked it
        self.amended = collections.defaultdict(set)  # (commune, record id) -> notes written
        self.pool_communes = []
        self.pool = []  # every pool node's name
        self.pool_signed = []  # names with an enrolment file, not yet accepted
        self.pool_enrolled = []  # names enrolled, not yet revoked
        self.pool_revoked = []
        self.pool_commune = {}  # name -> commune
        self.pool_primary = set()
        self.node_ids = {}
        self.events = 0
        self.seq = 0
        self.stray_files = 0  # temporaries a killed atomic write left beside its target

    # -- processes --------------------------------------------------------
    def dir(self, name):
        return os.path.join(self.root, name)

    def log(self, text):
        print(f"[{time.monotonic() - self.t0:7.1f}s] {text}", flush=True)

    def argv(self, name, *args):
        return [self.tuphap, *(["--data", self.dir(name)] if name else []), *args]

    def run(self, name, *args, timeout=300):
        t = time.monotonic()
        try:
            r = subprocess.run(self.argv(name, *args), capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL,
                               preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired:
            raise Failure(f"tuphap --data {name} {' '.join(args)} hung for {timeout} s")
        return Run(r.returncode, r.stdout, r.stderr, time.monotonic() - t)

    def tp(self, name, *args, timeout=300):
        r = self.run(name, *args, timeout=timeout)
        check(r.code == 0, f"tuphap --data {name} {' '.join(args)} exited {r.code}: "
              f"{tail(r.err)}")
        return r

    def start(self, name, *args):
        self.seq += 1
        out = os.path.join(self.root, "out", f"{self.seq}.out")
        err = os.path.join(self.root, "out", f"{self.seq}.err")
        fo, fe = open(out, "wb"), open(err, "wb")
        try:
            p = subprocess.Popen(self.argv(name, *args), stdout=fo, stderr=fe,
                                 stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        finally:
            fo.close()
            fe.close()
        return p, out, err, time.monotonic()

    def finish(self, started, timeout=300):
        p, out, err, t = started
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failure(f"{' '.join(p.args[1:])} hung for {timeout} s")
        seconds = time.monotonic() - t
        with open(out, encoding="utf-8", errors="replace") as f:
            o = f.read()
        with open(err, encoding="utf-8", errors="replace") as f:
            e = f.read()
        os.unlink(out)
        os.unlink(err)
        return Run(p.returncode, o, e, seconds)

    def killed_run(self, kind, name, *args, delay):
        """Runs the command and SIGKILLs it DELAY seconds after its start,
        unless it ended before; returns its Run."""
        started = self.start(name, *args)
        p = started[0]
        try:
            p.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)  # a zombie ignores it: then code says it ended
        r = self.finish(started)
        if r.killed:
            self.kills[kind] += 1
        else:
            self.misses[kind] += 1
            self.durations[kind].append(r.seconds)
        return r

    def typical(self, kind):
        d = self.durations[kind][-15:]
        check(d, f"no measured duration for {kind}")
        return statistics.median(d)

    def draw_delay(self, kind, frac):
        return frac * self.typical(kind)

    def until_ok(self, kind, name, *args, ok=None, limit=40):
        """Runs the command again until it succeeds (exit 0, or ok(run));
        returns the last Run. Each run counts as a retry of KIND (None: not
        after a kill, not counted)."""
        tries = 0
        while True:
            r = self.run(name, *args)
            tries += 1
            if kind is not None:
                self.retries[kind] += 1
            if r.code == 0 or (ok is not None and ok(r)):
                if r.code == 0 and kind is not None:
                    self.durations[kind].append(r.seconds)
                return r
            if kind is not None:
                self.failed_retries[kind] += 1
            check(tries < limit, f"{kind}: tuphap --data {name} {' '.join(args)} still fails "
                  f"after {tries} runs: exit {r.code}: {tail(r.err)}")
            time.sleep(0.2)

    # -- long-running nodes -------------------------------------------------
    def serve(self, name, *args):
        """Starts `serve ARGS` on NAME; returns once its log says it listens
        (or dials)."""
        log_path = self.dir(name + ".serve.log")
        offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        with open(log_path, "ab") as logf:
            p = subprocess.Popen(self.argv(name, "serve", "--exit-with-parent", *args), stdout=logf,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 preexec_fn=_die_with_parent)
        want = (b"listening on" if "--listen" in args else b"dialling")
        end = time.monotonic() + 30
        while True:
            with open(log_path, "rb") as f:
                f.seek(offset)
                text = f.read()
            if want in text:
                break
            if p.poll() is not None or time.monotonic() > end:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                raise Failure(f"serve {name} did not start (exit {p.returncode}): "
                              f"{tail(text.decode(errors='replace'))}")
            time.sleep(0.02)
        self.servers[name] = (p, args)
        return p

    def kill_server(self, kind, name):
        p, args = self.servers.pop(name)
        check(p.poll() is None, f"serve {name} had stopped by itself (exit {p.returncode})")
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        self.kills[kind] += 1
        return args

    def stop_servers(self):
        for name, (p, _) in list(self.servers.items()):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.servers.clear()

    # -- the store, read-only -----------------------------------------------
    def query(self, name, sql, params=()):
        path = os.path.join(self.dir(name), STORE)
        check(os.path.exists(path), f"{name}: no store at {path}")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def own_head(self, name, scope):
        rows = self.query(name, "SELECT f.head_seq FROM feeds f JOIN origins o ON o.id = f.origin "
                          "JOIN meta m ON m.key = 'node_id' AND m.value = o.key "
                          "WHERE f.scope = ?", (scope,))
        return rows[0][0] if rows else 0

    def head_of(self, holder, author, scope):
        rows = self.query(holder, "SELECT f.head_seq FROM feeds f JOIN origins o ON o.id = "
                          "f.origin WHERE o.key = ? AND f.scope = ?",
                          (self.node_key(author), scope))
        return rows[0][0] if rows else 0

    def node_key(self, name):
        return self.query(name, "SELECT value FROM meta WHERE key = 'node_id'")[0][0]

    def record_ids(self, name, scope):
        return [r[0] for r in self.query(name, "SELECT record_id FROM records WHERE scope = ?",
                                         (scope,))]

    def check_store(self, name, why):
        """The store after a kill: integrity, feed heads against the change
        log, then the node's own `status`."""
        rows = self.query(name, "PRAGMA integrity_check")
        check([r[0] for r in rows] == ["ok"],
              f"{name} after {why}: integrity_check: {'; '.join(r[0] for r in rows[:5])}")
        bad = self.query(name, """
            SELECT f.scope, f.head_seq, f.applied_seq,
                   (SELECT count(*) FROM changes c WHERE c.origin = f.origin AND c.scope = f.scope),
                   (SELECT coalesce(max(seq), 0) FROM changes c
                     WHERE c.origin = f.origin AND c.scope = f.scope)
            FROM feeds f""")
        for scope, head, applied, n, top in bad:
            check(n == head and top == head and applied <= head,
                  f"{name} after {why}: feed of scope {scope} has head {head}, applied {applied} "
                  f"but {n} changes up to seq {top} in the log")
        st = self.status(name, why)
        check(not st.get("equivocations") and not st.get("quarantined"),
              f"{name} after {why}: equivocations {st.get('equivocations')}, "
              f"quarantined {st.get('quarantined')}")
        return st

    def status(self, name, why="status"):
        r = self.run(name, "--json", "status")
        check(r.code == 0, f"{name} after {why}: status exited {r.code}: {tail(r.err)}")
        try:
            return json.loads(r.out)
        except ValueError:
            raise Failure(f"{name} after {why}: status printed no JSON: {r.out[:200]!r}")

    def digest(self, name, scope):
        out = json.loads(self.tp(name, "--json", "digest", "--scope", scope).out)
        for d in out:
            if d.get("scope") == scope:
                return d
        return {"scope": scope, "records": 0, "digest": None}

    # -- workload ---------------------------------------------------------
    def make_workload(self):
        """One generator run for every commune, so no personal ID of one
        commune's lines collides with another's; main communes weigh more."""
        per_main = 30 * self.kills_wanted + 2000
        weight = max(1, per_main // POOL_DRAFTS)
        seen = []
        for line in self.tp(None, "generate", "--province", PROVINCE, "--records", "3000",
                            "--seed", "1").out.splitlines():
            c = json.loads(line)["commune_code"]
            if c not in seen:
                seen.append(c)
        pool_n = min(len(seen) - len(MAIN), self.kills_wanted // (len(KINDS) * 2) + 2)
        self.pool_communes = [c for c in sorted(seen) if c not in MAIN.values()][:pool_n]
        communes = []
        for c in MAIN.values():
            communes += ["--commune", c] * weight
        for c in self.pool_communes:
            communes += ["--commune", c]
        records = weight * POOL_DRAFTS * len(MAIN) + POOL_DRAFTS * len(self.pool_communes)
        path = self.dir("workload.jsonl")
        self.tp(None, "generate", "--records", str(records), "--edits", str(records // 10),
                "--seed", str(self.seed), *communes, "--out", path)
        with open(path, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                c = d["commune_code"]
                s = self.streams.setdefault(c, [])
                self.last_ref[(c, d["record_id"])] = len(s)
                s.append(Line(line, d["op"], d["record_id"]))
        os.unlink(path)
        self.log(f"workload: {records} records + {records // 10} edits over {len(MAIN)} main and "
                 f"{len(self.pool_communes)} pool communes")

    def take(self, commune, n):
        s = self.streams[commune]
        a = self.pos[commune]
        check(a + n <= len(s), f"the workload of {commune} is used up ({len(s)} lines)")
        self.seq += 1
        path = os.path.join(self.root, "lines", f"{commune}-{a}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for d in s[a:a + n]:
                f.write(d.text)
        return path, s[a:a + n]

    def consumed(self, node, commune, lines):
        self.pos[commune] += len(lines)
        self.expected_feed[node] += len(lines)
        for d in lines:
            if d.op == "create":
                self.created[commune].add(d.record_id)

    def import_lines(self, node, n):
        """Imports the next N lines of NODE's commune, unkilled."""
        commune = MAIN[node]
        path, lines = self.take(commune, n)
        r = self.tp(node, "--json", "import", path)
        self.check_import(node, r, len(lines))
        self.consumed(node, commune, lines)

    def check_import(self, node, r, n):
        s = json.loads(r.out.strip().splitlines()[-1])["summary"]
        check(s["refused"] == 0 and s["accepted"] + s["duplicates"] == n and s["lines"] == n,
              f"import on {node}: {s} for {n} lines")

    def settled(self, commune):
        """Records of COMMUNE no later line of the workload touches (safe to
        amend or revoke: no coming edit expects their old value)."""
        p = self.pos[commune]
        return sorted(rid for rid in self.created[commune]
                      if self.last_ref[(commune, rid)] < p and (commune, rid)
                      not in self.revoked_records)

    def revocable(self, commune):
        """Settled births and decisions: revoking a death or a marriage would
        change what the person rules let a later line of the workload do (a
        widow's remarriage, a confirmation of marital status)."""
        return [rid for rid in self.settled(commune) if "-KS-" in rid or "-XP-" in rid]

    # -- set-up -----------------------------------------------------------
    def node_id(self, name):
        if name not in self.node_ids:
            self.node_ids[name] = self.status(name)["node_id"]
        return self.node_ids[name]

    def enrol(self, name):
        req, cert = self.dir(name + ".req"), self.dir(name + ".enrol")
        self.tp(name, "enroll", "request", "--out", req, "--label", f"stress {name}")
        self.tp(HUB, "enroll", "sign", req, "--out", cert)
        self.tp(name, "enroll", "accept", cert)

    def setup(self):
        os.makedirs(os.path.join(self.root, "out"))
        os.makedirs(os.path.join(self.root, "lines"))
        os.makedirs(os.path.join(self.root, "stick"))
        self.make_workload()
        self.tp(HUB, "init", "--role", "hub", "--province", PROVINCE)
        for name, commune in MAIN.items():
            self.tp(name, "init", "--role", "commune", "--commune", commune)
        self.tp("c1b", "init", "--role", "commune", "--commune", MAIN["c1"], "--secondary")
        for name in ("c1", "c1b", "c2", "c3"):
            self.enrol(name)
        self.port = free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.serve(HUB, "--listen", self.endpoint)
        # Measured durations of every command a kill is drawn against.
        for name in PRIMARIES:
            path, lines = self.take(MAIN[name], IMPORT_LINES)
            r = self.tp(name, "--json", "import", path, "--batch", str(IMPORT_BATCH))
            self.check_import(name, r, len(lines))
            self.consumed(name, MAIN[name], lines)
            self.durations["import"].append(r.seconds)
        for name in ("c1", "c1b", "c2"):
            self.durations["sync"].append(self.tp(name, "sync", self.endpoint, "--once").seconds)
        self.import_lines("c1", FEED_LINES)
        self.durations["serve"].append(self.sync_round_unkilled())
        self.serve("c2", "--upstream", self.endpoint)
        self.import_lines("c2", FEED_LINES)
        self.durations["serve-upstream"].append(self.await_upstream())
        self.bundle_c3_to_hub(measure=True)
        self.bundle_hub_to_c3(measure=True)
        for _ in range(2):
            name = self.prepare_pool()
            self.sign_pool(name, measure=True)
            r = self.tp(name, "enroll", "accept", self.dir(name + ".enrol"))
            self.durations["enroll-accept"].append(r.seconds)
            self.after_accept(name)
        name = self.pool_enrolled.pop(0)
        r = self.tp(HUB, "revoke", self.node_id(name), "--reason", f"stress {name}")
        self.durations["node-revoke"].append(r.seconds)
        self.pool_revoked.append(name)
        for node in PRIMARIES:
            rid = self.revocable(MAIN[node])[0]
            r = self.tp(node, "record", "revoke", rid, "--reason", "stress set-up")
            self.revoked_records[(MAIN[node], rid)] = node
            self.expected_feed[node] += 1
            self.durations["record-revoke"].append(r.seconds)
            rid = self.settled(MAIN[node])[0]
            value = f"stress set-up {node}"
            r = self.tp(node, "record", "amend", rid, "--field", f"data.notes={value}",
                        "--reason", "stress")
            self.amended[(MAIN[node], rid)].add(value)
            self.expected_feed[node] += 1
            self.durations["amend"].append(r.seconds)
        self.durations["index-rebuild"].append(self.tp("c1", "index", "rebuild").seconds)
        snap = self.dir("stick/setup.db")
        self.durations["snapshot"].append(self.tp(HUB, "snapshot", "--out", snap).seconds)
        os.unlink(snap)
        self.log("set-up done: hub, c1 + c1b (" + MAIN["c1"] + "), c2 live (" + MAIN["c2"] +
                 "), c3 by bundle (" + MAIN["c3"] + "); typical seconds: " +
                 ", ".join(f"{k} {self.typical(k):.3f}" for k in KINDS))

    # -- pieces the events share ------------------------------------------
    def sync_round_unkilled(self):
        t = time.monotonic()
        procs = [self.start(n, "sync", self.endpoint, "--once", "--timeout", str(SYNC_TIMEOUT))
                 for n in ("c1", "c1b")]
        for n, s in zip(("c1", "c1b"), procs):
            r = self.finish(s)
            check(r.code == 0, f"sync {n}: exit {r.code}: {tail(r.err)}")
        return time.monotonic() - t

    def sync(self, name, kind=None):
        return self.until_ok(kind, name, "sync", self.endpoint, "--once", "--timeout",
                             str(SYNC_TIMEOUT))

    def await_upstream(self, limit=180):
        """Seconds until the hub and c2 hold the same records of c2's commune."""
        t = time.monotonic()
        scope = MAIN["c2"]
        while True:
            if self.digest(HUB, scope) == self.digest("c2", scope):
                return time.monotonic() - t
            check(time.monotonic() - t < limit,
                  f"c2's serve --upstream did not converge with the hub in {limit} s")
            time.sleep(0.05)

    def bundle_c3_to_hub(self, measure=False):
        out = self.dir("stick/c3-hub.tpb")
        r = self.tp("c3", "bundle", "export", "--for", self.node_id(HUB), "--out", out)
        if measure:
            self.durations["bundle-export"].append(r.seconds)
        r = self.tp(HUB, "bundle", "import", out)
        if measure:
            self.durations["bundle-import"].append(r.seconds)

    def bundle_hub_to_c3(self, measure=False):
        out = self.dir("stick/hub-c3.tpb")
        r = self.tp(HUB, "bundle", "export", "--for", self.node_id("c3"), "--out", out)
        if measure:
            self.durations["bundle-export"].append(r.seconds)
        r = self.tp("c3", "bundle", "import", out)
        if measure:
            self.durations["bundle-import"].append(r.seconds)

    def prepare_pool(self):
        """A new node to enrol: a primary of a commune no node has yet, with
        work typed before enrolment, or a secondary of a main commune."""
        n = len(self.pool)
        name = f"p{n}"
        fresh = [c for c in self.pool_communes if c not in self.pool_commune.values()]
        if n % 2 == 0 and fresh:
            commune = fresh[0]
            self.tp(name, "init", "--role", "commune", "--commune", commune)
            lines = self.streams[commune]
            path, lines = self.take(commune, len(lines))
            r = self.tp(name, "--json", "import", path)
            self.check_import(name, r, len(lines))
            self.consumed(name, commune, lines)
            self.pool_primary.add(name)
        else:
            commune = list(MAIN.values())[(n // 2) % len(MAIN)]
            self.tp(name, "init", "--role", "commune", "--commune", commune, "--secondary")
        self.pool_commune[name] = commune
        self.pool.append(name)
        self.tp(name, "enroll", "request", "--out", self.dir(name + ".req"), "--label",
                f"stress {name}")
        return name

    def sign_pool(self, name, measure=False):
        r = self.tp(HUB, "enroll", "sign", self.dir(name + ".req"), "--out",
                    self.dir(name + ".enrol"))
        if measure:
            self.durations["enroll-sign"].append(r.seconds)
        self.pool_signed.append(name)

    def after_accept(self, name):
        self.pool_signed.remove(name)
        st = self.status(name)
        check(st.get("enrolled") is True and st.get("drafts") == 0,
              f"{name} after enroll accept: enrolled {st.get('enrolled')}, drafts "
              f"{st.get('drafts')}")
        if name in self.pool_primary:
            self.sync(name)
        self.pool_enrolled.append(name)

    # -- the events ---------------------------------------------------------
    def ev_serve(self, rng, frac):
        """The hub's serve killed while c1 and c1b sync and c2 keeps its link."""
        self.import_lines("c1", FEED_LINES)
        delay = self.draw_delay("serve", frac)
        procs = [(n, self.start(n, "sync", self.endpoint, "--once", "--timeout",
                                str(SYNC_TIMEOUT))) for n in ("c1", "c1b")]
        time.sleep(delay)
        args = self.kill_server("serve", HUB)
        self.check_store(HUB, "serve killed")
        self.serve(HUB, *args)
        for n, s in procs:
            r = self.finish(s)
            if r.code != 0:
                self.failed_retries["serve"] += 1
                self.sync(n, "serve")
            self.check_store(n, "its hub's serve was killed")
        return f"hub after {delay:.3f} s"

    def ev_serve_upstream(self, rng, frac):
        self.import_lines("c2", FEED_LINES)
        delay = self.draw_delay("serve-upstream", frac)
        time.sleep(delay)
        args = self.kill_server("serve-upstream", "c2")
        self.check_store("c2", "serve --upstream killed")
        self.serve("c2", *args)
        self.await_upstream()
        return f"c2 after {delay:.3f} s"

    def ev_sync(self, rng, frac):
        name = rng.choice(("c1", "c1b"))
        self.import_lines("c1", FEED_LINES)
        if name == "c1b":
            self.sync("c1")
        delay = self.draw_delay("sync", frac)
        r = self.killed_run("sync", name, "sync", self.endpoint, "--once", "--timeout",
                            str(SYNC_TIMEOUT), delay=delay)
        self.check_store(name, "sync killed")
        if r.killed or r.code != 0:
            self.sync(name, "sync")
        return f"{name} after {delay:.3f} s"

    def ev_import(self, rng, frac):
        name = rng.choice(PRIMARIES)
        commune = MAIN[name]
        path, lines = self.take(commune, IMPORT_LINES)
        before = self.own_head(name, commune)
        had = set(self.record_ids(name, commune))
        delay = self.draw_delay("import", frac)
        r = self.killed_run("import", name, "--json", "import", path, "--batch",
                            str(IMPORT_BATCH), delay=delay)
        self.check_store(name, "import killed")
        # Whole batches or nothing: the feed grew by a multiple of the batch,
        # and the records are exactly those the committed lines created.
        grown = self.own_head(name, commune) - before
        check(0 <= grown <= len(lines) and (grown % IMPORT_BATCH == 0 or grown == len(lines)),
              f"import on {name} killed after {delay:.3f} s: the feed grew by {grown} changes "
              f"for {len(lines)} lines in batches of {IMPORT_BATCH}")
        want = had | {d.record_id for d in lines[:grown] if d.op == "create"}
        now = set(self.record_ids(name, commune))
        check(now == want, f"import on {name} killed after {grown} lines: records "
              f"{sorted(now - want)[:3]} extra, {sorted(want - now)[:3]} missing")
        if r.killed or r.code != 0:
            r = self.until_ok("import", name, "--json", "import", path, "--batch",
                              str(IMPORT_BATCH))
        self.check_import(name, r, len(lines))
        self.consumed(name, commune, lines)
        check(self.own_head(name, commune) == self.expected_feed[name],
              f"import on {name}: its feed holds {self.own_head(name, commune)} changes, "
              f"{self.expected_feed[name]} made")
        return f"{name} {len(lines)} lines after {delay:.3f} s ({grown} in before the retry)"

    def check_bundle_file(self, path, reader):
        """A bundle left at its name by a killed export is whole: its reader
        applies it."""
        if os.path.exists(path):
            self.tp(reader, "bundle", "import", path)
            os.unlink(path)
        self.count_strays(path)

    def strays(self, path):
        return [f for f in os.listdir(os.path.dirname(path))
                if f.startswith(os.path.basename(path) + ".tmp-")]

    def count_strays(self, path):
        """Temporaries a killed atomic write left beside its target: kept,
        for the next writer of the target to remove."""
        for f in self.strays(path):
            self.stray_files += 1
            if self.verbose:
                self.log(f"left by the kill: {f}")

    def no_strays(self, path):
        left = self.strays(path)
        check(not left, f"the next writer of {path} left the killed writers' temporaries: {left}")

    def ev_bundle_export(self, rng, frac):
        maker = rng.choice(("c3", HUB))
        if maker == "c3":
            self.import_lines("c3", FEED_LINES)
            reader, out = HUB, self.dir("stick/c3-hub.tpb")
        else:
            reader, out = "c3", self.dir("stick/hub-c3.tpb")
        if os.path.exists(out):
            os.unlink(out)
        delay = self.draw_delay("bundle-export", frac)
        args = ("bundle", "export", "--for", self.node_id(reader), "--out", out)
        r = self.killed_run("bundle-export", maker, *args, delay=delay)
        self.check_store(maker, "bundle export killed")
        self.check_bundle_file(out, reader)
        if r.killed or r.code != 0 or not os.path.exists(out):
            self.until_ok("bundle-export", maker, *args)
        self.no_strays(out)
        self.tp(reader, "bundle", "import", out)
        return f"{maker} after {delay:.3f} s"

    def ev_bundle_import(self, rng, frac):
        reader = rng.choice(("c3", HUB))
        if reader == HUB:
            self.import_lines("c3", FEED_LINES)
            maker, out = "c3", self.dir("stick/c3-hub.tpb")
        else:
            maker, out = HUB, self.dir("stick/hub-c3.tpb")
        self.tp(maker, "bundle", "export", "--for", self.node_id(reader), "--out", out)
        delay = self.draw_delay("bundle-import", frac)
        r = self.killed_run("bundle-import", reader, "bundle", "import", out, delay=delay)
        self.check_store(reader, "bundle import killed")
        if r.killed or r.code != 0:
            self.until_ok("bundle-import", reader, "bundle", "import", out)
        return f"{reader} after {delay:.3f} s"

    def ev_enroll_sign(self, rng, frac):
        name = self.prepare_pool()
        cert = self.dir(name + ".enrol")
        args = ("enroll", "sign", self.dir(name + ".req"), "--out", cert)
        delay = self.draw_delay("enroll-sign", frac)
        r = self.killed_run("enroll-sign", HUB, *args, delay=delay)
        self.check_store(HUB, "enroll sign killed")
        if r.killed or r.code != 0:
            self.until_ok("enroll-sign", HUB, *args)
        self.pool_signed.append(name)
        return f"{name} after {delay:.3f} s"

    def ev_enroll_accept(self, rng, frac):
        if not self.pool_signed:
            self.sign_pool(self.prepare_pool())
        name = self.pool_signed[0]
        args = ("enroll", "accept", self.dir(name + ".enrol"))
        delay = self.draw_delay("enroll-accept", frac)
        r = self.killed_run("enroll-accept", name, *args, delay=delay)
        self.check_store(name, "enroll accept killed")
        if r.killed or r.code != 0:
            self.until_ok("enroll-accept", name, *args)
        self.after_accept(name)
        return f"{name} after {delay:.3f} s"

    def ev_node_revoke(self, rng, frac):
        if not self.pool_enrolled:
            if not self.pool_signed:
                self.sign_pool(self.prepare_pool())
            name = self.pool_signed[0]
            self.tp(name, "enroll", "accept", self.dir(name + ".enrol"))
            self.after_accept(name)
        name = self.pool_enrolled.pop(0)
        args = ("revoke", self.node_id(name), "--reason", f"stress {name}")
        delay = self.draw_delay("node-revoke", frac)
        r = self.killed_run("node-revoke", HUB, *args, delay=delay)
        self.check_store(HUB, "revoke killed")
        if r.killed or r.code != 0:
            # Killed after its commit: the retry finds it done.
            self.until_ok("node-revoke", HUB, *args,
                          ok=lambda r: r.code == 4 and "already revoked" in r.err)
        self.pool_revoked.append(name)
        return f"{name} ({self.pool_commune[name]}) after {delay:.3f} s"

    def ev_record_revoke(self, rng, frac):
        name = rng.choice(PRIMARIES)
        commune = MAIN[name]
        rid = rng.choice(self.revocable(commune))
        before = self.own_head(name, commune)
        args = ("record", "revoke", rid, "--reason", f"stress {self.events}")
        delay = self.draw_delay("record-revoke", frac)
        r = self.killed_run("record-revoke", name, *args, delay=delay)
        self.check_store(name, "record revoke killed")
        grown = self.own_head(name, commune) - before
        check(grown in (0, 1), f"record revoke on {name}: the feed grew by {grown}")
        if r.killed or r.code != 0:
            self.until_ok("record-revoke", name, *args,
                          ok=lambda r: r.code == 4 and "already revoked" in r.err)
        self.revoked_records[(commune, rid)] = name
        self.expected_feed[name] += 1
        check(self.own_head(name, commune) == self.expected_feed[name],
              f"record revoke on {name}: its feed holds {self.own_head(name, commune)} changes, "
              f"{self.expected_feed[name]} made")
        return f"{rid} on {name} after {delay:.3f} s"

    def notes(self, name, rid):
        r = self.tp(name, "--json", "record", "show", rid)
        return json.loads(r.out)["fields"].get("data.notes")

    def ev_amend(self, rng, frac):
        name = rng.choice(PRIMARIES + ("c1b",))
        commune = MAIN["c1"] if name == "c1b" else MAIN[name]
        held = set(self.record_ids(name, commune))
        rid = rng.choice([x for x in self.settled(commune) if x in held])
        value = f"stress amend {self.events}"
        before = self.own_head(name, commune)
        args = ("record", "amend", rid, "--field", f"data.notes={value}", "--reason", "stress")
        delay = self.draw_delay("amend", frac)
        r = self.killed_run("amend", name, *args, delay=delay)
        self.check_store(name, "record amend killed")
        grown = self.own_head(name, commune) - before
        check(grown in (0, 1), f"record amend on {name}: the feed grew by {grown}")
        check(grown == 1 or r.code != 0, f"amend on {name} exited 0 and wrote no change")
        # Killed before its commit: an officer who looks sees it undone and
        # types it again; killed after, it is done (not amended twice).
        if grown == 0:
            check(self.notes(name, rid) != value, f"amend on {name}: value there, no change")
            self.until_ok("amend", name, *args)
        self.amended[(commune, rid)].add(value)
        self.expected_feed[name] += 1
        check(self.notes(name, rid) == value, f"amend of {rid} on {name}: notes not written")
        check(self.own_head(name, commune) == self.expected_feed[name],
              f"amend on {name}: its feed holds {self.own_head(name, commune)} changes, "
              f"{self.expected_feed[name]} made")
        return f"{rid} on {name} after {delay:.3f} s"

    def ev_index_rebuild(self, rng, frac):
        name = rng.choice(PRIMARIES + ("c1b",))
        delay = self.draw_delay("index-rebuild", frac)
        r = self.killed_run("index-rebuild", name, "index", "rebuild", delay=delay)
        self.check_store(name, "index rebuild killed")
        self.tp(name, "index", "check")
        if r.killed or r.code != 0:
            self.until_ok("index-rebuild", name, "index", "rebuild")
        return f"{name} after {delay:.3f} s"

    def ev_snapshot(self, rng, frac):
        name = rng.choice((HUB, "c1", "c2"))
        out = self.dir(f"stick/{name}-snapshot.db")
        delay = self.draw_delay("snapshot", frac)
        r = self.killed_run("snapshot", name, "snapshot", "--out", out, delay=delay)
        self.check_store(name, "snapshot killed")
        if os.path.exists(out):  # whole, or not there
            db = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
            try:
                rows = db.execute("PRAGMA integrity_check").fetchall()
                n = db.execute("SELECT count(*) FROM records").fetchone()[0]
            finally:
                db.close()
            check([x[0] for x in rows] == ["ok"] and n > 0,
                  f"snapshot of {name} left by a kill: integrity {rows[:3]}, {n} records")
            os.unlink(out)
        self.count_strays(out)
        if r.killed or r.code != 0:
            self.until_ok("snapshot", name, "snapshot", "--out", out)
            self.no_strays(out)
            os.unlink(out)
        return f"{name} after {delay:.3f} s"

    # -- the run ------------------------------------------------------------
    def schedule(self):
        """Kinds in shuffled rounds (each kind once a round), a kill fraction
        and a seed for the event's own choices, all from the one seed."""
        while True:
            kinds = list(KINDS)
            self.sched.shuffle(kinds)
            for k in kinds:
                yield k, self.sched.random(), self.sched.getrandbits(32)

    def main_loop(self):
        """One kill per scheduled event: a command that ended before its
        kill moment is done again (a new one) at a new moment."""
        total = lambda: sum(self.kills.values())
        last_report = 0
        for kind, frac, sub in self.schedule():
            if total() >= self.kills_wanted:
                break
            rng = random.Random(sub)
            for attempt in range(20):
                self.events += 1
                before = total()
                what = getattr(self, "ev_" + kind.replace("-", "_"))(rng, frac)
                if self.verbose:
                    self.log(f"#{self.events} {kind}: {what}" +
                             ("" if total() > before else " (ended before its kill moment)"))
                if total() > before:
                    break
                frac = rng.random()
            if total() - last_report >= 50:
                last_report = total()
                self.log(f"{total()} kills, {sum(self.misses.values())} ended before their "
                         f"kill moment, {sum(self.retries.values())} retries")

    def converge(self):
        """Everything synced: c1 and c1b twice (each carries the other's
        amendments through the hub), c3 by bundles both ways, c2 live."""
        for _ in range(2):
            self.bundle_c3_to_hub()
            for name in ("c1", "c1b"):
                self.sync(name)
            self.bundle_hub_to_c3()
        self.await_upstream()

    def final_checks(self):
        nodes = [HUB, "c1", "c1b", "c2", "c3"]
        hub_status = None
        for name in nodes:
            st = self.check_store(name, "the run")
            check(st.get("held") == 0, f"{name}: {st.get('held')} changes held at the end")
            q = st.get("refusals", {}).get("E_QUARANTINED")
            check(not q, f"{name}: E_QUARANTINED {q}")
            self.tp(name, "index", "check")
            # Nothing stored and left unapplied (a feed stopped, say, for
            # want of a key the node holds).
            lag = self.query(name, "SELECT scope, head_seq, applied_seq, blocked FROM feeds "
                             "WHERE applied_seq < head_seq OR blocked IS NOT NULL")
            check(not lag, f"{name}: feeds stored but not applied (scope, head, applied, why): "
                  f"{lag[:3]}")
            if name == HUB:
                hub_status = st
        check(hub_status.get("revocations") == len(self.pool_revoked),
              f"the hub shows {hub_status.get('revocations')} revocations, "
              f"{len(self.pool_revoked)} made")
        # Digests per scope.
        holders = {MAIN["c1"]: ["c1", "c1b"], MAIN["c2"]: ["c2"], MAIN["c3"]: ["c3"]}
        for name in self.pool_primary:
            if name not in self.pool_signed:
                holders.setdefault(self.pool_commune[name], []).append(name)
        for scope, names in holders.items():
            at_hub = self.digest(HUB, scope)
            for n in names:
                d = self.digest(n, scope)
                check(d == at_hub, f"scope {scope}: digest at {n} {d} != at the hub {at_hub}")
        # Every imported line's record once, every change once in its feed.
        records = 0
        for scope, names in holders.items():
            want = self.created[scope]
            for n in [HUB] + names:
                rows = self.query(n, "SELECT record_id, count(*) FROM records WHERE scope = ? "
                                  "GROUP BY record_id", (scope,))
                got = {r: c for r, c in rows}  # one row per id (UNIQUE): a line
                # applied twice shows in the feed counts checked below
                check(set(got) == want, f"{n}, scope {scope}: {len(set(got) - want)} records "
                      f"never imported ({sorted(set(got) - want)[:3]}), "
                      f"{len(want - set(got))} missing ({sorted(want - set(got))[:3]})")
            records += len(want)
        authors = [n for n in ("c1", "c1b", "c2", "c3")] + sorted(
            n for n in self.pool_primary if n not in self.pool_signed)
        for a in authors:
            scope = MAIN.get(a, MAIN["c1"] if a == "c1b" else self.pool_commune.get(a))
            own = self.own_head(a, scope)
            check(own == self.expected_feed[a],
                  f"{a}: its feed holds {own} changes, {self.expected_feed[a]} made")
            for n in [HUB] + holders[scope]:
                h = self.head_of(n, a, scope)
                check(h == own, f"{n} holds {h} changes of {a}'s feed, {a} made {own}")
        # Every revocation of a record applied on every holder.
        for (scope, rid) in self.revoked_records:
            for n in [HUB] + holders[scope]:
                rows = self.query(n, "SELECT revoked FROM records WHERE scope = ? AND "
                                  "record_id = ?", (scope, rid))
                check(rows == [(1,)], f"{n}: record {rid} revoked by "
                      f"{self.revoked_records[(scope, rid)]} shows {rows}")
        for (scope, rid), values in self.amended.items():
            if (scope, rid) in self.revoked_records:
                continue
            v = self.notes(HUB, rid)
            check(v in values, f"{rid}: notes {v!r}, not one of the amendments {sorted(values)}")
        return records, len(holders), len(self.revoked_records)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tuphap", help="the tuphap binary")
    ap.add_argument("--kills", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--verbose", action="store_true", help="one line per kill")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1, 2**31)
    root = tempfile.mkdtemp(prefix="tuphap-stress-")
    print(f"stress: seed {seed} (replay: --seed {seed}), {a.kills} kills, in {root}", flush=True)
    s = Stress(a.tuphap, root, seed, a.kills, a.verbose)
    failure = None
    try:
        s.setup()
        s.main_loop()
        s.converge()
        records, scopes, revoked = s.final_checks()
    except Failure as e:
        failure = str(e)
    except Exception as e:  # a broken harness is a failure too, said plainly
        failure = f"{type(e).__name__}: {e}"
    finally:
        s.stop_servers()
    seconds = time.monotonic() - s.t0
    kills = sum(s.kills.values())
    per = ", ".join(f"{k} {s.kills[k]}" for k in KINDS)
    tail_text = (f"{sum(s.retries.values())} re-runs after kills "
                 f"({sum(s.failed_retries.values())} failed and were run again), "
                 f"{sum(s.misses.values())} commands ended before their kill moment, "
                 f"{s.stray_files} temporaries left by kills (each removed by the next writer), seed {seed}, {seconds:.0f} s")
    if failure:
        print(f"FAIL: {failure}")
        print(f"replay: {sys.argv[0]} {a.tuphap} --kills {a.kills} --seed {seed} --keep"
              f" (scratch kept in {root})")
        print(f"stress: {kills} kills ({per}), 1 failure, {tail_text}")
        return 1
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)
    print(f"stress: {kills} kills ({per}), 0 failures, digests equal ({scopes} scopes), "
          f"{records} records exactly once, {revoked} record revocations and "
          f"{len(s.pool_revoked)} node revocations applied, {tail_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
