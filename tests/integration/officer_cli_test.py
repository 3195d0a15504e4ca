"""Officer accounts through the real binary (issue 14): `tuphap officer add`,
`list`, `disable`, `enable` and `passwd` on a commune node, with no key
passphrase anywhere in the environment (accounts need no private key) and no
terminal (a missing password is a clear error, not a prompt). What the
commands leave in the store is read back with sqlite3: one row per account,
an Argon2id hash with the limits this build chooses, a lockout ended by a
new password.

usage: officer_cli_test.py TUPHAP TEST_KDF   (TEST_KDF: 1 when the build has
TUPHAP_TEST_KDF, so TUPHAP_KDF=weak gives the smallest limits)
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

TUPHAP = os.path.abspath(sys.argv[1])
TEST_KDF = sys.argv[2] in ("1", "ON", "TRUE", "true")
COMMUNE = "22333"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def env(**extra):
    e = {k: v for k, v in os.environ.items()
         if k not in ("TUPHAP_PASSPHRASE", "TUPHAP_OFFICER_PASSWORD", "LANG", "LC_ALL",
                      "LC_MESSAGES")}
    e["TUPHAP_KDF"] = "weak"
    e.update(extra)
    return e


def tp(data, *args, expect=0, **extra):
    # A new session has no controlling terminal: nothing can be prompted.
    r = subprocess.run([TUPHAP, "--data", data, *args], capture_output=True, text=True,
                       env=env(**extra), start_new_session=True, stdin=subprocess.DEVNULL,
                       timeout=120)
    check(r.returncode == expect,
          f"tuphap {' '.join(args)}: exit {r.returncode}, wanted {expect}: {r.stderr.strip()}")
    return r


def rows(data):
    db = sqlite3.connect(os.path.join(data, "tuphap.db"))
    try:
        return {r[0]: r[1:] for r in db.execute(
            "SELECT login, name, role, password_hash, disabled, failures, locked_until_ms "
            "FROM officers")}
    finally:
        db.close()


def scenario(root):
    # An enrolled commune and its hub: the node holds key grants and
    # certificates, and still no passphrase is wanted.
    data, hub = os.path.join(root, "c1"), os.path.join(root, "hub")
    keys = {"TUPHAP_PASSPHRASE": "pass-phrase"}
    tp(hub, "init", "--role", "hub", "--province", "56", **keys)
    tp(data, "init", "--role", "commune", "--commune", COMMUNE, **keys)
    req, cert = os.path.join(root, "c1.req"), os.path.join(root, "c1.enrol")
    tp(data, "enroll", "request", "--out", req, **keys)
    tp(hub, "enroll", "sign", req, "--out", cert, **keys)
    tp(data, "enroll", "accept", cert, **keys)
    tp(hub, "officer", "add", "op", "--name", "Phạm Thu Hà", "--role", "operator",
       TUPHAP_OFFICER_PASSWORD="operator-password")
    check(list(rows(hub)) == ["op"], f"hub accounts: {rows(hub)}")
    pw = "mật khẩu của Lan"

    r = tp(data, "officer", "add", "lan", "--name", "Nguyễn Thị Lan", "--role", "officer",
           TUPHAP_OFFICER_PASSWORD=pw)
    check("lan" in r.stdout and "Nguyễn Thị Lan" in r.stdout, f"add said: {r.stdout!r}")
    r = tp(data, "--json", "officer", "add", "Tuan", "--name", "Trần Văn Tuấn", "--role", "head",
           TUPHAP_OFFICER_PASSWORD="head-password")
    added = json.loads(r.stdout)
    check(added["login"] == "tuan" and added["role"] == "head" and not added["disabled"],
          f"add --json: {added}")
    # The console an operator uses is the hub's: refused on a commune.
    r = tp(data, "officer", "add", "op", "--name", "Lê Văn Ba", "--role", "operator", expect=2,
           TUPHAP_OFFICER_PASSWORD="operator-password", LANG="vi_VN.UTF-8")
    check("chỉ dùng trên máy chủ của Sở" in r.stderr, f"operator on a commune: {r.stderr!r}")
    r = tp(data, "officer", "add", "op", "--name", "Lê Văn Ba", "--role", "head",
           TUPHAP_OFFICER_PASSWORD="operator-password", LANG="vi_VN.UTF-8")
    check("đã thêm tài khoản cán bộ op" in r.stdout, f"Vietnamese add: {r.stdout!r}")

    # Refusals: exit codes as the README gives them, nothing stored.
    r = tp(data, "officer", "add", "lan", "--name", "Lan Khác", "--role", "officer", expect=4,
           TUPHAP_OFFICER_PASSWORD=pw)
    check("already taken" in r.stderr, f"taken: {r.stderr!r}")
    tp(data, "officer", "add", "hoa", "--name", "Hoa", "--role", "chief", expect=2,
       TUPHAP_OFFICER_PASSWORD=pw)
    r = tp(data, "officer", "add", "hoa xa", "--name", "Hoa", "--role", "officer", expect=2,
           TUPHAP_OFFICER_PASSWORD=pw)
    check("login 'hoa xa'" in r.stderr, f"bad login: {r.stderr!r}")
    r = tp(data, "officer", "add", "hoa", "--name", "Hoa", "--role", "officer", expect=2,
           TUPHAP_OFFICER_PASSWORD="short")
    check("shorter than 10 bytes" in r.stderr, f"short password: {r.stderr!r}")
    r = tp(data, "officer", "add", "hoa", "--name", "Hoa", "--role", "officer", expect=4)
    check("TUPHAP_OFFICER_PASSWORD" in r.stderr, f"no password, no terminal: {r.stderr!r}")
    check(sorted(rows(data)) == ["lan", "op", "tuan"], f"stored: {sorted(rows(data))}")
    check(list(rows(hub)) == ["op"], "the commune's accounts reached the hub's store")

    stored = rows(data)
    for login, (_, _, hash_, *_rest) in stored.items():
        limits = "m=8,t=1," if TEST_KDF else "m=65536,t=2,"
        check(hash_.startswith("$argon2id$v=19$" + limits), f"{login}: hash {hash_}")
        check(pw not in hash_, "the password is in the store")
    check(stored["lan"][:2] == ("Nguyễn Thị Lan", "officer"), f"lan: {stored['lan']}")

    listed = json.loads(tp(data, "--json", "officer", "list").stdout)["officers"]
    check([o["login"] for o in listed] == ["lan", "op", "tuan"], f"list: {listed}")
    check([o["role"] for o in listed] == ["officer", "head", "head"], f"roles: {listed}")
    check(all(o["locked_until"] is None and not o["disabled"] for o in listed), f"{listed}")
    text = tp(data, "officer", "list", LANG="vi_VN.UTF-8").stdout
    check("tên đăng nhập" in text and "Trần Văn Tuấn" in text and "đang dùng" in text,
          f"Vietnamese list: {text!r}")

    r = tp(data, "officer", "disable", "lan")
    check("disabled officer account lan" in r.stdout, r.stdout)
    check(rows(data)["lan"][3] == 1, "disable did not disable")
    lines = [l for l in tp(data, "officer", "list").stdout.splitlines() if l.startswith("lan ")]
    check(len(lines) == 1 and "disabled" in lines[0], f"list after disable: {lines}")
    tp(data, "officer", "enable", "lan")
    check(rows(data)["lan"][3] == 0, "enable did not enable")
    tp(data, "officer", "disable", "nobody", expect=3)

    # A locked account (five wrong passwords at the login page) is opened
    # by a new password.
    db = sqlite3.connect(os.path.join(data, "tuphap.db"))
    db.execute("UPDATE officers SET failures = 5, locked_until_ms = 32503680000000 "
               "WHERE login = 'lan'")
    db.commit()
    db.close()
    listed = {o["login"]: o for o in
              json.loads(tp(data, "--json", "officer", "list").stdout)["officers"]}
    # JSON times are ISO 8601 in the node's zone, with its offset.
    check(listed["lan"]["locked_until"] == "3000-01-01T07:00:00+07:00", f"{listed['lan']}")
    check("locked until 01/01/3000 07:00 (UTC+07:00)" in tp(data, "officer", "list").stdout,
          "list shows no lock, or not in the people's form of a time")
    before = rows(data)["lan"][2]
    r = tp(data, "officer", "passwd", "lan", TUPHAP_OFFICER_PASSWORD="a new password")
    check("new password set for lan" in r.stdout, r.stdout)
    after = rows(data)["lan"]
    check(after[2] != before and after[2].startswith("$argon2id$"), "passwd kept the old hash")
    check(after[4:] == (0, 0), f"passwd left the lock: {after}")
    tp(data, "officer", "passwd", "nobody", expect=3, TUPHAP_OFFICER_PASSWORD="a new password")
    tp(data, "officer", "passwd", "tuan", expect=2, TUPHAP_OFFICER_PASSWORD="short")
    r = tp(data, "officer", "passwd", "tuan", expect=4)
    check("TUPHAP_OFFICER_PASSWORD" in r.stderr, r.stderr)
    print("ok")


def main():
    root = tempfile.mkdtemp(prefix="tuphap-officer-cli-")
    try:
        scenario(root)
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        if os.environ.get("TUPHAP_KEEP") is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
