"""The officers' web app in a real browser (issue 14, item 9): headless
Chromium from Debian driven by Selenium, against a hub and an enrolled
commune served by the real binary on loopback.

On the commune, a head of office logs in; registers a birth through the
form, first with a personal ID whose 4th digit does not match a girl born
in 2026 — the Vietnamese message shows at the field — then fixed; lands on
the record page; finds the record by "nguyen thi hong" typed without
accents; amends it with a reason and sees old -> new with the officer's
name in the history. Then a concurrent correction: the hub's server is
stopped, the same field is amended in the browser and, differently, at the
hub with the CLI; the hub is started again and "sync now" is pressed until
the record page shows the conflict, which the head resolves with the
resolve form. The extract is printed to PDF. On the hub, the operator sees
the commune's row not behind, with its last successful sync, and the
statistics chart with a bar.

A screenshot of every page visited is saved under SCREENSHOT_DIR
(01-login.png, 02-home.png, ...), with the extract's PDF; on a failure
also the page that was open and its HTML.

usage: browser_test.py TUPHAP SCREENSHOT_DIR   (run with Debian's
/usr/bin/python3, which has python3-selenium; chromium and chromium-driver
from Debian: scripts/dev.sh installs all three)
"""
import base64
import datetime
import os
import re
import shutil
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webnode  # noqa: E402
from webnode import COMMUNE, check, Failure  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

try:
    from selenium import webdriver
    from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,
                                            TimeoutException, WebDriverException)
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:
    print(f"FAILED: Selenium is not importable by {sys.executable} ({e}). Install Debian's "
          "python3-selenium, chromium and chromium-driver (scripts/dev.sh does) and run this "
          "test with /usr/bin/python3.", file=sys.stderr)
    sys.exit(1)

TUPHAP = os.path.abspath(sys.argv[1])
SHOTS = os.path.abspath(sys.argv[2])

HEAD = ("tuan", "Trần Văn Tuấn", "tuan-password-1")
OPERATOR = ("op", "Phạm Thu Hà", "op-password-1")

CHILD = {
    "family_name": "Nguyễn",
    "middle_name": "Thị",
    "given_name": "Hồng",
    "full_name": "Nguyễn Thị Hồng",
    "sex": "F",
    "birth_date": "2026-11-20",
    "personal_id": "056326104857",
}
# The 4th digit says a boy born 2000-2099 (2); a girl is 3 (DOMAIN.md 3.1):
# the check "chữ số thứ 4" of node/domain/validator.cc IdCenturySex.
WRONG_ID = "056226104857"
WRONG_ID_MESSAGE = "hữ số thứ 4"  # "Chữ số thứ 4 …" (the case of its first letter aside)

FIRST_PLACE = "Phường Nam Nha Trang, Tỉnh Khánh Hòa"
BROWSER_PLACE = "Bệnh viện Đa khoa tỉnh Khánh Hòa"
HUB_PLACE = "Bệnh viện Sản Nhi tỉnh Khánh Hòa"

WAIT = 30       # an element of a page that has loaded
SYNC_WAIT = 180  # the conflict reaching the commune after the hub is back


def field_id(path):
    return "f_" + path.replace(".", "_")


def display_date(iso):
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


