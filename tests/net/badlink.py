"""Shared by the bad-link test (tests/net/bad_link_test.py) and benchmark
(tests/bench/bad_link_bench.py): tuphap nodes in a scratch directory, driven
through the real binary, a hub serving on loopback, the cutting proxy
(tests/net/cut_proxy.py) in front of it, and `sync --once` run again until it
exits 0. Python 3 standard library only; 127.0.0.1 only."""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TUPHAP_PASSPHRASE", "test-passphrase")
os.environ.setdefault("TUPHAP_KDF", "weak")

STORE_FILE = "tuphap.db"  # node/node_info.cc StorePath


def _die_with_parent():
    """In a child before exec: SIGTERM when the process that started it dies
    (a test killed at its timeout leaves no proxy or sync running)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def on_sigterm_exit():
    """SIGTERM ends the caller with SystemExit, so its finally blocks clean up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


class Failure(Exception):
    """Something the harness needed did not happen (a command failed)."""


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else default


def env_str(name, default):
    v = os.environ.get(name)
    return v if v not in (None, "") else default


def parse_cut(text):
    """'MIN:MAX' or 'none' -> text for the proxy (validated)."""
    if text == "none":
        return text
    lo, sep, hi = text.partition(":")
    if not sep or not lo.isdigit() or not hi.isdigit() or not 0 < int(lo) <= int(hi):
        raise ValueError(f"cut range {text!r}: want MIN:MAX bytes or none")
    return text


