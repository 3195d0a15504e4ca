"""The web app's defences against the real server (issue 14, item 8): a
commune and its hub made with the real binary, `tuphap serve --ui` on each,
officer accounts of every role, and plain HTTP requests as a browser — or an
attacker's page — would send them.

 * no session: pages redirect to the login page, a POST is refused;
 * a POST without the session's CSRF token (the login form, a revocation, a
   registration, an amendment, logging out) is refused with 403;
 * a foreign Host (DNS rebinding) gets 421, a foreign Origin on a POST 403;
 * `<script>` an officer typed (a note through the CLI and through the web
   amend form, a reason) is shown escaped on the record page, the search
   page and the history, never as a tag;
 * an officer (role officer) cannot open the hub console nor resolve or
   revoke; an operator can open the console;
 * a disabled account is refused at login, and its open session is out on
   its next request;
 * five wrong passwords lock the account: the right one then fails too,
   saying it is locked;
 * the session cookie is HttpOnly and SameSite=Strict, and a new one is
   given at login (fixation);
 * every answer carries a Content-Security-Policy without 'unsafe-inline',
   and no page loads anything from another host;
 * a change made through the app carries the officer's name and account id
   in the record's history (`tuphap record history --json`).

The idle timeout is left to web/web_test.cc (a fake clock); here no check
waits for time to pass. Each group of checks runs even when an earlier one
failed, and every failure is listed at the end.

usage: web_security_test.py TUPHAP
"""
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webnode  # noqa: E402
from webnode import Client, check, Failure  # noqa: E402

TUPHAP = os.path.abspath(sys.argv[1])

PASSWORDS = {
    "lan": "lan-password-1",
    "tuan": "tuan-password-1",
    "tam": "tam-password-1",
    "khoa": "khoa-password-1",
    "op": "op-password-1",
    "hoa": "hoa-password-1",
}
NAMES = {
    "lan": "Nguyễn Thị Lan",
    "tuan": "Trần Văn Tuấn",
    "tam": "Lê Minh Tâm",
    "khoa": "Đỗ Đăng Khoa",
    "op": "Phạm Thu Hà",
    "hoa": "Võ Thị Hoa",
}

NOTE_CLI = "<script>alert(1)</script>"
REASON_CLI = "<script>alert(2)</script>"
REVOKE_REASON = "<script>alert(3)</script>"
NOTE_WEB = "<script>alert(4)</script>"
REASON_WEB = "<script>alert(5)</script>"
QUERY = "\"><script>alert(6)</script>"  # also breaks out of a value="..."
NOTE_REFUSED = "'\"><script>alert(7)</script>"


def esc(text):
    """As web/html.h Esc writes it, quotes left out (either entity form is
    fine): the check is that no tag or attribute can be opened."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").lstrip("'\"")


def no_raw_script(resp, where):
    check("<script>alert" not in resp.body,
          f"{where}: a typed <script> reached the page unescaped: "
          f"...{resp.body[max(0, resp.body.find('<script>alert') - 200):][:400]!r}")


def section(body, element_id):
    """The markup of the element with that id up to its closing table or
    section tag (enough to tell where a text is shown)."""
    m = re.search(r'<(\w+)[^>]*\bid="' + re.escape(element_id) + r'"', body)
    if m is None:
        return None
    end = body.find(f"</{m.group(1)}>", m.end())
    return body[m.start():end if end >= 0 else len(body)]


def lookup(data, name):
    """The value of a form field named by its path ("data.child.sex") in a
    record's data, None when it has none."""
    if not name.startswith("data."):
        return None
    node = data
    for part in name.split(".")[1:]:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def login_location(resp):
    loc = resp.header("location") or ""
    return resp.status == 303 and urllib.parse.urlsplit(loc).path == "/login"


