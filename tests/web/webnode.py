"""Shared by the web app's tests (tests/web/*_test.py): tuphap nodes in a
scratch directory driven through the real binary, `tuphap serve --ui` on free
loopback ports, officer accounts, and a small HTTP client that keeps the
session cookie and reads the CSRF token and forms off the pages. Python 3
standard library only (the browser test adds Selenium itself); 127.0.0.1
only. Every process started is stopped by Cluster.close(), and the scratch
directory removed, also when a test fails.
"""
import html.parser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

PASSPHRASE = "password1"
COMMUNE = "22333"  # a commune of province 56 (the generator's reference data)
PROVINCE = "56"


class Failure(Exception):
    """An assertion of a test, or something the harness needed, failed."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In a child before exec: SIGTERM when the test dies (a test killed at
    its timeout leaves no server holding a port or a store)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def on_sigterm_exit():
    """SIGTERM ends the test with SystemExit, so its finally blocks clean up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def base_env(**extra):
    e = {k: v for k, v in os.environ.items()
         if k not in ("TUPHAP_OFFICER_PASSWORD", "LANG", "LC_ALL", "LC_MESSAGES")}
    e["TUPHAP_PASSPHRASE"] = PASSPHRASE
    e["TUPHAP_KDF"] = "weak"
    e.update(extra)
    return e


class Server:
    """One `tuphap serve` process."""

    def __init__(self, name, proc, log_path, ui_port, listen):
        self.name = name
        self.proc = proc
        self.log_path = log_path
        self.ui_port = ui_port
        self.listen = listen  # "tcp://127.0.0.1:P" or None

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @property
    def url(self):
        return f"http://127.0.0.1:{self.ui_port}"


class Cluster:
    """Data directories under one scratch root, and the servers started."""

    def __init__(self, tuphap, prefix):
        self.tuphap = os.path.abspath(tuphap)
        self.root = tempfile.mkdtemp(prefix=prefix)
        self.servers = []

    def dir(self, name):
        return os.path.join(self.root, name)

    # -- commands ---------------------------------------------------------
    def run(self, *args, expect=0, timeout=300, **extra_env):
        r = subprocess.run([self.tuphap, *args], capture_output=True, text=True,
                           env=base_env(**extra_env), stdin=subprocess.DEVNULL,
                           start_new_session=True, timeout=timeout)
        if expect is not None and r.returncode != expect:
            raise Failure(f"tuphap {' '.join(args)}: exit {r.returncode}, wanted {expect}: "
                          f"{r.stderr.strip()}")
        return r

    def tp(self, name, *args, **kw):
        return self.run("--data", self.dir(name), *args, **kw)

    def tpj(self, name, *args, **kw):
        return json.loads(self.tp(name, "--json", *args, **kw).stdout)

    def init_hub(self, name="hub", province=PROVINCE):
        self.tp(name, "init", "--role", "hub", "--province", province)

    def init_commune(self, name, commune=COMMUNE):
        self.tp(name, "init", "--role", "commune", "--commune", commune)

    def enrol(self, name, hub="hub"):
        req, cert = self.dir(name + ".req"), self.dir(name + ".enrol")
        self.tp(name, "enroll", "request", "--out", req)
        self.tp(hub, "enroll", "sign", req, "--out", cert)
        self.tp(name, "enroll", "accept", cert)

    def officer(self, name, login, display, role, password):
        self.tp(name, "officer", "add", login, "--name", display, "--role", role,
                TUPHAP_OFFICER_PASSWORD=password)

    def generated(self, commune=COMMUNE, n=50, seed=1):
        """Valid records from the project's generator, as parsed JSON lines."""
        r = self.run("generate", "--records", str(n), "--commune", commune, "--seed", str(seed))
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def add_record(self, name, rtype, data, *extra):
        path = self.dir(f"input-{time.monotonic_ns()}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        return self.tpj(name, "record", "add", "--type", rtype, "--input", path, *extra)["id"]

    # -- servers ----------------------------------------------------------
    def serve(self, name, *args, ui_port=None, ready_timeout=60):
        """`tuphap --data NAME serve ARGS --ui 127.0.0.1:PORT`, once /healthz
        answers. ARGS may hold --listen tcp://127.0.0.1:P / --upstream ..."""
        ui_port = ui_port or free_port()
        log_path = self.dir(f"{name}-serve-{len(self.servers)}.log")
        log = open(log_path, "w", encoding="utf-8")
        proc = subprocess.Popen([self.tuphap, "--data", self.dir(name), "serve", "--exit-with-parent", *args, "--ui",
                                 f"127.0.0.1:{ui_port}"],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=base_env(), preexec_fn=_die_with_parent)
        log.close()
        listen = None
        if "--listen" in args:
            listen = args[args.index("--listen") + 1]
        s = Server(name, proc, log_path, ui_port, listen)
        self.servers.append(s)
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise Failure(f"serve on {name} exited {proc.returncode}: {s.log()[-2000:]}")
            if healthy(ui_port) and (listen is None or _port_open(listen)):
                break
            # Not a timed assertion: a bound on a server that never comes up.
            if time.monotonic() > deadline:
                raise Failure(f"serve on {name} not ready after {ready_timeout}s: {s.log()}")
            time.sleep(0.1)
        check(f"web app at http://127.0.0.1:{ui_port}/" in s.log(),
              f"serve on {name} did not print its URL: {s.log()!r}")
        return s

    def stop(self, server, sig=signal.SIGTERM):
        if server.proc.poll() is None:
            server.proc.send_signal(sig)
            try:
                server.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait()
        if server in self.servers:
            self.servers.remove(server)

    def close(self, keep=False):
        for s in list(self.servers):
            try:
                self.stop(s)
            except Exception:
                pass
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _port_open(endpoint):
    host, _, port = endpoint.rpartition("//")[2].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def healthy(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/healthz")
        r = c.getresponse()
        ok = r.status == 200 and r.read().strip() == b"ok"
        c.close()
        return ok
    except OSError:
        return False


# -- HTTP ---------------------------------------------------------------------
class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(lower-case name, value)]
        self.body = body  # text

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def __repr__(self):
        # What a failure message needs: the status, where it redirects, and
        # the page's own content (after the shared header), shortened.
        body = self.body
        main = body.find("<main>")
        if main >= 0:
            body = body[main + 6:]
        loc = self.header("location")
        text = re.sub(r"\s+", " ", body)[:500]
        return f"<HTTP {self.status}" + (f" -> {loc}" if loc else "") + f" {text!r}>"


COOKIE = "tuphap_session"


class Client:
    """One browser's worth of HTTP: a session cookie kept across requests,
    redirects not followed (the tests look at them)."""

    def __init__(self, port, host=None):
        self.port = port
        self.host = host or f"127.0.0.1:{port}"
        self.cookie = None
        self.seen = []  # every (method, path, Response), for the page checks

    def request(self, method, path, body=None, headers=None, cookie=True):
        h = {"Host": self.host}
        if cookie and self.cookie:
            h["Cookie"] = f"{COOKIE}={self.cookie}"
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in h.items():
                c.putheader(k, v)
            data = body.encode("utf-8") if isinstance(body, str) else body
            if data is not None:
                c.putheader("Content-Length", str(len(data)))
            c.endheaders(data)
            r = c.getresponse()
            resp = Response(r.status, [(k.lower(), v) for k, v in r.getheaders()],
                            r.read().decode("utf-8", errors="replace"))
        finally:
            c.close()
        for sc in resp.all("set-cookie"):
            name, _, rest = sc.partition("=")
            if name.strip() == COOKIE:
                value = rest.split(";", 1)[0]
                self.cookie = value or None
        self.seen.append((method, path, resp))
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, with_csrf=True, **kw):
        """POST urlencoded fields (a list of pairs or a dict); the session's
        CSRF token added unless with_csrf is False."""
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if with_csrf and not any(k == "csrf" for k, _ in pairs):
            pairs.append(("csrf", self.csrf()))
        return self.request("POST", path, body=urllib.parse.urlencode(pairs), **kw)

    def csrf(self, path="/search"):
        """The session's CSRF token, as a page of it shows it."""
        r = self.get(path)
        if r.status == 303:
            r = self.get("/login")
        m = re.search(r'name="csrf" value="([^"]*)"', r.body)
        check(m is not None, f"no CSRF token on {path}: {r}")
        return m.group(1)

    def login(self, login, password, expect=303):
        page = self.get("/login")
        check(page.status == 200, f"GET /login: {page}")
        token = re.search(r'name="csrf" value="([^"]*)"', page.body)
        check(token is not None, f"login form without csrf: {page}")
        r = self.request("POST", "/login",
                         body=urllib.parse.urlencode(
                             {"login": login, "password": password, "csrf": token.group(1)}))
        check(r.status == expect, f"login {login}: {r.status}, wanted {expect}: {r}")
        return r


