"""Several writers on one node at once, as real processes of the real binary
(issue 12, docs/register-numbers.md): concurrent registrations get distinct,
consecutive register numbers; concurrent leases are disjoint; a command
waiting at the passphrase prompt (on a pseudo-terminal) holds no lock, so
other writers and `serve` go on.

usage: writers_test.py TUPHAP NET_DIR   (NET_DIR: tests/net, for badlink.py)
"""
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, sys.argv[2])
import badlink  # noqa: E402  (the shared node harness)
from badlink import check  # noqa: E402

TUPHAP = os.path.abspath(sys.argv[1])
COMMUNE = "22333"
WRITERS = 8


def at_prompt(nodes, name, *args):
    """Starts `tuphap --data NAME ARGS` on a pseudo-terminal without a
    passphrase in its environment and returns (pid, fd) once it is waiting
    at the passphrase prompt."""
    env = {k: v for k, v in os.environ.items() if k != "TUPHAP_PASSPHRASE"}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(TUPHAP, [TUPHAP, "--data", nodes.dir(name), *args], env)
    seen = b""
    end = time.monotonic() + 60
    while b"passphrase" not in seen:
        left = end - time.monotonic()
        check(left > 0, f"no passphrase prompt from {' '.join(args)}: {seen!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 1024)
            except OSError:
                break
    check(b"passphrase" in seen, f"{' '.join(args)} ended before its prompt: {seen!r}")
    return pid, fd


def stop(pid, fd):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)


def decisions(nodes, n):
    """n violation decisions (register XP) of COMMUNE, each in its own file."""
    lines = nodes.run("generate", "--records", "400", "--commune", COMMUNE, "--seed",
                      "11").stdout.splitlines()
    files = []
    for line in lines:
        d = json.loads(line)
        if d.get("type") != "violation_decision":
            continue
        path = nodes.dir(f"v{len(files)}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(d["data"], f, ensure_ascii=False)
        files.append(path)
        if len(files) == n:
            return files
    raise badlink.Failure(f"the generator gave fewer than {n} violation decisions")


def concurrent_adds(nodes):
    files = decisions(nodes, WRITERS)
    procs = [
        subprocess.Popen([TUPHAP, "--data", nodes.dir("c"), "record", "add", "--type",
                          "violation_decision", "--input", f],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f in files
    ]
    results = [(p.wait(timeout=120), p.stdout.read().strip(), p.stderr.read().strip())
               for p in procs]
    failed = [err for rc, _, err in results if rc != 0]
    check(not failed, f"{len(failed)} of {WRITERS} concurrent record add failed: {failed[:2]}")
    ids = sorted(out for _, out, _ in results)
    check(len(set(ids)) == WRITERS, f"{WRITERS} concurrent record add gave ids {ids}")
    numbers = []
    for rid in ids:
        m = re.fullmatch(COMMUNE + r"-XP-(\d{4})-(\d{6})", rid)
        check(m is not None, f"record id {rid!r} is not a register reference")
        numbers.append(int(m.group(2)))
    check(numbers == list(range(1, WRITERS + 1)),
          f"numbers {numbers}: want 1..{WRITERS}, consecutive, none lost or repeated")
    print(f"ok: {WRITERS} concurrent record add: numbers {numbers[0]}..{numbers[-1]}")
    return ids


def concurrent_leases(nodes):
    holders = [nodes.node_id("s1"), nodes.node_id("s2")]
    procs = [
        subprocess.Popen([TUPHAP, "--data", nodes.dir("c"), "--json", "register", "lease", "--to",
                          h, "--register", "KS", "--year", "2026", "--count", "50"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for h in holders
    ]
    blocks = []
    for p in procs:
        rc = p.wait(timeout=120)
        check(rc == 0, f"concurrent register lease failed: {p.stderr.read().strip()}")
        j = json.loads(p.stdout.read())
        blocks.append((j["first"], j["last"]))
    blocks.sort()
    (a1, a2), (b1, b2) = blocks
    check(a2 - a1 == 49 and b2 - b1 == 49, f"lease sizes: {blocks}")
    check(a2 < b1, f"two concurrent leases overlap: {blocks}")
    print(f"ok: 2 concurrent leases are disjoint: {blocks}")


def prompt_holds_no_lock(nodes, rid):
    # A writer at the prompt on the commune; another writer goes on. With
    # the lock held it would wait out the 10 s busy timeout and fail E_BUSY.
    pid, fd = at_prompt(nodes, "c", "record", "amend", rid, "--field", "data.notes=x",
                        "--reason", "prompt")
    try:
        r = nodes.tp("c", "record", "amend", rid, "--field", "data.notes=y", "--reason",
                     "other officer", check=False)
        check(r.returncode == 0,
              f"a writer failed while another command sat at the prompt: {r.stderr.strip()}")
        shown = json.loads(nodes.tp("c", "--json", "record", "show", rid).stdout)
        check("y" in json.dumps(shown, ensure_ascii=False), "the second writer's amendment is lost")
    finally:
        stop(pid, fd)
    print("ok: a command at the passphrase prompt does not hold the commune's write lock")

    # A hub officer at the prompt while the hub serves: a commune's sync
    # (the hub ingests its batch) still gets through.
    port = badlink.free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    nodes.serve("hub", "--listen", endpoint)
    pid, fd = at_prompt(nodes, "hub", "record", "add", "--type", "violation_decision", "--scope",
                        COMMUNE, "--input", nodes.dir("v0.json"))
    try:
        r = nodes.tp("c", "sync", endpoint, "--once", check=False, timeout=120)
        check(r.returncode == 0,
              f"sync failed while a hub command sat at the prompt: {r.stderr.strip()}")
        held = nodes.digest("hub", COMMUNE)["records"]
        mine = nodes.digest("c", COMMUNE)["records"]
        check(held == mine, f"the hub holds {held} records of {COMMUNE}, the commune {mine}")
    finally:
        stop(pid, fd)
    print(f"ok: serve ingested {held} records while a hub command sat at the prompt")


def scenario(nodes):
    nodes.init_hub()
    nodes.init_commune("c", COMMUNE)
    nodes.enrol("c")
    nodes.init_commune("s1", COMMUNE, secondary=True)
    nodes.init_commune("s2", COMMUNE, secondary=True)
    ids = concurrent_adds(nodes)
    concurrent_leases(nodes)
    prompt_holds_no_lock(nodes, ids[0])


if __name__ == "__main__":
    sys.exit(badlink.run_scenario(TUPHAP, sys.argv[2], "tuphap-writers-", scenario))