class Browser:
    def __init__(self):
        if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
            raise Failure(f"{CHROMIUM} or {CHROMEDRIVER} is missing: install Debian's chromium "
                          "and chromium-driver (scripts/dev.sh does)")
        o = webdriver.ChromeOptions()
        o.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                  "--window-size=1280,1800", "--lang=vi-VN", "--no-first-run",
                  "--disable-background-networking", "--disable-extensions"):
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
        self.shot_no = 0
        self.csp_violations = []

    def quit(self):
        try:
            self.driver.quit()
        except Exception:
            pass

    # -- pages --------------------------------------------------------------
    def go(self, url, wait_for=None):
        self.driver.get(url)
        if wait_for:
            self.wait_css(wait_for)

    def wait_css(self, css, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout).until(
                EC.presence_of_element_located((By.CSS_SELECTOR, css)))
        except TimeoutException:
            raise Failure(f"no {css} on {self.driver.current_url} after {timeout}s: "
                          f"{self.text()[:800]!r}")

    def wait_until(self, what, cond, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout, ignored_exceptions=(
                NoSuchElementException, StaleElementReferenceException)).until(cond)
        except TimeoutException:
            raise Failure(f"{what}: not seen on {self.driver.current_url} after {timeout}s: "
                          f"{self.text()[:800]!r}")

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css="body"):
        try:
            return self.find(css).text
        except WebDriverException:
            return ""

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path

    def click_and_wait_load(self, element):
        """Click something that loads a new page, and wait until the old
        one is gone and the new one is complete. The old page is marked on
        its window object, which a new document does not have (an element
        gone stale races with the navigation in chromedriver)."""
        self.driver.execute_script("window.__tuphapOldPage = true;")
        element.click()

        def loaded(d):
            try:
                return d.execute_script("return window.__tuphapOldPage === undefined && "
                                        "document.readyState === 'complete';")
            except WebDriverException:  # in the middle of the navigation
                return False

        self.wait_until("a new page", loaded)

    def shot(self, name):
        """A screenshot of the page as it is, and a look at the browser's log
        for anything the Content-Security-Policy blocked."""
        self.shot_no += 1
        path = os.path.join(SHOTS, f"{self.shot_no:02d}-{name}.png")
        check(self.driver.save_screenshot(path), f"screenshot {path} not saved")
        self.check_log(name)
        return path

    def check_log(self, where):
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return
        for e in entries:
            msg = e.get("message", "")
            if "Content Security Policy" in msg or "Refused to" in msg:
                self.csp_violations.append(f"{where}: {msg}")

    # -- forms --------------------------------------------------------------
    def set_value(self, path, value, required=True):
        els = self.finds("#" + field_id(path))
        if not els:
            check(not required, f"no input #{field_id(path)} for {path} on {self.path()}")
            return False
        el = els[0]
        if el.tag_name == "select":
            sel = Select(el)
            values = [o.get_attribute("value") for o in sel.options]
            check(str(value) in values, f"{path}: {value!r} is not one of the options {values}")
            sel.select_by_value(str(value))
            return True
        if el.get_attribute("data-kind") == "date" and re.fullmatch(r"\d{4}-\d\d-\d\d",
                                                                     str(value)):
            value = display_date(str(value))
        el.clear()
        el.send_keys(str(value))
        return True


def birth_values(cl):
    """Every field of a birth from a valid generated record of the commune,
    with the child replaced by Nguyễn Thị Hồng."""
    births = [r for r in cl.generated(seed=1) if r.get("type") == "birth"]
    check(births, "the generator gave no birth")
    data = births[0]["data"]
    values = {}

    def flatten(prefix, obj):
        for k, v in obj.items():
            p = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                flatten(p, v)
            elif v is not None and v != "":
                values[p] = v

    flatten("data", data)
    for k, v in CHILD.items():
        values[f"data.child.{k}"] = v
    values["data.child.native_place"] = FIRST_PLACE
    return values


def schema_paths(cl, rtype):
    schema = cl.tpj("c", "schema", rtype)
    entry = schema[0] if isinstance(schema, list) else schema
    return [(f["path"], f["required"]) for f in entry["fields"] if f["kind"] != "object"]


def hub_serve(cl, listen, ui_port=None):
    return cl.serve("hub", "--listen", listen, ui_port=ui_port)


