#!/usr/bin/env python3
"""The message catalogue's tool (po/vi.po; docs/architecture.md, "Messages").

  i18n_extract.py convert [FILE...]   moves every Tr(ctx, "English", "Vietnamese")
      pair (literals joined with +, variables become {0}, {1}...) into po/vi.po
      and rewrites the call as Tr(ctx, "English") or Tr(ctx, "English", {a, b}).
      Default files: cli/*.cc node/app/*.cc. An English text that already has
      another Vietnamese gets a msgctxt (the file's name) and becomes TrCtx.
      Pairs it cannot convert (a variable on one side only, no literal) are
      listed and left alone: convert them by hand.
  i18n_extract.py check [--stubs]     fails (exit 1) when a Tr pair is left in
      cli/ or node/app/, when a Tr/TrCtx English text has no entry, or when an
      English Status message of node/, base/, replication/, crdt/, cli/
      (Status::X(...), .Annotate(...), the MESSAGE_HELPERS) has no entry (exact
      or template), or when one is built from variables only and is not in
      OPAQUE_MESSAGES; --stubs prints PO stubs for the missing ones.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PO = os.path.join(ROOT, "po", "vi.po")
ERROR_CODES = ("InvalidArgument|NotFound|AlreadyExists|FailedPrecondition|PermissionDenied|"
               "Corruption|IoError|Unavailable|ResourceExhausted|Aborted|Cancelled|Internal")


# --- C++ scanning ---------------------------------------------------------

def skip_literal(s, i):
    """Index just past the string or char literal starting at s[i]."""
    q = s[i]
    i += 1
    while i < len(s) and s[i] != q:
        i += 2 if s[i] == "\\" else 1
    return i + 1


def code_positions(s):
    """Yields (index, char) of s outside comments and literals, and literal spans."""
    i = 0
    while i < len(s):
        c = s[i]
        if s.startswith("//", i):
            i = s.find("\n", i)
            if i < 0:
                return
            continue
        if s.startswith("/*", i):
            i = s.find("*/", i) + 2
            continue
        if c in "\"'":
            j = skip_literal(s, i)
            yield i, c
            i = j
            continue
        yield i, c
        i += 1


def call_args(s, open_paren):
    """(args as [(start, end)], index past the closing paren) of the call at s[open_paren]."""
    depth, start, args = 0, open_paren + 1, []
    i = open_paren
    while i < len(s):
        c = s[i]
        if s.startswith("//", i):
            i = s.find("\n", i)
            continue
        if c in "\"'":
            i = skip_literal(s, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append((start, i))
                return args, i + 1
        elif c == "," and depth == 1:
            args.append((start, i))
            start = i + 1
        i += 1
    raise ValueError("unbalanced call at %d" % open_paren)


def split_plus(expr):
    """Top-level + operands of expr."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'":
            i = skip_literal(expr, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "?" and depth == 0:
            return [expr]  # a ternary: one operand
        elif c == "+" and depth == 0 and expr[i + 1:i + 2] != "+" and expr[i - 1:i] != "+":
            parts.append(expr[start:i])
            start = i + 1
        i += 1
    parts.append(expr[start:])
    return [p.strip() for p in parts]


LIT_RE = re.compile(r'^(?:\s*"(?:[^"\\]|\\.)*"\s*)+$', re.S)


def literal_text(piece):
    """The C-escaped text of a piece made of string literals (or std::string("...")), else None."""
    m = re.match(r'^std::string(?:_view)?\((.*)\)$', piece, re.S)
    if m and LIT_RE.match(m.group(1)):
        piece = m.group(1)
    if not LIT_RE.match(piece):
        return None
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', piece))


def norm(expr):
    return re.sub(r"\s+", " ", expr.strip())


def template(expr, names):
    """(C-escaped template, names) for a + chain; names maps expression -> slot."""
    out, had_literal = "", False
    for piece in split_plus(expr):
        t = literal_text(piece)
        if t is not None:
            out += t
            had_literal = True
            continue
        key = norm(piece)
        if names is None:
            return None
        if key not in names:
            names[key] = len(names)
        out += "{%d}" % names[key]
    return out if had_literal else None


# --- the PO file ----------------------------------------------------------

def po_quote(text):
    return '"' + text + '"'  # text is already C-escaped, as PO wants


def load_po(path=None):
    path = path or PO  # read now: a test points PO elsewhere
    entries = {}
    if not os.path.exists(path):
        return entries
    ctxt, mid, mstr, cur = None, None, None, None
    def flush():
        if mid is not None:
            entries[(ctxt or "", mid)] = mstr or ""
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^(msgctxt|msgid|msgstr)\s+"(.*)"$', line)
        if m:
            key, val = m.groups()
            if key == "msgctxt":
                flush(); ctxt, mid, mstr = val, None, None
            elif key == "msgid":
                if cur != "msgctxt":
                    flush(); ctxt = None
                mid, mstr = val, None
            else:
                mstr = val
            cur = key
        elif line.startswith('"'):
            val = line[1:-1]
            if cur == "msgctxt": ctxt += val
            elif cur == "msgid": mid += val
            elif cur == "msgstr": mstr = (mstr or "") + val
    flush()
    return entries


def po_entry(ctxt, mid, mstr, where):
    s = "\n#: %s\n" % where
    if "{" in mid:
        s += "#, c-format\n" if False else ""
    if ctxt:
        s += "msgctxt %s\n" % po_quote(ctxt)
    return s + "msgid %s\nmsgstr %s\n" % (po_quote(mid), po_quote(mstr))


def append_po(new):
    with open(PO, "a", encoding="utf-8") as f:
        for e in new:
            f.write(po_entry(*e))


def calls(src, pat, skip_comments=False):
    """(match, [(start, end) of each argument], end) of every call of `pat`
    (a regex ending at the opening parenthesis) in `src` whose arguments
    parse; with skip_comments, not those after // on their line."""
    for m in pat.finditer(src):
        if skip_comments:
            line_start = src.rfind("\n", 0, m.start()) + 1
            if "//" in src[line_start:m.start()]:
                continue
        try:
            args, end = call_args(src, m.end() - 1)
        except ValueError:
            continue
        yield m, args, end


# --- convert --------------------------------------------------------------

TR_RE = re.compile(r"(?<![A-Za-z0-9_:.>])Tr\(")


def find_pairs(src):
    """Yields (start, end, ctx_expr, en_expr, vi_expr) for every three-argument Tr call."""
    for m, args, end in calls(src, TR_RE, skip_comments=True):
        if len(args) != 3:
            continue
        a = [src[x:y] for x, y in args]
        if a[2].strip().startswith("{"):
            continue  # already the new form
        yield m.start(), end, a[0].strip(), a[1], a[2]


def convert(files):
    entries = load_po()
    new, failed, count = [], [], 0
    for path in files:
        src = open(path, encoding="utf-8").read()
        out, last = [], 0
        stem = os.path.splitext(os.path.basename(path))[0]
        for start, end, ctx, en, vi in find_pairs(src):
            line = src.count("\n", 0, start) + 1
            names = {}
            en_t = template(en, names)
            vi_names = dict(names)
            vi_t = template(vi, vi_names)
            if en_t is None or vi_t is None or vi_names != names:
                failed.append("%s:%d: Tr(%s, %s, %s)" % (path, line, ctx, norm(en), norm(vi)))
                continue
            ctxt = ""
            have = entries.get(("", en_t))
            if have is not None and have != vi_t:
                ctxt = stem
                have = entries.get((ctxt, en_t))
                if have is not None and have != vi_t:
                    failed.append("%s:%d: '%s' has two translations in one file" % (path, line, en_t))
                    continue
            if have is None:
                entries[(ctxt, en_t)] = vi_t
                new.append((ctxt, en_t, vi_t, "%s:%d" % (os.path.relpath(path, ROOT), line)))
            args = sorted(names, key=names.get)
            call = ("TrCtx(%s, %s, %s" % (ctx, po_quote(ctxt), po_quote(en_t)) if ctxt
                    else "Tr(%s, %s" % (ctx, po_quote(en_t)))
            if args:
                call += ", {" + ", ".join(args) + "}"
            call += ")"
            out.append(src[last:start])
            out.append(call)
            last = end
            count += 1
        out.append(src[last:])
        text = "".join(out)
        if text != src:
            open(path, "w", encoding="utf-8").write(text)
    append_po(new)
    print("converted %d call(s), %d new catalogue entr(y/ies)" % (count, len(new)))
    for f in failed:
        print("NOT CONVERTED (do it by hand): " + f)
    return 1 if failed else 0


# --- check ----------------------------------------------------------------

def source_files(dirs, pattern=("*.cc", "*.h")):
    for d in dirs:
        for p in pattern:
            for f in sorted(glob.glob(os.path.join(ROOT, d, "**", p), recursive=True)):
                base = os.path.basename(f)
                if "_test" in base or base.startswith("test_") or "/build/" in f:
                    continue
                yield f


# Status messages whose text the check cannot see (no literal in the
# expression), each allowed with the reason it needs no entry of its own.
# Keyed by file and expression (blanks squeezed), not by line, so an entry
# does not rot when the file moves. Any other such message is a problem:
# write its text where the Status is built, or list it here with a reason.
OPAQUE_MESSAGES = {
    ("node/domain/registry.cc", '(p.field.empty() ? "" : p.field + ": ") + p.message'):
        "a validator problem: domain::Format already wrote it in the office's language",
    ("node/node_security.cc", "s.message()"):
        "Unlock's own Status message, checked where Unlock builds it",
    ("node/reconcile/walk.cc", "where"):
        "the side a reconcile error came from, put before a message checked where it is built",
    ("node/store/sqlite.cc", "detail"):
        "SQLite's own text (sqlite3_errmsg) of a constraint failure, not a message of ours",
    ("replication/certificate.cc", "what"):
        "the name of the object read, put before a message checked where it is built",
    ("cli/cmd_person.cc", "first"):
        "a record key (the first difference of the person index), not words",
    ("cli/cmd_security.cc", "sign->request"): "a file name",
    ("cli/cmd_security.cc", "*cert_file"): "a file name",
    ("node/sync.cc", "message"): "SyncSession::Fail's message: see MESSAGE_HELPERS",
    ("replication/change_codec.cc", "what"): "CheckLimits' over(): see MESSAGE_HELPERS",
    ("crdt/change.cc", "std::move(m)"): "Change::CheckShape's bad(): see MESSAGE_HELPERS",
}

# Helpers that make a Status from a message their callers write: (file, name)
# -> the argument holding the message, checked like Status::X(...)'s.
MESSAGE_HELPERS = {
    ("node/sync.cc", "Fail"): 1,
    ("replication/change_codec.cc", "over"): 0,
    ("crdt/change.cc", "bad"): 0,
}

# A message translated where it is built (the CLI's Tr, the node's
# domain::Tr and Say): its text is checked as a Tr text.
TRANSLATED_RE = re.compile(r"(?<![A-Za-z0-9_])(?:Tr|TrCtx|Say)\(")


def status_messages(opaque=None):
    """(template, where) of every English Status message built in node code.
    A message built only from variables is added to `opaque` as (where,
    file, expression) instead."""
    pat = re.compile(r"(?<![A-Za-z0-9_])(?:Status::(?:%s)|\.Annotate)\(" % ERROR_CODES)
    for f in source_files(["node", "base", "replication", "crdt", "cli"]):
        src = open(f, encoding="utf-8").read()
        rel = os.path.relpath(f, ROOT)
        for name, index in MESSAGE_HELPERS.items():
            if name[0] != rel:
                continue
            for m, args, _ in calls(src, re.compile(r"(?<![A-Za-z0-9_.>:])%s\(" % name[1])):
                if len(args) <= index:
                    continue
                t = template(src[args[index][0]:args[index][1]], {})
                if t is not None:
                    yield t, "%s:%d" % (rel, src.count("\n", 0, m.start()) + 1)
        for m, args, _ in calls(src, pat, skip_comments=True):
            if not args:
                continue
            expr = src[args[0][0]:args[0][1]]
            where = "%s:%d" % (os.path.relpath(f, ROOT), src.count("\n", 0, m.start()) + 1)
            # cond ? "a" : "b" -> both
            tern = re.match(r'^[^"?]*\?\s*("(?:[^"\\]|\\.)*")\s*:\s*("(?:[^"\\]|\\.)*")\s*$', expr, re.S)
            if tern:
                for g in tern.groups():
                    yield literal_text(g), where
                continue
            t = template(expr, {})
            if t is not None and re.search(r"[A-Za-z]{2}", t):
                yield t, where
            elif t is None and not TRANSLATED_RE.search(expr) and opaque is not None:
                opaque.append((where, rel, norm(expr)))


def tr_msgids(files):
    pat = re.compile(r'(?<![A-Za-z0-9_:.>])(Tr|TrCtx)\(')
    for f in files:
        src = open(f, encoding="utf-8").read()
        for m, args, _ in calls(src, pat):
            a = [src[x:y].strip() for x, y in args]
            where = "%s:%d" % (os.path.relpath(f, ROOT), src.count("\n", 0, m.start()) + 1)
            if m.group(1) == "Tr" and len(a) >= 2:
                t = literal_text(a[1])
                if t is not None:
                    yield "", t, where
            elif m.group(1) == "TrCtx" and len(a) >= 3:
                c, t = literal_text(a[1]), literal_text(a[2])
                if c is not None and t is not None:
                    yield c, t, where


def help_texts(files):
    """(text, where) of every command and option description given to CLI11."""
    pat = re.compile(r"(?:\badd|add_subcommand|add_option|add_flag|set_help_all_flag|set_help_flag|set_version_flag)\(")
    for f in files:
        src = open(f, encoding="utf-8").read()
        for m, args, _ in calls(src, pat):
            if len(args) < 2:
                continue
            where = "%s:%d" % (os.path.relpath(f, ROOT), src.count("\n", 0, m.start()) + 1)
            last = literal_text(src[args[-1][0]:args[-1][1]].strip())
            if last is not None and re.search(r"[a-z]{2}", last) and not last.startswith("-"):
                yield last, where
            for x, y in args[1:-1]:  # add("name", "description", callback)
                t = literal_text(src[x:y].strip())
                if t is not None and " " in t:
                    yield t, where


def matches_template(msg, templates):
    for rx in templates:
        if rx.match(msg):
            return True
    return False


def check(stubs):
    entries = load_po()
    problems, missing = [], []
    front = [f for d in ("cli", "node/app") for f in glob.glob(os.path.join(ROOT, d, "*.cc"))
             if "_test" not in f]
    for f in front:
        src = open(f, encoding="utf-8").read()
        for start, _, ctx, en, vi in find_pairs(src):
            problems.append("%s:%d: a Tr pair is left (run scripts/i18n_extract.py convert)" %
                            (os.path.relpath(f, ROOT), src.count("\n", 0, start) + 1))
    for ctxt, t, where in tr_msgids(front):
        if not entries.get((ctxt, t)):
            problems.append("%s: no Vietnamese for '%s'" % (where, t))
            missing.append((ctxt, t, where))
    for t, where in help_texts(front):
        if not entries.get(("", t)):
            problems.append("%s: no Vietnamese for the help text '%s'" % (where, t))
            missing.append(("", t, where))
    # A Status message passes when an entry translates it exactly or as a
    # template; literal runs of the message stand for themselves.
    templates = []
    for (c, mid) in entries:
        if c or not entries[(c, mid)]:
            continue
        parts = re.split(r"\{\d\}", mid)
        templates.append(re.compile("^" + "(.+?)".join(re.escape(p) for p in parts) + "$", re.S))
    seen, opaque = set(), []
    for t, where in status_messages(opaque):
        if t in seen:
            continue
        seen.add(t)
        probe = re.sub(r"\{\d\}", "X1", t)
        if entries.get(("", t)) or matches_template(probe, templates):
            continue
        problems.append("%s: no Vietnamese for the Status message '%s'" % (where, t))
        missing.append(("", t, where))
    for where, rel, expr in opaque:
        if (rel, expr) not in OPAQUE_MESSAGES:
            problems.append("%s: a Status message built from variables only (%s): write its "
                            "text where the Status is built (whole sentences, variables in "
                            "them), or list it in OPAQUE_MESSAGES with the reason it needs no "
                            "entry" % (where, expr))
    for p in problems:
        print(p)
    if stubs:
        for e in missing:
            sys.stdout.write(po_entry(e[0], e[1], "", e[2]))
    print("%d problem(s); %d catalogue entries; %d Status messages checked" %
          (len(problems), len(entries), len(seen)))
    return 1 if problems else 0


def main(argv):
    if len(argv) < 2 or argv[1] not in ("convert", "check"):
        print(__doc__)
        return 2
    if argv[1] == "convert":
        files = argv[2:] or sorted(glob.glob(os.path.join(ROOT, "cli", "*.cc")) +
                                   glob.glob(os.path.join(ROOT, "node", "app", "*.cc")))
        return convert([f for f in files if "_test" not in f])
    return check("--stubs" in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
