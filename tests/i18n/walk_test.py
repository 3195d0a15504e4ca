#!/usr/bin/env python3
"""Walks every command of tuphap under English and Vietnamese and fails on an
untranslated string (docs/architecture.md, "Messages").

Every command found in `tuphap --help` (recursively) runs: its --help, a run
against a missing node, a run with an unknown option, and for the cheap ones a
successful run and a run with a bad input file. Under LANG=vi_VN.UTF-8 and
TUPHAP_I18N_STRICT=1 a catalogue miss prints "[UNTRANSLATED]"; besides that,
a Vietnamese line fails when it holds a common English word outside machine
tokens (quoted text, key="value" fields, paths, option names, ids, codes,
JSON). JSON output must
have the same keys in both languages.

The success paths that need a served hub run too, once per language on nodes
of their own (they change state, so they cannot run twice on one node): a hub
serves on loopback while a commune enrols, syncs, exports and imports a
bundle, leases numbers, revokes a record and reconciles, backs up, lists its
receipts, and a copy restored from the backup shows its status and refuses a
write (E_RESTORED), the hub revokes a node and reports, and an officer
account is added and listed. Each of those runs must exit as it should (0,
or the refusal's code for the two that must fail: the restored write and a
sync with a closed port) and print something in both languages (a crash is
no pass), and serve's own lines are checked as well. Usage: walk_test.py
TUPHAP
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

TUPHAP = os.path.abspath(sys.argv[1])
ENGLISH = set("""the of and not found accepted refused error errors record records node nodes with
from this that is are was were must cannot already missing file files lines line nothing every
written created first give only which has have be for by yet there into after before when should
could would unknown invalid failed enrolled synced sent received changes duplicates duplicate
present new none held keys key usage required expected argument arguments help print exit
options option commands command run directory default see more information conflict conflicts
open list show wrote applied caught up at on stopped listening dialling syncing leased revoked
bundle encrypted connection connections lost session ended bytes numbers register field value
type role date birth death marriage child commune""".split())
# A field path shown to people without its label: its label comes first and
# the path follows in parentheses ("Nội dung › Trẻ › Giới tính (data.child.sex)").
BARE_PATH = re.compile(r"(?<![(\w.=])(?:data|book)\.[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*"
                       r"(?![\w.=)\[])")

BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
BASE_ENV.update(TUPHAP_PASSPHRASE="password1", TUPHAP_KDF="weak", TUPHAP_I18N_STRICT="1",
                TUPHAP_OFFICER="walker")


def run(args, lang, cwd):
    env = dict(BASE_ENV, LANG=lang, TUPHAP_OFFICER_PASSWORD="walker-password-1")
    p = subprocess.run([TUPHAP] + args, cwd=cwd, env=env, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def subcommands(path, cwd):
    _, out = run(path + ["--help"], "C.UTF-8", cwd)
    names, inside = [], False
    for line in out.splitlines():
        if line.strip().endswith(":") and not line.startswith(" "):
            inside = line.strip() == "Subcommands:"
            continue
        m = re.match(r"^  ([a-z][a-z-]*)\s", line)
        if inside and m:
            names.append(m.group(1))
    return names


def walk(path, cwd, out):
    out.append(path)
    for name in subcommands(path, cwd):
        walk(path + [name], cwd, out)


# Quoted text and key="value" fields are machine text as a whole.
QUOTED = re.compile(r'\w+="[^"]*"' + r"|'[^']*'" + r'|"[^"]*"')
# A token is a machine token (a path, key=value, an id, a number, an
# address, a placeholder, a variable, an option) when it holds one of these,
# or starts with "-" (an option). Dots, colons and dashes are not enough: a
# sentence's last word ends with "." and the word before a colon with ":".
MACHINE_CHAR = re.compile(r"[/=_0-9@<>\[\]{}$|]")


def machine_token(token):
    word = token.rstrip(".,:;!?")
    return (MACHINE_CHAR.search(word) is not None or word.startswith("-")
            # a field path or file name (child.sex), a list (commune,type)
            or re.search(r"[a-z][.,][a-z]", word) is not None
            or (len(word) > 1 and word.upper() == word and word.lower() != word))  # E_CODE, HELLO


def drop_commands(s, command_names):
    """`s` without the command lines it names ("tuphap index rebuild"):
    a command's words are English as a name, never as text."""
    out, toks, i = [], s.split(), 0
    while i < len(toks):
        if toks[i].strip("(),.:;'\"") == "tuphap":
            i += 1
            while i < len(toks) and toks[i].strip("(),.:;'\"") in command_names:
                i += 1
            continue
        out.append(toks[i])
        i += 1
    return " ".join(out)


