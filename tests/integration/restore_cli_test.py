"""Backup, safe restore and delivery receipts (issue 16, items 6 and 7)
with the real binary, real processes and a hub serving on loopback.

A commune backs up, writes 50 more records and syncs; the old backup is
restored elsewhere and refuses to write (E_RESTORED) until a sync brought
its own feed back, then writes; the hub shows no equivocation and holds
every record (51 more than at the backup). The commune keeps the hub's
signed receipts; the hub, restored from an older backup of itself, is
flagged as a rollback (E_HUB_ROLLBACK) and gets again what it lacked.

usage: restore_cli_test.py TUPHAP NET_DIR   (NET_DIR: tests/net, for badlink.py)
"""
import json
import re
import subprocess
import os
import sys

sys.path.insert(0, sys.argv[2])
import badlink  # noqa: E402  (the shared node harness)
from badlink import check  # noqa: E402

TUPHAP = os.path.abspath(sys.argv[1])
COMMUNE = "22333"


def status(nodes, name):
    return json.loads(nodes.tp(name, "--json", "status").stdout)


def english(nodes, *args):
    """tuphap ARGS with its text for people in English (what ctest's own
    LANG is does not matter)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(LANG="C.UTF-8")
    r = subprocess.run([nodes.tuphap, *args], capture_output=True, text=True, timeout=600, env=env)
    check(r.returncode == 0, f"tuphap {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def one_birth(nodes):
    gen = nodes.run("generate", "--records", "40", "--commune", COMMUNE, "--seed", "99")
    birth = next(json.loads(line) for line in gen.stdout.splitlines()
                 if json.loads(line)["type"] == "birth")
    path = nodes.dir("one.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(birth["data"], f, ensure_ascii=False)
    return path


def scenario(nodes):
    nodes.init_hub()
    nodes.init_commune("c", COMMUNE)
    nodes.enrol("c")
    gen = nodes.dir("g.jsonl")
    nodes.run("generate", "--records", "150", "--commune", COMMUNE, "--seed", "8", "--out", gen)
    with open(gen, encoding="utf-8") as f:
        lines = f.readlines()
    first, second = nodes.dir("a.jsonl"), nodes.dir("b.jsonl")
    with open(first, "w", encoding="utf-8") as f:
        f.writelines(lines[:100])
    with open(second, "w", encoding="utf-8") as f:
        f.writelines(lines[100:])
    nodes.tp("c", "import", first)
    port = badlink.free_port()
    ep = f"tcp://127.0.0.1:{port}"
    hub = nodes.serve("hub", "--listen", ep)
    nodes.tp("c", "sync", ep, "--once")
    at_backup = nodes.digest("hub", COMMUNE)["records"]
    nodes.tp("c", "backup", "--out", nodes.dir("c.backup"))
    nodes.tp("hub", "backup", "--out", nodes.dir("hub.backup"))
    check(os.stat(nodes.dir("c.backup")).st_mode & 0o777 == 0o600, "the backup is not mode 0600")
    receipts = json.loads(nodes.tp("c", "--json", "receipts").stdout)
    signed_first = max(r["seq"] for r in receipts if r["scope"] == COMMUNE)
    nodes.tp("c", "import", second)
    nodes.tp("c", "sync", ep, "--once")
    receipts = json.loads(nodes.tp("c", "--json", "receipts").stdout)
    signed_last = max(r["seq"] for r in receipts if r["scope"] == COMMUNE)
    check(signed_last > signed_first, f"no newer receipt: {receipts}")
    # ISO 8601 in the node's zone (Asia/Ho_Chi_Minh by default), with its offset.
    check(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", r["received_at"])
              and len(r["signature"]) == 128 for r in receipts),
          f"a receipt lacks its time or signature: {receipts}")
    delivered = status(nodes, "c")["delivered"]
    check([d["seq"] for d in delivered if d["scope"] == COMMUNE] == [signed_last],
          f"status does not show the delivery: {delivered}")

    # A damaged backup is refused, and nothing is published.
    with open(nodes.dir("c.backup"), "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 1
    with open(nodes.dir("bad.backup"), "wb") as f:
        f.write(data)
    r = nodes.run("--data", nodes.dir("bad"), "restore", nodes.dir("bad.backup"), check=False)
    check(r.returncode == 2 and "E_BACKUP_DAMAGED" in r.stderr,
          f"a damaged backup was not refused: {r.returncode} {r.stderr.strip()}")
    check(not os.path.exists(os.path.join(nodes.dir("bad"), "tuphap.db")),
          "a refused restore left a store")

    nodes.run("--data", nodes.dir("r"), "restore", nodes.dir("c.backup"))
    one = one_birth(nodes)
    for args in (("record", "add", "--type", "birth", "--input", one), ("import", second)):
        r = nodes.tp("r", "--json", *args, check=False)
        check(r.returncode == 4 and json.loads(r.stderr)["error"]["reason"] == "E_RESTORED",
              f"a restored node wrote before it synced ({' '.join(args[:2])}): "
              f"{r.returncode} {r.stderr.strip()}")
    check(status(nodes, "r")["restored"] is True, "status does not say restored")
    nodes.tp("r", "sync", ep, "--once")
    s = status(nodes, "r")
    check(s["restored"] is False, "the sync did not clear the mark")
    # It pulled its changes back and sent nothing: its receipt is still the
    # backup's, and beside it what the hub said it holds (unsigned).
    delivered = [d for d in s["delivered"] if d["scope"] == COMMUNE]
    check(len(delivered) == 1 and delivered[0]["seq"] == signed_first
          and delivered[0].get("announced_seq") == signed_last,
          f"status hides what the hub holds after the pull-back: {delivered}")
    text = english(nodes, "--data", nodes.dir("r"), "status")
    check(f"the hub said it holds up to {signed_last}" in text,
          f"status text hides what the hub holds: {text}")
    nodes.tp("r", "record", "add", "--type", "birth", "--input", one)
    nodes.tp("r", "sync", ep, "--once")
    hub_status = status(nodes, "hub")
    check(hub_status["equivocations"] == [] and hub_status["quarantined"] == [],
          f"the hub saw a fork: {hub_status['equivocations']}")
    check(nodes.digest("hub", COMMUNE) == nodes.digest("r", COMMUNE), "hub and node differ")
    check(nodes.digest("hub", COMMUNE)["records"] == at_backup + 51,
          f"the hub holds {nodes.digest('hub', COMMUNE)['records']}, want {at_backup + 51}")

    # The hub's disk dies; it comes back from its backup, older than what
    # it signed for since. The node flags it and sends again.
    nodes.stop(hub)
    said = english(nodes, "--data", nodes.dir("hub2"), "restore", nodes.dir("hub.backup"))
    # A hub has no hub to sync with: it is told what unlocks it.
    check("resume-writes" in said and "synced with its hub" not in said,
          f"restore tells a hub the wrong way back: {said}")
    nodes.serve("hub2", "--listen", ep)
    said = english(nodes, "--data", nodes.dir("hub2"), "receipts")
    check("a hub keeps no receipts" in said, f"a hub's receipts: {said}")
    nodes.tp("r", "sync", ep, "--once")
    s = status(nodes, "r")
    rollbacks = s["hub_rollbacks"]
    check(len(rollbacks) == 1 and rollbacks[0]["announced_seq"] == signed_first
          and rollbacks[0]["signed_seq"] > signed_first, f"no rollback flagged: {rollbacks}")
    check(s["refusals"].get("E_HUB_ROLLBACK") == 1, f"not counted: {s['refusals']}")
    check(nodes.digest("hub2", COMMUNE) == nodes.digest("r", COMMUNE),
          "the restored hub did not get back what it lacked")
    # A hub's own feeds went to every commune: one commune's sync does not
    # show it holds their latest. It writes nothing (an enrolment, say)
    # until its operator resumes writes.
    check(status(nodes, "hub2")["restored"] is True, "one commune's sync cleared the hub's mark")
    r = nodes.run("--data", nodes.dir("hub2"), "--json", "resume-writes")
    check(json.loads(r.stdout)["resumed"] is True, f"resume-writes: {r.stdout} {r.stderr}")
    check(status(nodes, "hub2")["restored"] is False, "the restored hub is still marked")
    backups_while_writing(nodes)
    print("ok")


def backups_while_writing(nodes):
    """Backups taken while another process imports: each restores to a
    whole store (integrity, indexes, every record of a committed batch),
    never to half a batch, and later backups never hold fewer records."""
    nodes.init_commune("w", "22366")
    gen = nodes.dir("w.jsonl")
    nodes.run("generate", "--records", "3000", "--commune", "22366", "--seed", "5", "--out", gen)
    importer = subprocess.Popen([TUPHAP, "--data", nodes.dir("w"), "import", gen, "--batch", "100"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    counts = []
    try:
        while importer.poll() is None or not counts:
            i = len(counts)
            out = nodes.dir(f"w{i}.backup")
            nodes.tp("w", "backup", "--out", out)
            nodes.run("--data", nodes.dir(f"w{i}"), "restore", out)
            nodes.tp(f"w{i}", "index", "check")
            counts.append(nodes.digest(f"w{i}", "22366")["records"])
            check(counts[-1] % 100 == 0 or counts[-1] == 3000,
                  f"backup {i} holds {counts[-1]} records: not whole batches of 100")
    finally:
        importer.wait(timeout=300)
    check(importer.returncode == 0, f"the import failed: {importer.stderr.read()}")
    check(counts == sorted(counts), f"a later backup holds fewer records: {counts}")
    check(len(counts) >= 2, f"only {len(counts)} backup(s) during the import")
    print(f"backups while importing: {counts}")


if __name__ == "__main__":
    sys.exit(badlink.run_scenario(TUPHAP, sys.argv[2], "tuphap-restore-", scenario))
