"""scripts/i18n_extract.py check on a small tree of its own: a Status message
built from variables only is reported (not skipped), unless OPAQUE_MESSAGES
lists it; the literal messages callers hand to a MESSAGE_HELPERS helper are
checked like Status::X(...)'s; and one built where it is translated (Tr) is
left to the Tr check.

usage: extract_check_test.py SCRIPTS_DIR
"""
import contextlib
import io
import os
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
import i18n_extract as m  # noqa: E402

SOURCE = r'''
Status NoProgress(const Dial& d) {
  std::string head = "no batch acknowledged with " + d.endpoint + ": ", why = "no connection";
  return Status::Unavailable(head + why);
}
Status Fail(std::string code, std::string message) {
  return Status::FailedPrecondition(message);
}
Status Hello() { return Fail("E_PROTOCOL", "a session starts with HELLO"); }
Status Known() { return Status::NotFound("record " + id + " is unknown"); }
Status Said() { return Status::NotFound(domain::Tr(lang, "said {0}", {x})); }
'''
PO = '''msgid ""
msgstr ""

msgid "record {0} is unknown"
msgstr "không biết hồ sơ {0}"
'''


def run_check():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = m.check(False)
    return rc, out.getvalue()


def main():
    failures = []
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "node"))
        os.makedirs(os.path.join(root, "po"))
        with open(os.path.join(root, "node", "dialer.cc"), "w", encoding="utf-8") as f:
            f.write(SOURCE)
        with open(os.path.join(root, "po", "vi.po"), "w", encoding="utf-8") as f:
            f.write(PO)
        m.ROOT, m.PO = root, os.path.join(root, "po", "vi.po")
        # (getattr: a script without these lists must fail the checks below,
        # not stop here)
        opaque, helpers = getattr(m, "OPAQUE_MESSAGES", {}), getattr(m, "MESSAGE_HELPERS", {})
        opaque.clear()
        helpers.clear()
        rc, out = run_check()
        if rc == 0 or "node/dialer.cc:4: a Status message built from variables only (head + why)" \
                not in out:
            failures.append("head + why was not reported:\n" + out)
        if "variables only (message)" not in out:
            failures.append("Fail's message was not reported:\n" + out)
        if "said" in out or "is unknown" in out:
            failures.append("a translated or catalogued message was reported:\n" + out)
        # Listed with a reason, and Fail named as a helper: its caller's
        # literal is checked instead, and has no entry.
        opaque[("node/dialer.cc", "head + why")] = "a test"
        opaque[("node/dialer.cc", "message")] = "a test"
        helpers[("node/dialer.cc", "Fail")] = 1
        rc, out = run_check()
        if "variables only" in out:
            failures.append("a listed message was reported:\n" + out)
        if rc == 0 or "no Vietnamese for the Status message 'a session starts with HELLO'" \
                not in out:
            failures.append("the helper's caller was not checked:\n" + out)
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