def english_words(line, command_names):
    s = line.strip()
    if s.startswith("{") or s.startswith("["):
        return []  # JSON: machine format
    s = s.replace("JSON Lines", " ")
    if line.startswith("  ") and not line.startswith("   "):
        s = re.sub(r"^\S+", " ", s)  # help: the command or option column
    s = QUOTED.sub(" ", s)
    s = drop_commands(s, command_names)
    bare = BARE_PATH.findall(s)
    s = " ".join(t for t in s.split() if not machine_token(t))
    words = re.findall(r"[A-Za-z]+", s)
    # A command's name is English only when it stands for the command, in a
    # "tuphap ..." line (dropped above): "record", "commune" elsewhere are text.
    return [w for w in words if w.lower() in ENGLISH] + ["unlabelled " + p for p in bare]


def keys(j, prefix=""):
    out = set()
    if isinstance(j, dict):
        for k, v in j.items():
            out.add(prefix + "/" + k)
            out |= keys(v, prefix + "/" + k)
    elif isinstance(j, list):
        for v in j:
            out |= keys(v, prefix + "[]")
    return out


def json_keys(text):
    out = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") or line.startswith("["):
            try:
                out |= keys(json.loads(line))
            except ValueError:
                pass
    return out


def vietnamese_problems(label, text, names):
    out = []
    for line in text.splitlines():
        if "[UNTRANSLATED]" in line:
            out.append("%s: untranslated: %s" % (label, line.strip()))
            continue
        words = english_words(line, names)
        if words:
            out.append("%s: English (%s): %s" % (label, ", ".join(words), line.strip()))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, serve, log_path):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert serve.poll() is None, "serve exited: " + open(log_path, encoding="utf-8").read()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not listen on %d" % port)