class Run:
    def __init__(self, cluster):
        self.cl = cluster
        self.failures = []
        self.clients = []

    def client(self, server, **kw):
        c = Client(server.ui_port, **kw)
        self.clients.append(c)
        return c

    def logged_in(self, server, login):
        c = self.client(server)
        c.login(login, PASSWORDS[login])
        return c

    def group(self, name, fn):
        try:
            fn()
            print(f"ok   {name}")
        except Failure as e:
            print(f"FAIL {name}: {e}")
            self.failures.append(f"{name}: {e}")
        except Exception as e:  # a page missing can break parsing too
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            self.failures.append(f"{name}: {type(e).__name__}: {e}")

    def revoked(self, rid):
        return self.cl.tpj("c", "record", "show", rid)["revoked"]


def scenario(cl):
    cl.init_hub()
    cl.init_commune("c")
    cl.enrol("c")
    for login in ("lan", "tam", "khoa"):
        cl.officer("c", login, NAMES[login], "officer", PASSWORDS[login])
    cl.officer("c", "tuan", NAMES["tuan"], "head", PASSWORDS["tuan"])
    cl.officer("hub", "op", NAMES["op"], "operator", PASSWORDS["op"])
    cl.officer("hub", "hoa", NAMES["hoa"], "officer", PASSWORDS["hoa"])

    births = [r for r in cl.generated() if r.get("type") == "birth"]
    check(len(births) >= 3, f"the generator gave {len(births)} births")
    rid = cl.add_record("c", "birth", births[0]["data"])
    rid2 = cl.add_record("c", "birth", births[1]["data"])
    child = births[0]["data"]["child"]["full_name"]
    # Typed by an officer at the CLI: shown by the app as text.
    cl.tp("c", "record", "amend", rid, "--field", f"data.notes={NOTE_CLI}", "--reason", REASON_CLI)

    hub = cl.serve("hub")
    com = cl.serve("c")
    run = Run(cl)
    rec = f"/records/{urllib.parse.quote(rid)}"
    rec2 = f"/records/{urllib.parse.quote(rid2)}"

    def no_session():
        a = run.client(com)
        for path in ("/", rec, "/search?q=x", "/register/birth", "/conflicts", "/sync"):
            r = a.get(path)
            check(login_location(r), f"GET {path} without a session: {r}")
        r = a.get(rec)
        check(urllib.parse.quote(rec, safe="") in (r.header("location") or "")
              or rec in urllib.parse.unquote(r.header("location") or ""),
              f"the redirect does not return to {rec}: {r.header('location')}")
        page = a.get(r.header("location"))
        check(page.status == 200 and 'name="password"' in page.body,
              f"the redirect does not lead to the login form: {page}")
        # A POST with the anonymous session's own token still needs a login.
        r = a.post(rec2 + "/revoke", {"reason": "no login"})
        check(r.status == 403, f"POST revoke without a login: {r}")
        r = run.client(hub).get("/hub")
        check(login_location(r), f"GET /hub on the hub without a session: {r}")
        check(not run.revoked(rid2), "a POST without a login revoked a record")

    def csrf():
        a = run.client(com)
        a.get("/login")
        before = a.cookie
        r = a.request("POST", "/login", body=urllib.parse.urlencode(
            {"login": "lan", "password": PASSWORDS["lan"]}))
        check(r.status == 403, f"POST /login without csrf: {r}")
        r = a.request("POST", "/login", body=urllib.parse.urlencode(
            {"login": "lan", "password": PASSWORDS["lan"], "csrf": "0" * 64}))
        check(r.status == 403, f"POST /login with a wrong csrf: {r}")
        check(a.cookie == before and login_location(a.get("/")),
              "a login without the token logged in")

        head = run.logged_in(com, "tuan")
        for path, fields in ((rec2 + "/revoke", {"reason": "forged"}),
                             ("/register/birth", {"data.child.full_name": "Nguyễn Văn A"}),
                             (rec + "/amend", {"data.notes": "forged", "reason": "forged"}),
                             ("/register/birth/check", {"data.child.personal_id": "1"}),
                             ("/sync", {}),
                             ("/logout", {})):
            r = head.post(path, fields, with_csrf=False)
            check(r.status == 403, f"POST {path} without csrf: {r}")
            r = head.post(path, dict(fields, csrf="f" * 64))
            check(r.status == 403, f"POST {path} with a wrong csrf: {r}")
        check(not run.revoked(rid2), "a POST without the token revoked a record")
        notes = run.cl.tpj("c", "record", "show", rid)["document"]["data"].get("notes")
        check(notes == NOTE_CLI, f"a POST without the token amended a record: notes {notes!r}")
        r = head.get("/")
        check(r.status == 200, f"logout without the token logged out: {r}")
        # Another session's token is no better than none.
        other = run.logged_in(com, "lan")
        r = head.post(rec2 + "/revoke", {"reason": "forged", "csrf": other.csrf()})
        check(r.status == 403, f"POST with another session's token: {r}")
        check(not run.revoked(rid2), "a POST with another session's token revoked a record")

    def host_origin():
        port = com.ui_port
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}",
                     f"127.0.0.2:{port}"):
            r = run.client(com, host=host).get("/login")
            check(r.status in (421, 403), f"GET /login with Host {host}: {r}")
            check('name="password"' not in r.body, f"Host {host} got the login form")
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            r = run.client(com, host=host).get("/login")
            check(r.status == 200, f"GET /login with Host {host}: {r}")
        # A foreign Origin on a POST: refused even with the right token and
        # password (a page elsewhere cannot log a browser in, or act for it).
        a = run.client(com)
        token = a.csrf("/login")
        fields = urllib.parse.urlencode({"login": "lan", "password": PASSWORDS["lan"],
                                         "csrf": token})
        for origin in ("http://evil.example", f"http://evil.example:{port}",
                       f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"):
            r = a.request("POST", "/login", body=fields, headers={"Origin": origin})
            check(r.status == 403, f"POST /login with Origin {origin}: {r}")
        check(login_location(a.get("/")), "a POST from a foreign origin logged in")
        head = run.logged_in(com, "tuan")
        r = head.post(rec2 + "/revoke", {"reason": "cross-site"},
                      headers={"Origin": "http://evil.example"})
        check(r.status == 403, f"POST revoke with a foreign Origin: {r}")
        r = head.post(rec2 + "/revoke", {"reason": "cross-site"},
                      headers={"Sec-Fetch-Site": "cross-site"})
        check(r.status == 403, f"POST revoke marked cross-site: {r}")
        check(not run.revoked(rid2), "a cross-site POST revoked a record")
        # The same request from the app's own origin goes through.
        a = run.client(com)
        token = a.csrf("/login")
        r = a.request("POST", "/login", headers={"Origin": f"http://127.0.0.1:{port}"},
                      body=urllib.parse.urlencode({"login": "lan", "password": PASSWORDS["lan"],
                                                   "csrf": token}))
        check(r.status == 303, f"POST /login with the app's own Origin: {r}")

    def roles():
        officer = run.logged_in(com, "lan")
        r = officer.post(rec + "/resolve", {"field": "data.notes", "value": "x", "reason": "r"})
        check(r.status == 403, f"an officer resolving: {r}")
        r = officer.post(rec2 + "/revoke", {"reason": "an officer revoking"})
        check(r.status == 403, f"an officer revoking: {r}")
        check(not run.revoked(rid2), "an officer revoked a record")
        page = officer.get(rec)
        check(page.status == 200, f"GET {rec} as an officer: {page}")
        check('id="revoke-form"' not in page.body, "an officer is offered the revoke form")
        check('class="resolve"' not in page.body, "an officer is offered a resolve form")
        r = officer.get("/hub")
        check(r.status in (403, 404), f"an officer of a commune opening /hub: {r}")

        hub_officer = run.logged_in(hub, "hoa")
        for path in ("/hub", "/hub/conflicts", "/hub/stats", "/hub/reconcile", "/hub/enrol",
                     "/hub?format=csv"):
            r = hub_officer.get(path)
            check(r.status == 403, f"an officer opening {path} on the hub: {r}")
        operator = run.logged_in(hub, "op")
        r = operator.get("/hub")
        check(r.status == 200 and 'id="communes"' in r.body,
              f"the operator opening /hub: {r}")

        head = run.logged_in(com, "tuan")
        page = head.get(rec2)
        check('id="revoke-form"' in page.body, f"the head is not offered the revoke form: {page}")
        r = head.post(rec2 + "/revoke", {"reason": REVOKE_REASON})
        check(r.status == 303, f"the head revoking: {r}")
        check(run.revoked(rid2), "the head's revocation did not take")

    def escaping():
        officer = run.logged_in(com, "lan")
        page = officer.get(rec)
        check(page.status == 200, f"GET {rec}: {page}")
        no_raw_script(page, "the record page (CLI note and reason)")
        check(esc(NOTE_CLI) in (section(page.body, "fields") or ""),
              f"the note typed at the CLI is not shown escaped in #fields: {page}")
        check(esc(REASON_CLI) in (section(page.body, "history") or ""),
              f"the reason typed at the CLI is not shown escaped in #history: {page}")

        form = officer.get(rec + "/amend")
        check(form.status == 200, f"GET {rec}/amend: {form}")
        no_raw_script(form, "the amend form")
        fields = webnode.form_by_id(form.body, "amend-form")
        check(("data.notes", NOTE_CLI) in fields,
              f"the amend form does not hold the current note: {fields}")
        r = officer.post(rec + "/amend", webnode.replaced(
            fields, {"data.notes": NOTE_WEB, "reason": REASON_WEB}))
        check(r.status == 303 and (r.header("location") or "").endswith(rec),
              f"the web amend: {r}")
        doc = run.cl.tpj("c", "record", "show", rid)["document"]
        check(doc["data"]["notes"] == NOTE_WEB,
              f"the web amend left notes {doc['data']['notes']!r}")
        page = officer.get(rec)
        no_raw_script(page, "the record page (web note and reason)")
        check(esc(NOTE_WEB) in (section(page.body, "fields") or ""),
              f"the note typed in the app is not shown escaped in #fields: {page}")
        history = section(page.body, "history") or ""
        check(esc(REASON_WEB) in history,
              f"the reason typed in the app is not shown escaped in #history: {page}")
        check(esc(NOTE_CLI) in history and esc(NOTE_WEB) in history,
              "the history does not show the note's old and new values escaped")
        check(NAMES["lan"] in history, f"the history does not name the officer: {history!r}")

        page = officer.get(rec2)
        no_raw_script(page, "the revoked record's page")
        check(esc(REVOKE_REASON) in page.body,
              f"the revocation's reason is not shown escaped: {page}")

        for q in (child, rid, QUERY):
            r = officer.get("/search?" + urllib.parse.urlencode({"q": q}))
            check(r.status == 200, f"search {q!r}: {r}")
            no_raw_script(r, f"the search page for {q!r}")
        r = officer.get("/search?" + urllib.parse.urlencode({"q": child}))
        check(f'href="{rec}"' in r.body, f"search {child!r} does not list {rid}: {r}")
        r = officer.get("/search?" + urllib.parse.urlencode({"q": QUERY}))
        check(esc(QUERY) in r.body, f"the query is not shown back escaped: {r}")
        check(re.search(r"(&quot;|&#34;|&#x22;)&gt;&lt;script&gt;alert\(6\)", r.body),
              f"the query's quote is not shown back escaped: {r}")

        # A refused registration gives the form back with what was typed:
        # escaped in the refilled inputs too.
        form = officer.get("/register/birth")
        check(form.status == 200, f"GET /register/birth: {form}")
        fields = webnode.form_by_id(form.body, "register-form")
        data = births[2]["data"]
        filled = {}
        for name, _ in fields:
            value = lookup(data, name)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                filled[name] = re.sub(r"^(\d{4})-(\d\d)-(\d\d)$", r"\3/\2/\1", str(value))
        filled["data.notes"] = NOTE_REFUSED
        filled["data.child.full_name"] = NOTE_REFUSED
        r = officer.post("/register/birth", webnode.replaced(fields, filled))
        check(r.status == 422, f"a registration with a <script> name was not refused: {r}")
        no_raw_script(r, "the refused registration form")
        check(esc(NOTE_REFUSED) in r.body, f"the typed note is not given back escaped: {r}")
        for path in ("/", "/conflicts", "/sync"):
            no_raw_script(officer.get(path), path)

    def audit():
        history = run.cl.tpj("c", "record", "history", rid)["history"]
        web = [h for h in history if h.get("reason") == REASON_WEB]
        check(len(web) == 1, "the web amend is not in the history once: " +
              repr([(h.get("officer"), h.get("reason")) for h in history]))
        who = web[0]["officer"]
        check(NAMES["lan"] in who and "lan" in who.replace(NAMES["lan"], ""),
              f"the web amend carries officer {who!r}, not the name and the login")
        officers = run.cl.tpj("c", "officer", "list")["officers"]
        lan = next(o for o in officers if o["login"] == "lan")
        account = str(lan.get("id", ""))
        check(account and re.search(r"\b" + re.escape(account) + r"\b", who.replace(
            NAMES["lan"], "")), f"the web amend's officer {who!r} lacks the account id {account}")
        revoke = [h for h in run.cl.tpj("c", "record", "history", rid2)["history"]
                  if h.get("reason") == REVOKE_REASON]
        check(revoke and NAMES["tuan"] in revoke[0]["officer"] and "tuan" in revoke[0]["officer"],
              f"the revocation does not carry the head's name and login: {revoke}")

    def disabled():
        tam = run.logged_in(com, "tam")
        check(tam.get("/").status == 200, "tam is not logged in")
        run.cl.tp("c", "officer", "disable", "tam")
        r = tam.get("/")
        check(login_location(r), f"a disabled officer's open session went on: {r}")
        r = tam.post(rec + "/amend", {"data.notes": "after disable", "reason": "x"})
        check(r.status == 403, f"a disabled officer's POST: {r}")
        again = run.client(com)
        r = again.login("tam", PASSWORDS["tam"], expect=401)
        check("đã bị khoá" in r.body or "disabled" in r.body,
              f"the refusal does not say the account is disabled: {r}")
        check(login_location(again.get("/")), "a disabled officer logged in")

    def lockout():
        a = run.client(com)
        for i in range(5):
            r = a.login("khoa", f"wrong-password-{i}", expect=401)
            # The fifth locks the account (and may say so).
            check(i == 4 or "tạm khoá" not in r.body,
                  f"locked after {i + 1} wrong passwords: {r}")
        r = a.login("khoa", PASSWORDS["khoa"], expect=401)
        check("tạm khoá" in r.body or "locked" in r.body,
              f"the right password after five wrong ones does not say locked: {r}")
        check(login_location(a.get("/")), "a locked account logged in")
        locked = [o for o in run.cl.tpj("c", "officer", "list")["officers"]
                  if o["login"] == "khoa"][0]
        check(locked["locked_until"] is not None, f"the store does not hold the lock: {locked}")
        # Another account is not locked by them.
        run.logged_in(com, "lan")

    def cookies():
        a = run.client(com)
        first = a.get("/login")
        before = a.cookie
        check(before, f"GET /login set no session cookie: {first}")
        r = a.login("lan", PASSWORDS["lan"])
        after = a.cookie
        check(after and after != before, "the session cookie did not change at login")
        for resp in (first, r):
            for sc in resp.all("set-cookie"):
                attrs = [p.strip().lower() for p in sc.split(";")[1:]]
                check("httponly" in attrs, f"cookie without HttpOnly: {sc}")
                check("samesite=strict" in attrs, f"cookie without SameSite=Strict: {sc}")
        check(a.get("/").status == 200, "the new cookie is not logged in")
        # The cookie from before login is worth nothing (fixation).
        old = run.client(com)
        old.cookie = before
        check(login_location(old.get("/")), "the cookie from before login is logged in")
        r = a.post("/logout", {})
        check(r.status == 303, f"logout: {r}")
        stale = run.client(com)
        stale.cookie = after
        check(login_location(stale.get("/")), "the cookie still works after logout")

    def headers_and_assets():
        officer = run.logged_in(com, "lan")
        operator = run.logged_in(hub, "op")
        for c, paths in ((officer, ("/", "/register", "/register/birth", rec, rec + "/amend",
                                    rec + "/extract", "/conflicts", "/sync",
                                    "/search?q=a")),
                         (operator, ("/hub", "/hub/conflicts", "/hub/stats", "/hub/reconcile",
                                     "/hub/enrol"))):
            for p in paths:
                r = c.get(p)
                check(r.status == 200, f"GET {p}: {r.status}")
        for name in ("style.css", "app.js"):
            r = officer.get(f"/assets/{name}")
            check(r.status == 200, f"/assets/{name}: {r.status}")
            check(not re.search(r"(url\(|@import|fetch\(|src\s*=)\s*['\"]?(https?:)?//", r.body),
                  f"/assets/{name} loads something from another host")
        own = {f"127.0.0.1:{com.ui_port}", f"127.0.0.1:{hub.ui_port}"}
        seen = [x for c in run.clients for x in c.seen]
        check(len(seen) > 50, f"only {len(seen)} responses seen")
        for method, path, r in seen:
            if r.status == 421:
                continue
            csp = r.header("content-security-policy")
            check(csp, f"{method} {path} ({r.status}): no Content-Security-Policy")
            check("unsafe-inline" not in csp and "unsafe-eval" not in csp,
                  f"{method} {path}: Content-Security-Policy allows inline code: {csp}")
            check("default-src 'self'" in csp, f"{method} {path}: CSP {csp}")
            if not (r.header("content-type") or "").startswith("text/html"):
                continue
            for m in re.finditer(r"""\b(src|href|action|formaction|srcset|poster)\s*=\s*["']?\s*"""
                                 r"""((?:[a-z][a-z0-9+.-]*:)?//[^"'\s>]*)""", r.body, re.I):
                url = urllib.parse.urlsplit(m.group(2))
                check(url.netloc in own,
                      f"{method} {path}: {m.group(1)}={m.group(2)} points to another host")
            check(not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", r.body),
                  f"{method} {path}: an inline script (the CSP would block it)")
            check(not re.search(r"\son[a-z]+\s*=", r.body),
                  f"{method} {path}: an inline event handler (the CSP would block it)")
            check('<html lang="vi"' in r.body or '<html lang="en"' in r.body,
                  f"{method} {path}: no <html lang>")

    run.group("no session: login page, POST refused", no_session)
    run.group("POST without the CSRF token: 403", csrf)
    run.group("foreign Host: 421, foreign Origin: 403", host_origin)
    run.group("roles: officer kept from the console, resolve and revoke", roles)
    run.group("typed <script> shown escaped everywhere", escaping)
    run.group("writes carry the officer's name, login and account id", audit)
    run.group("a disabled account is refused and its session ended", disabled)
    run.group("five wrong passwords lock the account", lockout)
    run.group("session cookie: HttpOnly, SameSite=Strict, new at login", cookies)
    run.group("CSP without unsafe-inline, no asset from another host", headers_and_assets)
    if run.failures:
        raise Failure(f"{len(run.failures)} group(s) failed:\n  " + "\n  ".join(run.failures))
    print("ok")


if __name__ == "__main__":
    sys.exit(webnode.run_test(TUPHAP, "tuphap-web-security-", scenario))
