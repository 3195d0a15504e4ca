"""Logs and metrics show a sync (issue 16, items 4 and 5), with the real
binary, real processes, real sockets and a real HTTP GET.

A hub serves with --metrics and --ui; a commune syncs 60 records to it.
Both /metrics endpoints answer text that a strict parser of the Prometheus
exposition format (0.0.4) accepts, and they show the sync: a listener
session that caught up, the envelopes applied, the apply and commit
histograms' counts, and the commune's lag. Every metric emitted is
documented in docs/metrics.md. The session's log line appears on both sides
with its fields, with sd-daemon priorities and no time under the journal,
and --log-level error silences it; with --json the JSON alone says how the
sync went (no log line unless asked). A non-loopback --metrics is refused,
and the web app's /metrics answers another computer only with
--metrics-expose, even when the web app itself is exposed (--ui-expose).

usage: metrics_test.py TUPHAP NET_DIR DOCS_DIR   (NET_DIR: tests/net, for badlink.py)
"""
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, sys.argv[2])
import badlink  # noqa: E402  (the shared node harness)
from badlink import check  # noqa: E402

TUPHAP = os.path.abspath(sys.argv[1])
DOCS = sys.argv[3]
COMMUNE = "22333"
RECORDS = 60

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r"^(" + NAME + r")(\{(.*)\})? (\S+)( -?\d+)?$")
VALUE = re.compile(r"^(NaN|[+-]Inf|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_labels(text, line):
    labels, rest = {}, text
    while rest:
        m = re.match(LABEL + r"(,|$)", rest)
        check(m is not None, f"bad labels in {line!r}")
        check(m.group(1) not in labels, f"label {m.group(1)} twice in {line!r}")
        labels[m.group(1)] = m.group(2)
        rest = rest[m.end():]
    return labels


def parse_exposition(text):
    """Strictly parses the text format: {family: {"type", "help", "samples":
    [(name, labels, value)]}}; a Failure names the first offence."""
    check(text.endswith("\n"), "the exposition does not end with a newline")
    families, current, seen = {}, None, set()
    for line in text.split("\n")[:-1]:
        check(line.strip() != "" or line == "", f"a blank line of spaces: {line!r}")
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                check(re.fullmatch(NAME, parts[2]) is not None, f"bad metric name: {line!r}")
                fam = families.setdefault(parts[2], {"type": None, "help": None, "samples": []})
                key = parts[1].lower()
                check(fam[key] is None, f"{parts[1]} twice for {parts[2]}")
                check(not fam["samples"], f"{parts[1]} of {parts[2]} after its samples")
                value = parts[3] if len(parts) == 4 else ""
                if key == "type":
                    check(value in TYPES, f"unknown type: {line!r}")
                fam[key] = value
                current = parts[2]
            continue
        m = SAMPLE.match(line)
        check(m is not None, f"not a sample line: {line!r}")
        name, labels = m.group(1), parse_labels(m.group(3) or "", line)
        check(VALUE.match(m.group(4)) is not None, f"bad value in {line!r}")
        fam_name = current
        check(fam_name is not None, f"a sample before any TYPE: {line!r}")
        ftype = families[fam_name]["type"]
        allowed = {fam_name}
        if ftype == "histogram":
            allowed = {fam_name + "_bucket", fam_name + "_sum", fam_name + "_count"}
        check(name in allowed, f"sample {name} inside family {fam_name} ({ftype})")
        series = (name, tuple(sorted(labels.items())))
        check(series not in seen, f"series twice: {line!r}")
        seen.add(series)
        families[fam_name]["samples"].append((name, labels, float(m.group(4))))
    for name, fam in families.items():
        check(fam["type"] is not None and fam["help"], f"{name} lacks TYPE or HELP")
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    buckets = [(s[1], s[2]) for s in samples if s[0] == name + "_bucket"]
    check(buckets, f"histogram {name} has no buckets")
    les = [float(l["le"]) for l, _ in buckets]
    check(les == sorted(les) and les[-1] == float("inf"), f"{name}: buckets out of order: {les}")
    counts = [v for _, v in buckets]
    check(counts == sorted(counts), f"{name}: buckets not cumulative: {counts}")
    total = [s[2] for s in samples if s[0] == name + "_count"]
    check(total == [counts[-1]], f"{name}: _count {total} is not the +Inf bucket {counts[-1]}")
    check(any(s[0] == name + "_sum" for s in samples), f"{name} has no _sum")


def value(families, name, sample=None, **labels):
    fam = families.get(name)
    check(fam is not None, f"no metric {name}")
    for s_name, s_labels, v in fam["samples"]:
        if s_name == (sample or name) and all(s_labels.get(k) == x for k, x in labels.items()):
            return v
    return None


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        check(r.status == 200, f"/metrics answered {r.status}")
        check(r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              f"/metrics content type {r.headers.get('Content-Type')}")
        return parse_exposition(r.read().decode("utf-8"))


def non_loopback_address():
    """An IPv4 address of this computer that is not loopback: a client
    connecting from it is "another computer" to a server."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "scope", "global"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"\sinet (\d+\.\d+\.\d+\.\d+)/", out)
    check(m is not None, f"this computer has no non-loopback IPv4 address to test from: {out!r}")
    return m.group(1)


def get_from(address, port, host):
    """(status, body) of GET /metrics sent to ADDRESS:PORT (so from ADDRESS:
    the kernel picks the destination's own address as the source)."""
    c = http.client.HTTPConnection(address, port, timeout=10, source_address=(address, 0))
    try:
        c.request("GET", "/metrics", headers={"Host": host})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8")
    finally:
        c.close()


def exposed_web_app_metrics(nodes):
    """An exposed web app (--ui 0.0.0.0:PORT --ui-expose) answers /metrics to
    this computer; to another one only with --metrics-expose."""
    other = non_loopback_address()
    for name, expose in (("closed", False), ("open", True)):
        nodes.init_hub(name)
        uport = badlink.free_port()
        nodes.serve(name, "--listen", f"tcp://127.0.0.1:{badlink.free_port()}", "--ui",
                    f"0.0.0.0:{uport}", "--ui-expose", *(["--metrics-expose"] if expose else []))
        host = f"0.0.0.0:{uport}"  # the one name a server bound to 0.0.0.0 answers to
        status, body = get_from("127.0.0.1", uport, host)
        check(status == 200 and "tuphap_" in body, f"{name}: /metrics from loopback: {status}")
        status, body = get_from(other, uport, host)
        if expose:
            check(status == 200 and "tuphap_" in body,
                  f"--metrics-expose: /metrics from {other} got {status}")
        else:
            check(status == 403 and "tuphap_" not in body,
                  f"an exposed web app answered /metrics to {other}: {status}")


def session_line(text, side):
    """The fields of the first 'sync session ended' line of SIDE in TEXT."""
    for line in text.splitlines():
        if "sync session ended:" in line and f"side={side}" in line:
            return line, dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line.split("ended:", 1)[1]))
    return None, None