def scenario(cl):
    shutil.rmtree(SHOTS, ignore_errors=True)
    os.makedirs(SHOTS, exist_ok=True)
    cl.init_hub()
    cl.init_commune("c")
    cl.enrol("c")
    cl.officer("c", HEAD[0], HEAD[1], "head", HEAD[2])
    cl.officer("hub", OPERATOR[0], OPERATOR[1], "operator", OPERATOR[2])
    values = birth_values(cl)
    paths = schema_paths(cl, "birth")

    listen = f"tcp://127.0.0.1:{webnode.free_port()}"
    hub = hub_serve(cl, listen)
    com = cl.serve("c", "--upstream", listen)

    b = Browser()
    try:
        run(cl, b, hub, com, listen, values, paths)
        check(not b.csp_violations,
              "the browser refused something under the CSP:\n  " + "\n  ".join(b.csp_violations))
    except BaseException:
        try:
            b.driver.save_screenshot(os.path.join(SHOTS, "zz-failure.png"))
            with open(os.path.join(SHOTS, "zz-failure.html"), "w", encoding="utf-8") as f:
                f.write(b.driver.page_source)
            print(f"failed on {b.driver.current_url}; see {SHOTS}/zz-failure.*", file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        b.quit()
    print("ok")


def login(b, base, who, landing_css):
    b.go(base + "/login", "input[name=login]")
    check(b.find("html").get_attribute("lang") == "vi", "the login page is not <html lang=vi>")
    b.shot("login")
    b.find("input[name=login]").send_keys(who[0])
    b.find("input[name=password]").send_keys(who[2])
    b.click_and_wait_load(b.find("form[action='/login'] button[type=submit]"))
    b.wait_css(landing_css)
    check(who[1] in b.text("header"), f"the header does not name {who[1]}: {b.text('header')!r}")


def run(cl, b, hub, com, listen, values, paths):
    base = com.url

    # -- log in, home -----------------------------------------------------
    login(b, base, HEAD, "#today")
    for card in ("#today", "#waiting", "#last-sync", "#conflicts", "#attention"):
        b.wait_css(card)
    b.shot("home")

    # -- register a birth: a wrong ID digit first ---------------------------
    b.go(base + "/register", "a[href='/register/birth']")
    b.shot("register")
    b.click_and_wait_load(b.find("a[href='/register/birth']"))
    b.wait_css("form#register-form")
    values["data.child.personal_id"] = WRONG_ID
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).date()
    for path, required in paths:
        if path in values:
            b.set_value(path, values[path], required=required)
        elif path == "registered_at" and b.finds("#f_registered_at"):
            if not b.find("#f_registered_at").get_attribute("value"):
                b.set_value(path, today.isoformat())
    empty = [e.get_attribute("name") for e in b.finds("#register-form [required]")
             if not e.get_attribute("value")]
    check(not empty, f"required inputs left empty (no value known for them): {empty}")
    # Checked as the officer types: the server's message at the field
    # before anything is sent.
    err_css = "#" + field_id("data.child.personal_id") + "-err"
    b.wait_until(f"the message at the personal ID ({err_css}) as it is typed",
                 lambda d: WRONG_ID_MESSAGE in d.find_element(By.CSS_SELECTOR, err_css).text)
    b.shot("register-birth-typed")
    # And again by the server on submit: refused, the message at the field.
    b.click_and_wait_load(b.find("#submit"))
    b.wait_until(f"the message at the personal ID ({err_css}) after submitting",
                 lambda d: WRONG_ID_MESSAGE in d.find_element(By.CSS_SELECTOR, err_css).text)
    check(b.path() == "/register/birth", f"a refused form left the page: {b.path()}")
    check(b.find("#form-error").is_displayed(), "no summary #form-error on the refused form")
    message = b.text(err_css)
    check("(phải là 3)" in message, f"the message does not say the digit wanted: {message!r}")
    b.shot("register-birth-refused")

    # The form keeps what was typed; the ID is fixed and sent again.
    check(b.find("#" + field_id("data.child.full_name")).get_attribute("value")
          == CHILD["full_name"], "the refused form lost the child's name")
    b.set_value("data.child.personal_id", CHILD["personal_id"])
    b.click_and_wait_load(b.find("#submit"))
    b.wait_until("the record page after registering",
                 lambda d: re.fullmatch(r"/records/[^/]+", urllib.parse.urlsplit(
                     d.current_url).path))
    rid = urllib.parse.unquote(b.path().split("/")[2])
    b.wait_css("table#fields")
    fields = b.text("table#fields")
    for want in (CHILD["full_name"], CHILD["personal_id"], display_date(CHILD["birth_date"])):
        check(want in fields, f"the record page does not show {want!r}: {fields[:1500]!r}")
    b.wait_css("#sync-state")
    b.shot("record")
    shown = cl.tpj("c", "record", "show", rid)
    check(shown["document"]["data"]["child"]["full_name"] == CHILD["full_name"],
          f"the store holds {shown['document']['data']['child']}")
    history = cl.tpj("c", "record", "history", rid)["history"]
    check(HEAD[1] in history[0]["officer"] and HEAD[0] in history[0]["officer"],
          f"the registration carries officer {history[0]['officer']!r}")

    # -- search without accents ----------------------------------------------
    b.go(base + "/search", "input[name=q]")
    box = b.find("input[name=q]")
    box.send_keys("nguyen thi hong")
    b.click_and_wait_load(b.find("form[action='/search'] button, form[action='/search'] "
                                 "[type=submit]"))
    link_css = f"#results a.record-link[href='/records/{urllib.parse.quote(rid)}']"
    b.wait_css(link_css)
    check(CHILD["full_name"] in b.text("#results"), "the hit does not show the child's name")
    b.shot("search")
    b.click_and_wait_load(b.find(link_css))
    b.wait_css("#amend-link")

    # -- amend with a reason ------------------------------------------------
    first_reason = "Sửa quê quán theo giấy khai sinh của mẹ"
    b.click_and_wait_load(b.find("#amend-link"))
    b.wait_css("form#amend-form")
    b.set_value("data.child.native_place", "Xã Cam Hải Đông, Tỉnh Khánh Hòa")
    b.find("#amend-form [name=reason]").send_keys(first_reason)
    b.shot("amend")
    b.click_and_wait_load(b.find("#amend-form [type=submit]"))
    b.wait_css("table#history")
    hist = b.text("table#history")
    for want in (FIRST_PLACE, "Xã Cam Hải Đông, Tỉnh Khánh Hòa", first_reason, HEAD[1]):
        check(want in hist, f"the history does not show {want!r}: {hist!r}")
    b.shot("record-amended")

    # -- the record reaches the hub -----------------------------------------
    rec_url = f"{base}/records/{urllib.parse.quote(rid)}"
    sync_now(b, base)
    b.shot("sync")
    b.go(rec_url, "#sync-state")
    b.wait_until("the record page saying it reached the hub",
                 lambda d: reached(d, rec_url), timeout=SYNC_WAIT)
    cl.tpj("hub", "record", "show", rid, "--scope", COMMUNE)

    # -- a concurrent correction ----------------------------------------------
    cl.stop(hub)
    b.go(rec_url, "#amend-link")
    b.click_and_wait_load(b.find("#amend-link"))
    b.wait_css("form#amend-form")
    b.set_value("data.child.birth_place", BROWSER_PLACE)
    b.find("#amend-form [name=reason]").send_keys("Nơi sinh theo giấy chứng sinh")
    b.click_and_wait_load(b.find("#amend-form [type=submit]"))
    b.wait_css("table#history")
    check("Chờ đồng bộ" in b.text("#sync-state"),
          f"with the hub down the record page says {b.text('#sync-state')!r}")
    b.shot("record-waiting")
    cl.tp("hub", "record", "amend", rid, "--scope", COMMUNE, "--field",
          f"data.child.birth_place={HUB_PLACE}", "--reason", "Sở sửa theo hồ sơ gốc")
    hub = hub_serve(cl, listen)

    def conflict_shown(d):
        # One round: sync now, then look at the record page.
        sync_now(b, base)
        d.get(rec_url)
        return d.find_elements(By.CSS_SELECTOR, "section#conflicts form.resolve")

    b.wait_until("the conflict on the record page", conflict_shown, timeout=SYNC_WAIT)
    conflicts = b.text("section#conflicts")
    for want in (BROWSER_PLACE, HUB_PLACE):
        check(want in conflicts, f"the conflict does not show {want!r}: {conflicts!r}")
    b.shot("record-conflict")

    form = None
    for f in b.finds("section#conflicts form.resolve"):
        if f.find_element(By.CSS_SELECTOR, "input[name=field]").get_attribute(
                "value") == "data.child.birth_place":
            form = f
    check(form is not None, "no resolve form for data.child.birth_place")
    radios = [r for r in form.find_elements(By.CSS_SELECTOR, "input[type=radio][name=value]")
              if BROWSER_PLACE in r.get_attribute("value")]
    check(radios, "no choice of the browser's value in the resolve form")
    radios[0].click()
    form.find_element(By.CSS_SELECTOR, "[name=reason]").send_keys(
        "Giữ nơi sinh theo giấy chứng sinh")
    b.click_and_wait_load(form.find_element(By.CSS_SELECTOR, "button, [type=submit]"))
    b.wait_css("table#fields")
    check(not b.finds("section#conflicts form.resolve"),
          f"the conflict is still shown after resolving: {b.text('section#conflicts')!r}")
    check(BROWSER_PLACE in b.text("table#fields"), "the chosen value is not the field's value")
    b.shot("record-resolved")
    place = cl.tpj("c", "record", "show", rid)["document"]["data"]["child"]["birth_place"]
    check(place == BROWSER_PLACE, f"the store holds birth_place {place!r} after resolving")
    sync_now(b, base)

    # -- the extract, printed -------------------------------------------------
    b.go(rec_url, "#extract-link")
    b.click_and_wait_load(b.find("#extract-link"))
    b.wait_css("article#extract")
    b.wait_css("#print")
    # The extract prints names in capitals (as the paper form does).
    shown = b.text("article#extract")
    check(CHILD["full_name"].upper() in shown or CHILD["full_name"] in shown,
          f"the extract does not show the child: {shown[:800]!r}")
    b.shot("extract")
    pdf = base64.b64decode(b.driver.print_page())
    check(pdf.startswith(b"%PDF-"), "print_page did not give a PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    check(pages >= 1, f"the extract's PDF has {pages} pages")
    with open(os.path.join(SHOTS, "extract.pdf"), "wb") as f:
        f.write(pdf)

    # -- the hub console --------------------------------------------------------
    login(b, hub.url, OPERATOR, "table#communes")
    row_css = f"table#communes tr[data-commune='{COMMUNE}']"
    b.wait_css(row_css)
    row = b.find(row_css)
    check("behind" not in (row.get_attribute("class") or "").split(),
          f"the commune is shown behind: {row.text!r}")
    check(re.search(r"\d\d/\d\d/\d{4}", row.text),
          f"the commune's row shows no last successful sync: {row.text!r}")
    b.shot("hub")
    b.go(hub.url + "/hub/stats", "svg#chart")
    bars = [r for r in b.finds("svg#chart rect")
            if float(r.get_attribute("height") or 0) > 0 and float(r.get_attribute("width") or 0)
            > 0]
    check(bars, "the chart has no bar")
    b.wait_css("table#stats")
    b.shot("hub-stats")


def reached(d, rec_url):
    """Whether the record page says its last change here reached the hub
    (the page is loaded again each time)."""
    d.get(rec_url)
    return "Đã đến Sở" in d.find_element(By.CSS_SELECTOR, "#sync-state").text


def sync_now(b, base):
    b.go(base + "/sync", "#sync-now")
    b.click_and_wait_load(b.find("#sync-now"))
    b.wait_css("table#peers")


if __name__ == "__main__":
    sys.exit(webnode.run_test(TUPHAP, "tuphap-web-browser-", scenario))
