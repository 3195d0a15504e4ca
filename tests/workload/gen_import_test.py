#!/usr/bin/env python3
"""Imports generated files into fresh nodes and checks that every line gets
exactly the class it was built to exhibit (`expect_error`, absent or null
for valid lines), and that a second import adds nothing.

With GEN_PY: files from the shared workload generator (gen.py), registered
with ctest only where ../shared/workload exists. Without it: files from the
project's own generator (`tuphap generate`), which also builds the person
rules' classes from people named earlier in the same file; each of those
must come out as built, and the valid lines naming people again (widows
remarrying, couples as parents, divorces) must be accepted.

usage: gen_import_test.py TUPHAP [GEN_PY]
"""
import json
import os
import subprocess
import sys
import tempfile


os.environ.setdefault("TUPHAP_PASSPHRASE", "test-passphrase")
os.environ.setdefault("TUPHAP_KDF", "weak")


def run(tuphap, *args, check=True):
    r = subprocess.run([tuphap, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"FAIL: tuphap {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r


PERSON_RULES = ["child_already_registered", "death_already_registered", "person_deceased",
                "already_married", "marital_status_contradicted"]


def check_file(tuphap, gen, tmp, name, gen_args, province=None):
    """Generates with gen.py, or with `tuphap generate` when gen is None;
    returns the classes the file was built with, by count."""
    path = os.path.join(tmp, name + ".jsonl")
    if gen:
        subprocess.run([sys.executable, gen, *gen_args, "--out", path], check=True)
    else:
        run(tuphap, "generate", *gen_args, "--out", path)
    with open(path, encoding="utf-8") as f:
        commune = json.loads(f.readline())["commune_code"]
    data = os.path.join(tmp, name)
    if province:
        run(tuphap, "--data", data, "init", "--role", "hub", "--province", province)
    else:
        run(tuphap, "--data", data, "init", "--role", "commune", "--commune", commune)
    expected = {}
    text_broken = set()  # encoding_invalid / malformed_json lines: not JSON to read
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                expected[n] = json.loads(raw.decode("utf-8")).get("expect_error")
            except (UnicodeDecodeError, ValueError):
                expected[n] = None
                text_broken.add(n)
    out = run(tuphap, "--data", data, "--json", "import", path, check=False)
    got, summary = {}, None
    for line in out.stdout.splitlines():
        o = json.loads(line)
        if "summary" in o:
            summary = o["summary"]
        else:
            got[o["line"]] = o["class"]
    if summary is None:
        sys.exit(f"FAIL {name}: no summary: {out.stderr}")
    for n in text_broken:
        if got.get(n) in ("encoding_invalid", "malformed_json"):
            expected[n] = got[n]
    wrong = [(n, e, got.get(n)) for n, e in expected.items() if e != got.get(n)]
    if wrong:
        sys.exit(f"FAIL {name}: {len(wrong)} of {len(expected)} lines misclassified "
                 f"(line, expected, got): {wrong[:5]}")
    bad = sum(1 for e in expected.values() if e)
    if summary["refused"] != bad or summary["accepted"] != len(expected) - bad:
        sys.exit(f"FAIL {name}: summary {summary} does not match {bad} bad lines")
    classes = sorted({e for e in expected.values() if e})
    again = run(tuphap, "--data", data, "--json", "import", path, check=False)
    summary2 = json.loads(again.stdout.splitlines()[-1])["summary"]
    if summary2["accepted"] != 0 or summary2["duplicates"] != len(expected) - bad:
        sys.exit(f"FAIL {name}: re-import {summary2}, want nothing accepted")
    # A person rule's lines again, each for the same reason: what the later
    # lines brought (a death, a divorce) must not excuse them. (An edit's
    # class may change: the later edits moved the record's version on.)
    got2 = {o["line"]: o["class"] for o in map(json.loads, again.stdout.splitlines()[:-1])}
    changed = [(n, got.get(n), got2.get(n)) for n in sorted(set(got) | set(got2))
               if got.get(n) != got2.get(n) and
               (got.get(n) in PERSON_RULES or got2.get(n) in PERSON_RULES)]
    if changed:
        sys.exit(f"FAIL {name}: re-import refused lines differently (line, first, again): "
                 f"{changed[:5]}")
    by_class = {c: sum(1 for e in expected.values() if e == c) for c in classes}
    person = ""
    if gen is None:
        person = "; person rules: " + ", ".join(f"{c} {by_class.get(c, 0)}" for c in PERSON_RULES)
    print(f"ok {name}: {len(expected)} lines, {bad} refused as built "
          f"({len(classes)} classes{person}), re-import adds nothing")
    return by_class, path


def valid_paths(path):
    """Counts the valid lines that name a person again as the rules allow."""
    married, count = set(), {"married again": 0, "couple as parents": 0, "spouse died": 0,
                             "confirmed widowed": 0, "divorce": 0}
    with open(path, "rb") as f:
        for raw in f:
            try:
                line = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if line.get("expect_error"):
                continue
            d = line.get("data") or {}
            if line["op"] == "edit":
                count["divorce"] += any(c["path"] == "data.dissolved_on" for c in line["changes"])
            elif line["type"] == "marriage":
                for who in ("husband", "wife"):
                    count["married again"] += d[who]["personal_id"] in married
                    married.add(d[who]["personal_id"])
            elif line["type"] == "birth":
                count["couple as parents"] += (d["mother"] or {}).get("personal_id") in married
            elif line["type"] == "death":
                count["spouse died"] += d["deceased"]["personal_id"] in married
            elif line["type"] == "marital_status_confirmation":
                count["confirmed widowed"] += (d["subject"]["personal_id"] in married
                                               and d["marital_status"] == "widowed")
    return count


def check_own(tuphap, tmp):
    # Every class, in the share --bad gives each.
    check_file(tuphap, None, tmp, "own-commune",
               ["--records", "6000", "--seed", "21", "--commune", "18568", "--edits", "600",
                "--bad", "0.1"])
    # A provincial hub: three communes, each keeping its own people.
    check_file(tuphap, None, tmp, "own-hub",
               ["--records", "6000", "--seed", "22", "--province", "56", "--communes", "3",
                "--edits", "600", "--bad", "0.1"], province="56")
    # Only the person rules: each must come out, and the valid lines that
    # name people again (remarriages, couples as parents...) stay valid.
    args = ["--records", "4000", "--seed", "23", "--commune", "18568", "--edits", "600",
            "--bad", "0.2"]
    for c in PERSON_RULES:
        args += ["--bad-class", c]
    by_class, path = check_file(tuphap, None, tmp, "own-person-rules", args)
    missing = [c for c in PERSON_RULES if by_class.get(c, 0) == 0]
    if missing:
        sys.exit(f"FAIL own-person-rules: no line built for {missing}")
    paths = valid_paths(path)
    if not all(paths.values()):
        sys.exit(f"FAIL own-person-rules: a valid path is never taken: {paths}")
    print(f"ok own-person-rules: valid lines naming people again: {paths}")


def main():
    tuphap, gen = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
    with tempfile.TemporaryDirectory(prefix="tuphap-gen-") as tmp:
        if gen is None:
            check_own(tuphap, tmp)
            return 0
        # A commune node: one commune, edits, bad lines of every class gen.py makes.
        check_file(tuphap, gen, tmp, "commune",
                   ["--records", "4000", "--seed", "21", "--communes", "1", "--edits", "400",
                    "--bad", "0.1"],
                   )
        # A provincial hub: many communes of province 56.
        check_file(tuphap, gen, tmp, "hub",
                   ["--records", "4000", "--seed", "22", "--province", "56", "--communes", "8",
                    "--edits", "300", "--bad", "0.1"],
                   province="56")
    return 0


if __name__ == "__main__":
    sys.exit(main())