def scenario(nodes):
    nodes.init_hub()
    nodes.init_commune("c", COMMUNE)
    nodes.enrol("c")
    lines = nodes.run("generate", "--records", str(RECORDS + 10), "--commune", COMMUNE, "--seed",
                      "5").stdout.splitlines(keepends=True)
    first, later, last = (nodes.dir(n + ".jsonl") for n in ("first", "later", "last"))
    with open(first, "w", encoding="utf-8") as f:
        f.writelines(lines[:RECORDS])
    with open(later, "w", encoding="utf-8") as f:
        f.writelines(lines[RECORDS:RECORDS + 5])
    with open(last, "w", encoding="utf-8") as f:
        f.writelines(lines[RECORDS + 5:])
    nodes.tp("c", "import", first)
    commune_id = nodes.node_id("c")

    # A non-loopback address is refused without --metrics-expose.
    r = nodes.tp("hub", "serve", "--listen", f"tcp://127.0.0.1:{badlink.free_port()}",
                 "--metrics", f"0.0.0.0:{badlink.free_port()}", check=False, timeout=60)
    check(r.returncode == 2 and "--metrics-expose" in r.stderr,
          f"serve --metrics 0.0.0.0:... exited {r.returncode}: {r.stderr.strip()}")

    ep = f"tcp://127.0.0.1:{badlink.free_port()}"
    mport, uport = badlink.free_port(), badlink.free_port()
    nodes.serve("hub", "--listen", ep, "--metrics", f"127.0.0.1:{mport}", "--ui",
                f"127.0.0.1:{uport}")
    before = scrape(mport)
    # (a family with no series yet is not emitted at all)
    check("tuphap_sync_sessions_total" not in before
          and value(before, "tuphap_sync_sessions_open") == 0, "a session counted before any sync")

    # The commune syncs; its own log (stderr) has the dialer's line.
    s = nodes.tp("c", "sync", ep, "--once", timeout=120)
    line, f = session_line(s.stderr, "dialer")
    check(line is not None, f"no session line on the commune's stderr: {s.stderr!r}")
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d info ", line),
          f"the line lacks its time and level: {line!r}")
    check(f["outcome"] == "caught_up" and f["commune"] == COMMUNE and int(f["sent"]) >= RECORDS
          and int(f["bytes_out"]) > 0 and int(f["bytes_in"]) > 0 and "duration_ms" in f
          and f["refused_reasons"] == "-", f"dialer line: {line!r}")

    # The hub's scrape shows it (the store's part is read a second after the
    # session ends: wait for the commune's lag to appear).
    deadline = time.monotonic() + 60
    while True:
        m = scrape(mport)
        age = done = None
        if "tuphap_commune_last_sync_age_seconds" in m and "tuphap_sync_sessions_total" in m:
            age = value(m, "tuphap_commune_last_sync_age_seconds", commune=COMMUNE)
            done = value(m, "tuphap_sync_sessions_total", side="listener", outcome="caught_up")
        if age is not None and done:
            break
        check(time.monotonic() < deadline, "the hub's metrics never showed the commune's sync")
        time.sleep(0.2)
    check(done == 1, f"listener sessions caught up: {done}")
    check(value(m, "tuphap_sync_sessions_open") == 0, "a session still counted open")
    check(value(m, "tuphap_envelopes_applied_total") >= RECORDS,
          f"envelopes applied: {value(m, 'tuphap_envelopes_applied_total')}")
    batches = value(m, "tuphap_batches_applied_total")
    check(batches >= 1, f"batches applied: {batches}")
    # One observation per batch, and one more per stop of a batch in parts.
    check(value(m, "tuphap_apply_duration_seconds", "tuphap_apply_duration_seconds_count") ==
          batches + value(m, "tuphap_batch_yields_total"),
          "the apply histogram does not count every batch and every part")
    check(value(m, "tuphap_commit_duration_seconds", "tuphap_commit_duration_seconds_count") >=
          batches, "the commit histogram counts fewer commits than batches")
    check(0 <= age < 60, f"the commune's lag: {age} s")
    check(value(m, "tuphap_commune_envelopes_behind", commune=COMMUNE) == 0,
          "the hub is behind the commune after the sync")
    check(value(m, "tuphap_store_size_bytes") > 0, "no store size")
    # A serving hub counts its WAL checkpoints, each kind from the start
    # (none yet: this sync's log stays far under the 4,096-page threshold),
    # and shows the frames its commits left in the log.
    ckpt = {k: value(m, "tuphap_wal_checkpoints_total", kind=k)
            for k in ("background", "whole", "inline", "failed")}
    check(ckpt == {"background": 0, "whole": 0, "inline": 0, "failed": 0},
          f"the hub's checkpoint counts: {ckpt}")
    frames = value(m, "tuphap_wal_frames")
    check(frames is not None and 0 < frames < 4096, f"frames in the hub's WAL: {frames}")
    check(value(m, "tuphap_held_envelopes") == 0 and value(m, "tuphap_equivocations") == 0,
          "held envelopes or equivocations after a clean sync")

    # A page of another site resolved to this address (DNS rebinding) is
    # refused by both servers.
    for port in (mport, uport):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                     headers={"Host": "evil.example"})
        try:
            urllib.request.urlopen(req, timeout=10)
            check(False, f"port {port} answered /metrics to Host: evil.example")
        except urllib.error.HTTPError as e:
            check(e.code == 421, f"port {port}: Host evil.example got {e.code}")

    # The web app's server answers /metrics too, in the same format.
    u = scrape(uport)
    check(set(u) == set(m), f"the web app's /metrics differs: {sorted(set(u) ^ set(m))}")

    # The hub's log has the listener's line.
    with open(nodes.dir("hub.log"), encoding="utf-8") as log:
        line, f = session_line(log.read(), "listener")
    check(line is not None, "no listener session line in the hub's log")
    check(f["peer"] == commune_id and f["commune"] == COMMUNE and f["outcome"] == "caught_up"
          and int(f["received"]) >= RECORDS, f"listener line: {line!r}")

    # Under the journal: sd-daemon priorities, no time (the journal adds it).
    with open(nodes.dir("journal.err"), "w+b") as err:
        st = os.fstat(err.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        subprocess.run([TUPHAP, "--data", nodes.dir("c"), "sync", ep, "--once"], env=env,
                       stdout=subprocess.DEVNULL, stderr=err, check=True, timeout=120)
        err.seek(0)
        text = err.read().decode("utf-8")
    check(re.search(r"^<6>sync session ended: side=dialer ", text, re.M) is not None,
          f"no <6> session line under the journal: {text!r}")

    # --log-level error: the result for people, no log line.
    s = nodes.tp("c", "--log-level", "error", "sync", ep, "--once", timeout=120)
    check("caught up" in s.stdout, f"sync printed no result: {s.stdout!r}")
    check(s.stderr == "", f"--log-level error still logs: {s.stderr!r}")
    # --json: the JSON says how the sync went; stderr is for trouble only...
    s = nodes.tp("c", "--json", "sync", ep, "--once", timeout=120)
    check(json.loads(s.stdout)["sessions"] >= 1, f"sync --json: {s.stdout!r}")
    check(s.stderr == "", f"sync --json logs its result again on stderr: {s.stderr!r}")
    # ...unless a level is asked for.
    s = nodes.tp("c", "--json", "--log-level", "info", "sync", ep, "--once", timeout=120)
    check(session_line(s.stderr, "dialer")[0] is not None,
          f"sync --json --log-level info has no session line: {s.stderr!r}")
    # A command for people logs nothing by default.
    s = nodes.tp("c", "status")
    check(s.stderr == "", f"status logs: {s.stderr!r}")

    # A copy of the commune's folder writes other changes at the same places
    # in its feed (a laptop copied and used twice; the same lines make other
    # changes, stamped at other times): the hub warns of the equivocation,
    # and the metrics count it once read from the store.
    badlink.copy_node(nodes.dir("c"), nodes.dir("copy"))
    nodes.tp("c", "import", later)
    nodes.tp("copy", "import", later)
    nodes.tp("c", "sync", ep, "--once", timeout=120)
    nodes.tp("copy", "sync", ep, "--once", check=False, timeout=120)
    # What the forked origin sends next is refused (E_QUARANTINED): the
    # first copy, which has not heard of the fork yet, writes again.
    nodes.tp("c", "import", last)
    nodes.tp("c", "sync", ep, "--once", check=False, timeout=120)
    deadline = time.monotonic() + 60
    while True:
        m = scrape(mport)
        if (value(m, "tuphap_equivocations") == 1 and "tuphap_refusals_total" in m
                and value(m, "tuphap_refusals_total", reason="E_QUARANTINED")):
            break
        check(time.monotonic() < deadline,
              "the metrics never counted the equivocation and the refusals after it")
        time.sleep(0.2)
    check(value(m, "tuphap_quarantined_origins") == 1, "the forked origin is not quarantined")
    with open(nodes.dir("hub.log"), encoding="utf-8") as log:
        text = log.read()
    check(re.search(r" warning equivocation: \d+ envelope", text) is not None,
          f"no equivocation warning in the hub's log: {text[-2000:]!r}")
    check(re.search(r"sync session ended: side=listener .* equivocations=[1-9]", text) is not None,
          f"no session line with its equivocations in the hub's log: {text[-2000:]!r}")

    # Every metric emitted is in docs/metrics.md's table, and every one there
    # is emitted by now (refusals: the copy's envelopes after the fork).
    with open(os.path.join(DOCS, "metrics.md"), encoding="utf-8") as doc:
        documented = set(re.findall(r"^\| `(tuphap_[a-z_]+)` \|", doc.read(), re.M))
    check(set(m) <= documented, f"metrics not in docs/metrics.md: {sorted(set(m) - documented)}")
    check(documented <= set(m), f"documented, never emitted: {sorted(documented - set(m))}")
    exposed_web_app_metrics(nodes)
    print("ok")


if __name__ == "__main__":
    sys.exit(badlink.run_scenario(TUPHAP, sys.argv[2], "tuphap-metrics-", scenario))