def served_runs(work, lang, names):
    """The success paths of a served hub, in `lang`, on nodes made for it:
    [(label, exit code, output)], serve's own output last."""
    w = os.path.join(work, "served-" + lang.split(".")[0])
    os.makedirs(w)
    hub, c, c2 = (os.path.join(w, n) for n in ("hub", "c", "c2"))

    def setup(args):
        code, out = run(args, "C.UTF-8", w)
        assert code == 0, "%s: %s" % (args, out)
        return out

    setup(["--data", hub, "init", "--role", "hub", "--province", "56"])
    setup(["--data", c, "init", "--role", "commune", "--commune", "22333"])
    setup(["--data", c2, "init", "--role", "commune", "--commune", "22333", "--secondary"])
    gen = os.path.join(w, "g.jsonl")
    setup(["generate", "--records", "6", "--commune", "22333", "--seed", "9", "--out", gen])
    setup(["--data", c, "import", gen])
    with open(gen, encoding="utf-8") as f:
        first, second = (json.loads(f.readline()) for _ in range(2))
    rid = first.get("data", {}).get("record_id") or first.get("record_id", "")
    rid2 = second.get("data", {}).get("record_id") or second.get("record_id", "")
    # A birth of a child not in g.jsonl, for the restored node to refuse.
    other = os.path.join(w, "other.jsonl")
    setup(["generate", "--records", "40", "--commune", "22333", "--seed", "99", "--out", other])
    one = os.path.join(w, "one.json")
    for line in open(other, encoding="utf-8"):
        d = json.loads(line)
        if d["type"] == "birth":
            json.dump(d["data"], open(one, "w", encoding="utf-8"), ensure_ascii=False)
            break
    closed = "tcp://127.0.0.1:%d" % free_port()  # nothing listens there
    backup, restored = os.path.join(w, "backup"), os.path.join(w, "restored")
    hub_backup, hub_restored = os.path.join(w, "hub-backup"), os.path.join(w, "hub-restored")
    ids = {n: json.loads(setup(["--data", d, "--json", "status"]))["node_id"]
           for n, d in (("hub", hub), ("c", c), ("c2", c2))}
    port = free_port()
    endpoint = "tcp://127.0.0.1:%d" % port
    steps = [
        [c, "enroll", "request", "--out", os.path.join(w, "req")],
        [hub, "enroll", "sign", os.path.join(w, "req"), "--out", os.path.join(w, "enr")],
        [c, "enroll", "accept", os.path.join(w, "enr")],
        [c2, "enroll", "request", "--out", os.path.join(w, "req2")],
        [hub, "enroll", "sign", os.path.join(w, "req2"), "--out", os.path.join(w, "enr2")],
        [c2, "enroll", "accept", os.path.join(w, "enr2")],
        "serve",
        [c, "sync", endpoint, "--once"],
        (1, [c, "sync", closed, "--once", "--timeout", "2"]),
        [c, "backup", "--out", backup],
        [c, "receipts"],
        [c, "--json", "receipts"],
        ("restore", ["restore", backup, "--data", restored]),
        [restored, "status"],
        (4, [restored, "record", "add", "--type", "birth", "--input", one]),
        [c2, "sync", endpoint, "--once"],
        # One field amended on both nodes of the commune: a field conflict
        # for conflicts list and report conflicts once both have synced.
        [c, "record", "amend", rid2, "--field", "data.registrar=Lê Văn Một", "--reason", "walk test"],
        [c2, "record", "amend", rid2, "--field", "data.registrar=Trần Thị Hai", "--reason", "walk test"],
        [c2, "sync", endpoint, "--once"],
        [c, "register", "lease", "--to", ids["c2"], "--register", "KS", "--year", "2026",
         "--count", "20"],
        [c, "record", "revoke", rid, "--reason", "walk test"],
        [c, "sync", endpoint],
        [c, "bundle", "export", "--for", ids["hub"], "--out", os.path.join(w, "to-hub")],
        [hub, "bundle", "import", os.path.join(w, "to-hub")],
        [hub, "bundle", "export", "--for", ids["c"], "--all", "--out", os.path.join(w, "to-c")],
        [c, "bundle", "import", os.path.join(w, "to-c")],
        [c, "report", "reconcile", "--peer", endpoint],
        [hub, "revoke", ids["c2"], "--reason", "walk test"],
        [hub, "report", "status"],
        [hub, "report", "stats"],
        [hub, "report", "conflicts"],
        [c, "conflicts", "list"],
        [hub, "officer", "add", "hoa", "--name", "Lê Thị Hoa", "--role", "operator"],
        [hub, "officer", "list"],
        [c, "status"],
        [c, "record", "history", rid2],
        [hub, "status"],
        [hub, "receipts"],
        [hub, "backup", "--out", hub_backup],
        ("restore", ["restore", hub_backup, "--data", hub_restored]),
    ]
    results = []
    serve_log = os.path.join(w, "serve.log")
    serve = None
    try:
        for step in steps:
            if step == "serve":
                with open(serve_log, "wb") as log:
                    serve = subprocess.Popen(
                        [TUPHAP, "--data", hub, "serve", "--listen", endpoint], cwd=w,
                        env=dict(BASE_ENV, LANG=lang), stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT)
                wait_listening(port, serve, serve_log)
                continue
            want = 0
            if isinstance(step, tuple) and step[0] == "restore":
                args = step[1]  # restore takes --data after its file
            else:
                if isinstance(step, tuple):
                    want, step = step
                args = ["--data"] + step
            label = "[served] tuphap " + " ".join(x.replace(work, "$W") for x in args)
            code, out = run(args, lang, w)
            results.append((label, code - want, out))
    finally:
        if serve is not None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
    results.append(("[served] tuphap serve --listen", serve.returncode,
                    open(serve_log, encoding="utf-8", errors="replace").read()))
    return results


