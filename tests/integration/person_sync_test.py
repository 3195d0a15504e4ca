"""Collisions the person rules see only after sync (issue 13, item 3), with
the real binary, real processes and a hub serving on loopback.

The same child is registered offline on the commune's primary and on its
secondary (two nodes of one commune), at the hub in the commune's books (a
commune and the hub), and in another commune (two communes of the
province at the hub). Every registration is accepted where it is made —
no node could see the other — and after sync every node holding two of
them shows the person conflict with both records; nothing is merged away
(the digests agree). Revoking the extra registrations clears the conflicts
on every side.

usage: person_sync_test.py TUPHAP NET_DIR   (NET_DIR: tests/net, for badlink.py)
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[2])
import badlink  # noqa: E402  (the shared node harness)
from badlink import check  # noqa: E402

TUPHAP = os.path.abspath(sys.argv[1])
COMMUNE = "22333"
OTHER = "22366"


def birth_file(nodes):
    gen = nodes.run("generate", "--records", "50", "--commune", COMMUNE, "--seed", "21")
    births = [json.loads(line) for line in gen.stdout.splitlines()]
    birth = next(b for b in births if b.get("type") == "birth")
    path = nodes.dir("birth.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(birth["data"], f, ensure_ascii=False)
    return path, birth["data"]["child"]["personal_id"]


def person(nodes, name, pid):
    return json.loads(nodes.tp(name, "--json", "person", "show", pid).stdout)


def conflicts_of(nodes, name, pid):
    """The person conflicts a node shows, as sets of the two record ids."""
    return sorted(tuple(sorted((c["record_id"], c["other_id"])))
                  for c in person(nodes, name, pid)["person_conflicts"])


def add(nodes, name, path, *extra):
    r = nodes.tp(name, "--json", "record", "add", "--type", "birth", "--input", path, *extra,
                 check=False)
    check(r.returncode == 0, f"record add on {name} failed: {r.stderr.strip()}")
    return json.loads(r.stdout)["id"]


def scenario(nodes):
    nodes.init_hub()
    nodes.init_commune("c", COMMUNE)
    nodes.enrol("c")
    nodes.init_commune("s", COMMUNE, secondary=True)
    nodes.enrol("s")
    nodes.init_commune("o", OTHER)
    nodes.enrol("o")
    nodes.tp("c", "register", "lease", "--to", nodes.node_id("s"), "--register", "KS",
             "--year", "2026", "--count", "5")
    ep = f"tcp://127.0.0.1:{badlink.free_port()}"
    nodes.serve("hub", "--listen", ep)
    for name in ("c", "s", "o"):
        nodes.tp(name, "sync", ep, "--once")

    path, pid = birth_file(nodes)
    # Offline, each where it is made: accepted, for no node sees another.
    ids = {"c": add(nodes, "c", path, "--field", "registered_at=2026-07-01"),
           "s": add(nodes, "s", path, "--field", "registered_at=2026-07-02"),
           "o": add(nodes, "o", path, "--field", "registered_at=2026-07-03")}
    # The hub's copy of a paper entry, into the commune's books: its own
    # number, no lease involved.
    ids["hub"] = add(nodes, "hub", path, "--scope", COMMUNE, "--field", "registered_at=2026-07-04",
                     "--field", "book.entry_no=900", "--field", "book.register=KS",
                     "--field", "book.year=2026")
    # A registration made where a collision is visible is refused instead.
    r = nodes.tp("c", "record", "add", "--type", "birth", "--input", path, check=False)
    check(r.returncode == 2 and "child_already_registered" in r.stderr,
          f"a second registration on one node was not refused: {r.returncode} {r.stderr.strip()}")

    for name in ("c", "s", "o", "c", "s"):
        nodes.tp(name, "sync", ep, "--once")

    first = ids["c"]
    want_commune = sorted(tuple(sorted((ids[k], first))) for k in ("s", "hub"))
    want_hub = sorted(tuple(sorted((ids[k], first))) for k in ("s", "o", "hub"))
    for name, want in (("c", want_commune), ("s", want_commune), ("hub", want_hub)):
        got = conflicts_of(nodes, name, pid)
        check(got == want, f"{name} shows person conflicts {got}, want {want}")
        records = {r["record_id"] for r in person(nodes, name, pid)["records"]}
        check(set(ids[k] for k in ("c", "s", "hub")) <= records,
              f"{name} lost a registration: {records}")
    # The other commune holds only its own record: nothing to show there.
    check(conflicts_of(nodes, "o", pid) == [], "commune o shows a conflict it cannot see")
    # Nothing merged away: the commune's records are the same everywhere.
    digests = {name: json.loads(nodes.tp(name, "--json", "digest", "--scope", COMMUNE).stdout)
               for name in ("c", "s", "hub")}
    check(len({json.dumps(d) for d in digests.values()}) == 1, f"digests differ: {digests}")
    for name in ("c", "s", "hub"):
        check(json.loads(nodes.tp(name, "--json", "index", "check").stdout).get("equal") is True,
              f"{name}'s person index differs from a rebuild")

    # A person settles it: the extra registrations are revoked where they
    # were made, and the conflicts clear everywhere.
    nodes.tp("s", "record", "revoke", ids["s"], "--reason", "registered twice")
    nodes.tp("hub", "record", "revoke", ids["hub"], "--scope", COMMUNE, "--reason",
             "registered twice")
    nodes.tp("o", "record", "revoke", ids["o"], "--reason", "registered in the wrong commune")
    for name in ("s", "o", "c", "s"):
        nodes.tp(name, "sync", ep, "--once")
    for name in ("c", "s", "o", "hub"):
        got = conflicts_of(nodes, name, pid)
        check(got == [], f"{name} still shows {got} after the revocations")
    print("ok")


if __name__ == "__main__":
    sys.exit(badlink.run_scenario(TUPHAP, sys.argv[2], "tuphap-person-sync-", scenario))
