"""The hub's reports of person conflicts (issue 13), with the real binary.

Two communes register the same child (one personal ID): each accepts its
registration, having never seen the other's. Carried to the hub by bundle,
the two records meet there: `report conflicts` and `conflicts list` list the
pair and say what to do, `report status` counts it under both communes,
`report stats` counts the child once and says one registration is held back,
`report attention` points to it, and `report duplicates` shows the records
with the same names (a third birth under another ID among them) as possible
duplicates only. The commune that registered second revokes its record:
the conflict goes and the statistics count what stands.

usage: person_reports_test.py TUPHAP NET_DIR   (NET_DIR: tests/net, for badlink.py)
"""
import copy
import json
import os
import sys

sys.path.insert(0, sys.argv[2])
import badlink  # noqa: E402  (the shared node harness)
from badlink import check  # noqa: E402

TUPHAP = os.path.abspath(sys.argv[1])
FIRST, SECOND = "22333", "22366"  # two communes of province 56


def write(nodes, name, doc):
    path = nodes.dir(name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    return path


def birth(nodes):
    """A generated birth's data (it names the child by personal ID)."""
    gen = nodes.run("generate", "--records", "200", "--commune", FIRST, "--seed", "3")
    for line in gen.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("type") == "birth" and rec["data"]["child"].get("personal_id"):
            return rec["data"]
    raise badlink.Failure("the generator made no birth with a child's personal ID")


def add(nodes, name, path):
    r = nodes.tp(name, "--json", "record", "add", "--type", "birth", "--input", path,
                 check=False)
    check(r.returncode == 0, f"record add on {name} failed: {r.stderr.strip()}")
    return json.loads(r.stdout)["id"]


def carry(nodes, src, dst):
    """Everything `src` has that `dst` lacks, by bundle file."""
    path = nodes.dir(f"{src}-to-{dst}.bundle")
    nodes.tp(src, "bundle", "export", "--for", nodes.node_id(dst), "--out", path)
    nodes.tp(dst, "bundle", "import", path)


def js(nodes, name, *args):
    return json.loads(nodes.tp(name, "--json", *args).stdout)


def by_commune(rows):
    out = {}
    for r in rows:
        out[r["commune"]] = r
    return out


def scenario(nodes):
    nodes.init_hub()
    for name, commune in (("c1", FIRST), ("c2", SECOND)):
        nodes.init_commune(name, commune)
        nodes.enrol(name)

    data = birth(nodes)
    child = data["child"]["personal_id"]
    twin = copy.deepcopy(data)  # the same names and birth date, another ID
    twin["child"]["personal_id"] = child[:6] + ("000001" if child[6:] != "000001" else "000002")
    first = add(nodes, "c1", write(nodes, "birth.json", data))
    other = add(nodes, "c1", write(nodes, "twin.json", twin))
    # The same child, again, where nobody has seen the first: accepted.
    later = add(nodes, "c2", write(nodes, "birth.json", data))
    # At c1 the second registration of the child is refused outright.
    r = nodes.tp("c1", "record", "add", "--type", "birth", "--input", nodes.dir("birth.json"),
                 check=False)
    check(r.returncode != 0 and "child_already_registered" in r.stderr + r.stdout,
          f"c1 registered the child twice: {r.returncode} {r.stdout.strip()} {r.stderr.strip()}")
    carry(nodes, "c1", "hub")
    carry(nodes, "c2", "hub")

    # report conflicts / conflicts list: both records, the rule, what to do.
    for args in (("report", "conflicts"), ("conflicts", "list")):
        out = nodes.tp("hub", *args).stdout
        for text in (child, first, later, FIRST, SECOND, "birth registered twice",
                     "tuphap record revoke ID --reason", "tuphap record amend ID --field"):
            check(text in out, f"`{' '.join(args)}` lacks {text!r}:\n{out}")
        listed = js(nodes, "hub", *args)
        check(listed["conflicts"] == [], f"field conflicts listed: {listed}")
        persons = listed["person_conflicts"]
        check(len(persons) == 1, f"`{' '.join(args)}` --json: {persons}")
        p = persons[0]
        check(p["personal_id"] == child and p["rule"] == "child_already_registered",
              f"person conflict: {p}")
        check(p["record"]["record_id"] == later and p["record"]["commune"] == SECOND
              and p["record"]["type"] == "birth" and p["record"]["date"],
              f"the later record: {p}")
        check(p["other"]["record_id"] == first and p["other"]["commune"] == FIRST,
              f"the record it collides with: {p}")
    lang = os.environ.get("LANG")
    os.environ["LANG"] = "vi_VN.UTF-8"  # the officer's language, for one command
    try:
        vi = nodes.tp("hub", "report", "conflicts").stdout
    finally:
        if lang is None:
            del os.environ["LANG"]
        else:
            os.environ["LANG"] = lang
    check("Xung đột nhân thân" in vi and "thu hồi" in vi and later in vi,
          f"Vietnamese report conflicts:\n{vi}")
    csv = nodes.tp("hub", "report", "conflicts", "--format", "csv").stdout
    check(later in csv and first in csv, f"csv lacks the records:\n{csv}")
    html = nodes.tp("hub", "report", "conflicts", "--format", "html").stdout
    check(later in html and "Person conflicts" in html, "html lacks the person conflict")

    # report status: one person conflict under each commune.
    status = js(nodes, "hub", "report", "status")
    communes = {c["commune"]: c for c in status["communes"]}
    for commune in (FIRST, SECOND):
        check(communes[commune]["person_conflicts"] == 1,
              f"status of {commune}: {communes[commune]}")
    check("person conflicts" in nodes.tp("hub", "report", "status").stdout,
          "status text has no person conflicts column")

    # report stats: the child once; the later registration held back.
    stats = js(nodes, "hub", "report", "stats", "--by", "commune")
    rows = by_commune(stats["rows"])
    check(rows[FIRST]["count"] == 2 and rows[FIRST]["held_back"] == 0, f"{FIRST}: {rows}")
    check(rows[SECOND]["count"] == 0 and rows[SECOND]["held_back"] == 1, f"{SECOND}: {rows}")
    check(stats["held_back_for_person_conflicts"] == 1, f"stats: {stats}")
    text = nodes.tp("hub", "report", "stats", "--by", "commune").stdout
    check("1 registration(s) held back for person conflicts" in text, f"stats text:\n{text}")

    # report attention: nothing invalid, one person conflict pointed to.
    att = js(nodes, "hub", "report", "attention")
    check(att["records"] == [] and att["person_conflicts"] == 1, f"attention: {att}")

    # report duplicates: the three births, possible duplicates only.
    dup = js(nodes, "hub", "report", "duplicates")
    check(dup["possible_duplicates_only"] is True and len(dup["groups"]) == 1, f"dup: {dup}")
    members = {m["record_id"]: m["personal_id"] for m in dup["groups"][0]["records"]}
    check(members == {first: child, other: twin["child"]["personal_id"], later: child},
          f"duplicate group: {members}")
    text = nodes.tp("hub", "report", "duplicates").stdout
    check("POSSIBLE" in text and "Nothing is blocked or merged" in text and other in text,
          f"duplicates text:\n{text}")
    check(len(js(nodes, "hub", "report", "duplicates", "--scope", SECOND)["groups"]) == 1,
          "--scope of the second commune")
    check(js(nodes, "hub", "report", "duplicates", "--scope", "22390")["groups"] == [],
          "--scope of a commune with none")
    r = nodes.tp("hub", "report", "duplicates", "--scope", "99999", check=False)
    check(r.returncode != 0 and "99999" in r.stderr, f"--scope 99999: {r.returncode}")
    r = nodes.tp("hub", "report", "duplicates", "--limit", "0", check=False)
    check(r.returncode != 0, "--limit 0 accepted")

    # The second commune revokes its record; the hub learns it by bundle.
    nodes.tp("c2", "record", "revoke", later, "--reason", f"registered at {FIRST} first")
    carry(nodes, "c2", "hub")
    listed = js(nodes, "hub", "report", "conflicts")
    check(listed["person_conflicts"] == [], f"still listed: {listed}")
    check("no open conflicts" in nodes.tp("hub", "conflicts", "list").stdout,
          "conflicts list still lists something")
    communes = {c["commune"]: c for c in js(nodes, "hub", "report", "status")["communes"]}
    for commune in (FIRST, SECOND):
        check(communes[commune]["person_conflicts"] == 0, f"{commune}: {communes[commune]}")
    stats = js(nodes, "hub", "report", "stats", "--by", "commune")
    rows = by_commune(stats["rows"])
    check(rows[FIRST]["count"] == 2 and rows[SECOND]["count"] == 0
          and rows[SECOND]["revoked"] == 1 and rows[SECOND]["held_back"] == 0,
          f"after the revocation: {rows}")
    check(stats["held_back_for_person_conflicts"] == 0, f"stats: {stats}")
    check("held back for person conflicts" not in
          nodes.tp("hub", "report", "stats", "--by", "commune").stdout, "still held back")
    dup = js(nodes, "hub", "report", "duplicates")
    check(len(dup["groups"]) == 1 and len(dup["groups"][0]["records"]) == 2,
          f"a revoked record in the duplicates: {dup}")
    print("ok")


if __name__ == "__main__":
    sys.exit(badlink.run_scenario(TUPHAP, sys.argv[2], "tuphap-person-reports-", scenario))
