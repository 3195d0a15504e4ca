"""Only the certified primary of a commune numbers its books and leases
numbers (issue 12 review, docs/register-numbers.md), with the real binary.

The review's attack: a further node of the commune, made without
--secondary, was enrolled, leased a block "to" the real primary, and so
made every replica flag the primary's own leases; the primary's next
`record add` then failed. Now the hub refuses to certify a second primary,
a secondary cannot lease, and the primary and its secondary go on
numbering, with nothing flagged anywhere.

usage: lease_attack_test.py TUPHAP NET_DIR   (NET_DIR: tests/net, for badlink.py)
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[2])
import badlink  # noqa: E402  (the shared node harness)
from badlink import check  # noqa: E402

TUPHAP = os.path.abspath(sys.argv[1])
COMMUNE = "22333"


def birth_file(nodes):
    gen = nodes.run("generate", "--records", "200", "--commune", COMMUNE, "--seed", "3")
    births = [json.loads(line) for line in gen.stdout.splitlines()]
    births = [b for b in births if b.get("type") == "birth"]
    path = nodes.dir("birth.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(births[0]["data"], f, ensure_ascii=False)
    return path


def attention(nodes, name):
    r = nodes.tp(name, "--json", "report", "attention")
    return json.loads(r.stdout)


def scenario(nodes):
    nodes.init_hub()
    nodes.init_commune("c", COMMUNE)
    nodes.enrol("c")
    nodes.init_commune("s", COMMUNE, secondary=True)
    nodes.enrol("s")

    # A second node made as primary is not certified.
    nodes.init_commune("evil", COMMUNE)
    nodes.tp("evil", "enroll", "request", "--out", nodes.dir("evil.req"))
    r = nodes.tp("hub", "enroll", "sign", nodes.dir("evil.req"), "--out",
                 nodes.dir("evil.enrol"), check=False)
    check(r.returncode == 4, f"enroll sign of a second primary exited {r.returncode}: "
          f"{r.stdout.strip()} {r.stderr.strip()}")
    check("E_PRIMARY_EXISTS" in r.stderr and "--secondary" in r.stderr,
          f"the refusal does not say what to do: {r.stderr.strip()}")
    check(not os.path.exists(nodes.dir("evil.enrol")), "an enrolment file was written")

    # Enrolled as a secondary instead, it cannot lease.
    nodes.init_commune("evil2", COMMUNE, secondary=True)
    nodes.enrol("evil2")
    r = nodes.tp("evil2", "register", "lease", "--to", nodes.node_id("c"), "--register",
                 "KS", "--year", "2026", "--count", "1", check=False)
    check(r.returncode != 0, "a secondary leased numbers")

    lease = json.loads(nodes.tp("c", "--json", "register", "lease", "--to",
                                nodes.node_id("s"), "--register", "KS", "--year", "2026",
                                "--count", "5").stdout)
    check(lease.get("first") == 1, f"the first block is not 1-5: {lease}")
    port = badlink.free_port()
    ep = f"tcp://127.0.0.1:{port}"
    nodes.serve("hub", "--listen", ep)
    for name in ("c", "s", "evil2", "c", "s"):
        nodes.tp(name, "sync", ep, "--once")

    path = birth_file(nodes)
    for name in ("c", "s"):
        r = nodes.tp(name, "record", "add", "--type", "birth", "--input", path, check=False)
        check(r.returncode == 0, f"record add on {name} failed: {r.stderr.strip()}")
    for name in ("c", "s", "c"):
        nodes.tp(name, "sync", ep, "--once")
    for name in ("hub", "c", "s"):
        a = attention(nodes, name)
        check(a.get("records") == [], f"{name} flags content: {a}")
        # The secondary's entry 1 (its block) and the primary's 6 (above it).
        for entry in ("000001", "000006"):
            r = nodes.tp(name, "record", "show", f"{COMMUNE}-KS-2026-{entry}", check=False)
            check(r.returncode == 0, f"{name} lacks entry {entry}: {r.stderr.strip()}")
    print("ok")


if __name__ == "__main__":
    sys.exit(badlink.run_scenario(TUPHAP, sys.argv[2], "tuphap-lease-attack-", scenario))