def cut_label(text):
    if text == "none":
        return "none"
    lo, hi = (int(x) for x in text.split(":"))

    def size(n):
        for unit, k in (("MB", 1000000), ("KB", 1000)):
            if n % k == 0:
                return str(n // k), unit
        return str(n), "B"

    (a, ua), (b, ub) = size(lo), size(hi)
    return f"{a}-{b}{ub}" if ua == ub else f"{a}{ua}-{b}{ub}"  # 20-300KB, 100KB-1MB


def tail(text, lines=4):
    return " | ".join(text.strip().splitlines()[-lines:])


class SyncRun:
    def __init__(self):
        self.ok = False
        self.attempts = 0
        self.seconds = 0.0
        self.result = None  # the JSON the successful attempt printed
        self.last_error = ""
        self.exit_codes = []


class Nodes:
    """Data directories under one scratch root, and the processes started."""

    def __init__(self, tuphap, proxy_script, root, log=print):
        self.tuphap = os.path.abspath(tuphap)
        self.proxy_script = os.path.abspath(proxy_script)
        self.root = root
        self.log = log
        self.procs = []  # (Popen, name), stopped by close()

    # -- commands ---------------------------------------------------------
    def dir(self, name):
        return os.path.join(self.root, name)

    def run(self, *args, check=True, timeout=600):
        r = subprocess.run([self.tuphap, *args], capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise Failure(f"tuphap {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def tp(self, name, *args, **kw):
        return self.run("--data", self.dir(name), *args, **kw)

    def init_hub(self, name="hub", province="56"):
        self.tp(name, "init", "--role", "hub", "--province", province)

    def init_commune(self, name, commune, secondary=False):
        extra = ["--secondary"] if secondary else []
        self.tp(name, "init", "--role", "commune", "--commune", commune, *extra)

    def enrol(self, name, hub="hub"):
        req, cert = self.dir(name + ".req"), self.dir(name + ".enrol")
        self.tp(name, "enroll", "request", "--out", req)
        self.tp(hub, "enroll", "sign", req, "--out", cert)
        self.tp(name, "enroll", "accept", cert)

    def records(self, name, commune, n, seed):
        f = self.dir(name + ".jsonl")
        self.run("generate", "--records", str(n), "--commune", commune, "--seed", str(seed),
                 "--out", f)
        r = self.tp(name, "import", f)
        return r.stdout.strip()

    def node_id(self, name):
        return json.loads(self.tp(name, "--json", "status").stdout)["node_id"]

    def digest(self, name, scope):
        """{"scope", "records", "digest"} of one scope (`--json digest --scope`
        prints a list of one such object, records 0 for a scope not held)."""
        out = json.loads(self.tp(name, "--json", "digest", "--scope", scope).stdout)
        if not isinstance(out, list):
            raise Failure(f"digest at {name}: not a list: {out!r}")
        for d in out:
            if d.get("scope") == scope:
                return d
        return {"scope": scope, "records": 0, "digest": None}

    # -- the store --------------------------------------------------------
    def query(self, name, sql, params=()):
        path = os.path.join(self.dir(name), STORE_FILE)
        if not os.path.exists(path):
            raise Failure(f"no store at {path}")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def scalar(self, name, sql, params=()):
        return self.query(name, sql, params)[0][0]

    def integrity(self, name):
        rows = self.query(name, "PRAGMA integrity_check")
        return "; ".join(r[0] for r in rows)

    def changes_rows(self, name, scope):
        return self.scalar(name, "SELECT count(*) FROM changes WHERE scope = ?", (scope,))

    def changes_bytes(self, name, scope):
        return self.scalar(name, "SELECT coalesce(sum(length(envelope)), 0) FROM changes "
                                 "WHERE scope = ?", (scope,))

    def duplicate_positions(self, name):
        """Rows of `changes` beyond one per (origin, scope, seq)."""
        total = self.scalar(name, "SELECT count(*) FROM changes")
        distinct = self.scalar(name, "SELECT count(*) FROM "
                                     "(SELECT DISTINCT origin, scope, seq FROM changes)")
        return total, distinct

    # -- processes --------------------------------------------------------
    def _spawn(self, argv, name, stdout, stderr):
        p = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                             preexec_fn=_die_with_parent)
        self.procs.append((p, name))
        return p

    def serve(self, name, *args, ready_s=30):
        """`tuphap --data NAME serve ARGS`, its output in NAME.log; returns
        once the log says "listening on" (or the banner, for a dialler)."""
        log_path = self.dir(name + ".log")
        logf = open(log_path, "ab")
        try:
            p = self._spawn([self.tuphap, "--data", self.dir(name), "serve", "--exit-with-parent", *args],
                            f"serve {name}", logf, subprocess.STDOUT)
        finally:
            logf.close()
        want = "listening on" if "--listen" in args else "dialling"
        end = time.monotonic() + ready_s
        while time.monotonic() < end:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                if want in f.read():
                    return p
            if p.poll() is not None:
                break
            time.sleep(0.05)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        raise Failure(f"serve {name} did not start (exit {p.poll()}): {tail(text)}")

    def proxy(self, target_port, cut, seed, stats_path):
        """Starts cut_proxy.py in front of 127.0.0.1:TARGET_PORT; returns
        (Popen, port)."""
        p = self._spawn([sys.executable, self.proxy_script, "--listen", "0", "--target",
                         f"127.0.0.1:{target_port}", "--cut", cut, "--seed", str(seed),
                         "--stats", stats_path],
                        f"proxy {cut}", subprocess.PIPE, None)
        line = p.stdout.readline().decode().strip()  # "listening PORT"
        if not line.startswith("listening "):
            p.kill()
            raise Failure(f"the proxy did not start: {line!r} (exit {p.wait()})")
        return p, int(line.split()[1])

    def stop(self, p, timeout=20):
        """SIGTERM, then SIGKILL after TIMEOUT; returns the exit status."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = [(q, n) for q, n in self.procs if q is not p]
        if p.stdout is not None:
            p.stdout.close()
        return p.returncode

    def close(self):
        for p, _ in list(self.procs):
            self.stop(p, timeout=10)

    # -- syncing through a bad link ---------------------------------------
    def sync_until_done(self, name, endpoint, deadline, max_attempts, peer=None, timeout_s=60,
                        label="sync", pause_s=0.5, quiet=False):
        """Runs `tuphap --data NAME --json sync ENDPOINT --once --timeout
        TIMEOUT_S [--peer PEER]` again until it exits 0, at most MAX_ATTEMPTS
        times and until DEADLINE (time.monotonic()); prints each attempt."""
        run = SyncRun()
        start = time.monotonic()
        argv = ["--data", self.dir(name), "--json", "sync", endpoint, "--once", "--timeout",
                str(timeout_s)]
        if peer:
            argv += ["--peer", peer]
        while run.attempts < max_attempts:
            left = deadline - time.monotonic()
            if left <= 1:
                run.last_error += "; then the time bound was reached"
                break
            run.attempts += 1
            t0 = time.monotonic()
            try:
                r = subprocess.run([self.tuphap, *argv], capture_output=True, text=True,
                                   timeout=left, preexec_fn=_die_with_parent)
                code, out, err = r.returncode, r.stdout, r.stderr
            except subprocess.TimeoutExpired as e:
                code = "killed"
                out = (e.stdout or b"").decode(errors="replace") if isinstance(
                    e.stdout, bytes) else (e.stdout or "")
                err = (e.stderr or b"").decode(errors="replace") if isinstance(
                    e.stderr, bytes) else (e.stderr or "")
            run.exit_codes.append(code)
            if not quiet:
                how = "killed at the time bound" if code == "killed" else f"exit {code}"
                self.log(f"  {label} attempt {run.attempts}: {how} after "
                         f"{time.monotonic() - t0:.1f} s" +
                         (f"; stderr: {tail(err, 3)}" if err.strip() else ""))
            if code == 0:
                run.ok = True
                try:
                    run.result = json.loads(out.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    run.result = None
                break
            run.last_error = (f"attempt killed at the time bound after "
                              f"{time.monotonic() - t0:.1f} s" if code == "killed" else
                              f"exit {code}") + (f": {tail(err, 3)}" if err.strip() else "")
            time.sleep(pause_s)
        run.seconds = time.monotonic() - start
        return run


def check(cond, what):
    """Raises Failure(what) unless cond holds."""
    if not cond:
        raise Failure(what)


def run_scenario(tuphap, net_dir, prefix, body):
    """Runs body(nodes) over nodes in a fresh scratch directory: prints
    "FAIL: ..." and returns 1 on a Failure, else 0; the processes stop and
    the directory goes (kept when $TUPHAP_KEEP is set)."""
    root = tempfile.mkdtemp(prefix=prefix)
    nodes = Nodes(tuphap, os.path.join(net_dir, "cut_proxy.py"), root)
    try:
        body(nodes)
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        nodes.close()
        if os.environ.get("TUPHAP_KEEP") is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def free_port():
    """A port free on 127.0.0.1 now (the kernel's choice)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def read_stats(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def copy_node(src, dst):
    """A copy of a data directory no process has open."""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