def main():
    work = tempfile.mkdtemp(prefix="tuphap-i18n-")
    c = os.path.join(work, "c")
    hub = os.path.join(work, "hub")
    for args in (["--data", c, "init", "--role", "commune", "--commune", "22333"],
                 ["--data", hub, "init", "--role", "hub", "--province", "56"]):
        code, out = run(args, "C.UTF-8", work)
        assert code == 0, out
    gen = os.path.join(work, "g.jsonl")
    code, out = run(["generate", "--records", "12", "--commune", "22333", "--seed", "5",
                     "--out", gen], "C.UTF-8", work)
    assert code == 0, out
    code, out = run(["--data", c, "import", gen], "C.UTF-8", work)
    assert code == 0, out
    first = json.loads(open(gen, encoding="utf-8").readline())
    rid = first.get("data", {}).get("record_id") or first.get("record_id", "")
    # A person the records name (person show prints their records' table).
    pid = next(v["personal_id"] for v in first["data"].values()
               if isinstance(v, dict) and v.get("personal_id"))
    bad = os.path.join(work, "bad.jsonl")
    open(bad, "w").write('{"op":"create","type":"birth","data":{"child":{}}}\nnot json\n')
    garbage = os.path.join(work, "garbage")
    open(garbage, "wb").write(b"\x00garbage\xff")
    nowhere = os.path.join(work, "nowhere")

    commands = []
    walk([], work, commands)
    names = {w for p in commands for w in p} | {"tuphap", "commune", "hub", "operator", "officer",
                                               "head"}
    runs = []  # (label, args)
    for p in commands:
        runs.append(p + ["--help"])
        if p:
            runs.append(["--data", nowhere] + p)
            runs.append(["--data", c] + p + ["--no-such-option"])
    # Successful runs of the cheap commands, and bad input files.
    ok = [["status"], ["digest"], ["schema"], ["conflicts", "list"], ["record", "search", "nguyen"],
          ["record", "show", rid], ["record", "history", rid], ["officer", "list"],
          ["import", gen], ["enroll", "request", "--out", os.path.join(work, "req")],
          ["index", "check"], ["person", "show", "042225616920"], ["person", "show", pid]]
    failing = [["import", bad], ["import", garbage], ["record", "add", "--type", "birth", "--input",
               garbage], ["enroll", "accept", garbage], ["bundle", "import", garbage],
               ["record", "show", "99999-KS-2025-999999"], ["record", "amend", rid, "--set", "x=1"],
               ["init", "--role", "commune", "--commune", "99999"],
               # the operating system's words (strerror), CLI11's choice lists
               ["backup", "--out", os.path.join(nowhere, "sub", "backup")],
               ["--log-level", "chatty", "status"],
               ["officer", "add", "x", "--name", "X", "--role", "boss"]]
    for a in ok + failing:
        runs.append(["--data", c] + a)
    for a in ok:
        runs.append(["--data", c, "--json"] + a)
    runs.append(["--data", hub, "status"])
    runs.append(["--data", os.path.join(work, "fresh"), "restore", nowhere])
    runs.append(["--data", hub, "report", "stats"])

    problems, walked = [], 0
    for args in runs:
        label = "tuphap " + " ".join(x.replace(work, "$W") for x in args)
        code_en, en = run(args, "C.UTF-8", work)
        code_vi, vi = run(args, "vi_VN.UTF-8", work)
        walked += 1
        if code_en != code_vi:
            problems.append("%s: exit %d in English, %d in Vietnamese" % (label, code_en, code_vi))
        for line in vi.splitlines():
            if "[UNTRANSLATED]" in line:
                problems.append("%s: untranslated: %s" % (label, line.strip()))
                continue
            if line.startswith("Cách dùng:") or line.startswith("Usage:"):
                continue
            words = english_words(line, names)
            if words:
                problems.append("%s: English (%s): %s" % (label, ", ".join(words), line.strip()))
        if "--json" in args and json_keys(en) != json_keys(vi):
            problems.append("%s: JSON keys differ: %s" % (label, sorted(json_keys(en) ^ json_keys(vi))))
    # The success paths that need a served hub, on nodes of each language's own.
    served = {lang: served_runs(work, lang, names) for lang in ("C.UTF-8", "vi_VN.UTF-8")}
    for lang, results in served.items():
        for label, code, out in results:
            if code != 0:
                problems.append("%s (%s): exit %d off what it should be: %s" %
                                (label, lang, code, out.strip()))
            if not out.strip():
                problems.append("%s (%s): printed nothing" % (label, lang))
            if lang.startswith("vi"):
                problems += vietnamese_problems(label, out, names)
    for p in problems:
        print(p)
    served_walked = sum(len(r) for r in served.values())
    print("%d runs of %d commands, %d served runs; %d problem(s)" %
          (walked * 2, len(commands), served_walked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
