#!/usr/bin/env python3
"""Imports files from the shared workload generator (gen.py) and checks that
every line gets exactly the class it was built to exhibit (`expect_error`,
absent for valid lines), and that a second import adds nothing.

Registered with ctest only where ../shared/workload exists; the project's own
generator covers the same ground from a clone alone.

usage: gen_import_test.py TUPHAP GEN_PY
"""
import json
import os
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


def check_file(tuphap, gen, tmp, name, gen_args, province=None):
    path = os.path.join(tmp, name + ".jsonl")
    subprocess.run([sys.executable, gen, *gen_args, "--out", path], check=True)
    with open(path, encoding="utf-8") as f:
        commune = json.loads(f.readline())["commune_code"]
    data = os.path.join(tmp, name)
    if province:
        run(tuphap, "--data", data, "init", "--role", "hub", "--province", province)
    else:
        run(tuphap, "--data", data, "init", "--role", "commune", "--commune", commune)
    expected = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            expected[n] = json.loads(line).get("expect_error")
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
    print(f"ok {name}: {len(expected)} lines, {bad} refused as built "
          f"({len(classes)} classes), re-import adds nothing")


def main():
    tuphap, gen = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="tuphap-gen-") as tmp:
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