# -- forms --------------------------------------------------------------------
class _FormParser(html.parser.HTMLParser):
    """The fields of every form of a page: {form id or index: [(name, value)]}
    with the value a browser would send (checked radios only, the selected
    option)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []  # [(attrs, fields)]
        self._form = None
        self._select = None
        self._select_value = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = (a, [])
            self.forms.append(self._form)
        if self._form is None:
            return
        fields = self._form[1]
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            fields.append((a["name"], a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._select_value = None
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            self._option = [value, ""]
            if "selected" in a or self._select_value is None:
                self._select_value = (value, "selected" in a, self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form[1].append(tuple(self._textarea))
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            if self._select_value is not None:
                value, _, opt = self._select_value
                self._form[1].append((self._select, value if value is not None else opt[1]))
            self._select = None


def forms(page_html):
    """[(attrs, [(name, value)])] of every form on a page, in order."""
    p = _FormParser()
    p.feed(page_html)
    return p.forms


def form_by_id(page_html, form_id):
    for attrs, fields in forms(page_html):
        if attrs.get("id") == form_id:
            return fields
    raise Failure(f"no form #{form_id} on the page: {page_html[:2000]!r}")


def replaced(fields, changes):
    """The fields with the values of `changes` (name -> value) put in, added
    when absent."""
    out, done = [], set()
    for k, v in fields:
        if k in changes:
            if k in done:
                continue
            out.append((k, changes[k]))
            done.add(k)
        else:
            out.append((k, v))
    for k, v in changes.items():
        if k not in done:
            out.append((k, v))
    return out


def run_test(tuphap, prefix, scenario):
    """Runs scenario(cluster) and tidies up; an exit code for sys.exit."""
    on_sigterm_exit()
    cluster = Cluster(tuphap, prefix)
    keep = bool(os.environ.get("TUPHAP_KEEP_TEST_DIR"))
    try:
        scenario(cluster)
        return 0
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        for s in cluster.servers:
            print(f"--- log of serve on {s.name} (last 3000 chars) ---\n{s.log()[-3000:]}",
                  file=sys.stderr)
        return 1
    finally:
        cluster.close(keep=keep)
        if keep:
            print(f"kept {cluster.root}", file=sys.stderr)
