// Progressive help for the officers' pages. Every page works without it and
// the server checks everything again; this only says sooner what the
// server would say:
//  * shape checks as the officer types (dates dd/mm/yyyy, 12-digit personal
//    IDs, 5-digit commune codes, numbers);
//  * a server check of the form as filled so far (POST data-check: the
//    import's rules and messages, for the fields the officer has touched);
//  * a person's full name filled from its parts until typed by hand;
//  * the print button of the extract, and confirmations.
"use strict";
(function () {
  // Messages come from the catalogue, in the page's language (JSON the
  // server puts on <body data-strings>); {0}, {1}, ... are filled in.
  var strings = {};
  try { strings = JSON.parse(document.body.getAttribute("data-strings") || "{}"); } catch (e) {}
  function say(key) {
    var s = strings[key] || key;
    for (var i = 1; i < arguments.length; i++) s = s.split("{" + (i - 1) + "}").join(String(arguments[i]));
    return s;
  }

  function errorEl(input) {
    var id = input.id + "-err";
    var el = document.getElementById(id);
    if (!el) {
      el = document.createElement("span");
      el.id = id;
      el.className = "field-error";
      el.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", el);
    }
    return el;
  }
  function show(input, text) {
    var el = errorEl(input);
    el.textContent = text || "";
    if (text) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", el.id);
    } else {
      input.removeAttribute("aria-invalid");
      settled(input.name);
    }
  }
  // A field put right leaves the summary of the refused form; the summary
  // goes when nothing is left in it.
  function settled(name) {
    var summary = document.getElementById("form-error");
    if (!summary || !name) return;
    summary.querySelectorAll("li[data-field]").forEach(function (li) {
      if (li.getAttribute("data-field") === name) li.remove();
    });
    if (!summary.querySelector("li")) summary.hidden = true;
  }
  function warn(input, text) {
    var el = document.getElementById(input.id + "-warn");
    if (el) el.textContent = text || "";
  }

  function checkDate(v) {
    var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v);
    if (!m) return say("js.date_shape");
    var d = +m[1], mo = +m[2], y = +m[3];
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    var shown = two(d) + "/" + two(mo) + "/" + y;
    if (mo < 1 || mo > 12)
      return say("js.month_range", shown);
    var days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (d < 1 || d > days)
      return say("js.no_such_day", shown, two(mo) + "/" + y, days);
    return "";
  }
  function checkDateTime(v) {
    var m = /^(\S+)\s+(\d{1,2}):(\d{2})$/.exec(v);
    if (!m || +m[2] > 23 || +m[3] > 59)
      return say("js.datetime_shape");
    return checkDate(m[1]);
  }
  // The shape of a value by its kind; "" when it looks right (the server
  // judges the rest: province code, century and sex digit, birth year).
  function shape(input) {
    var v = input.value.trim();
    if (!v) return "";
    switch (input.getAttribute("data-kind")) {
      case "date": return checkDate(v);
      case "datetime": return checkDateTime(v);
      case "personal_id":
        return /^\d{12}$/.test(v) ? "" : say("js.id_digits", v.replace(/\D/g, "").length);
      case "commune":
        return /^\d{5}$/.test(v) ? "" : say("js.commune_digits");
      case "year":
        return /^\d{4}$/.test(v) ? "" : say("js.year_digits");
      case "int":
        return /^\d+$/.test(v) ? "" : say("js.digits_only");
      case "money":
        return /^\d{1,3}([.\s]?\d{3})*$/.test(v) ? "" : say("js.money_digits");
    }
    return "";
  }

  // A person's full name from its parts, until the officer types it.
  function fullNames(form) {
    form.querySelectorAll("input[name$='.full_name']").forEach(function (full) {
      var p = full.name.slice(0, -"full_name".length);
      var parts = ["family_name", "middle_name", "given_name"].map(function (k) {
        return form.querySelector("[name='" + p + k + "']");
      });
      if (!parts[0] || !parts[2]) return;
      var auto = !full.value;
      full.addEventListener("input", function () { auto = !full.value; });
      parts.forEach(function (part) {
        if (!part) return;
        part.addEventListener("input", function () {
          if (!auto) return;
          full.value = parts.map(function (x) { return x ? x.value.trim() : ""; })
                            .filter(Boolean).join(" ");
          full.dispatchEvent(new CustomEvent("autofill", { bubbles: true }));
        });
      });
    });
  }

  function liveForm(form) {
    var url = form.getAttribute("data-check");
    var touched = {};
    var timer = null, seq = 0;
    function local(input) {
      var msg = shape(input);
      show(input, msg);
      return !msg;
    }
    function serverCheck() {
      var names = Object.keys(touched);
      if (!url || !names.length) return;
      var body = new URLSearchParams(new FormData(form));
      body.set("touched", names.join(","));
      var mine = ++seq;
      fetch(url, { method: "POST", credentials: "same-origin", body: body,
                   headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j || mine !== seq) return;  // a later check is on its way
          Object.keys(j).forEach(function (name) {
            if (name === "$warnings") return;
            var input = form.querySelector("[name='" + name + "']");
            if (!input || shape(input)) return;  // the shape message stays
            show(input, j[name]);
          });
          var warnings = j["$warnings"] || {};
          form.querySelectorAll(".field-warning").forEach(function (el) {
            var input = document.getElementById(el.id.slice(0, -"-warn".length));
            if (input) warn(input, warnings[input.name] || "");
          });
        })
        .catch(function () {});  // offline from the server: it checks on submit
    }
    function changed(e) {
      var input = e.target;
      if (!input.name || input.type === "hidden" || input.name === "csrf") return;
      touched[input.name] = true;
      local(input);
      clearTimeout(timer);
      timer = setTimeout(serverCheck, 400);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("autofill", changed);
    form.addEventListener("submit", function () {
      var err = document.getElementById("form-error");
      if (err) err.hidden = true;
    });
  }

  // In a part the record may leave out (a parent), the usual values
  // (ethnicity Kinh, nationality Việt Nam) once the officer begins it: an
  // unknown parent's part stays empty.
  function defaults(form) {
    form.querySelectorAll("fieldset").forEach(function (set) {
      var fills = set.querySelectorAll(":scope > .field > [data-default]");
      if (!fills.length) return;
      set.addEventListener("input", function (e) {
        if (!e.target.value || e.target.hasAttribute("data-default")) return;
        fills.forEach(function (input) {
          if (!input.value) input.value = input.getAttribute("data-default");
        });
      });
    });
  }

  document.querySelectorAll("form.record-form").forEach(function (form) {
    fullNames(form);
    defaults(form);
    liveForm(form);
  });
  // A refused form: its summary first, read out and in view.
  var summary = document.getElementById("form-error");
  if (summary && !summary.hidden && summary.focus) summary.focus();
  // A page that waits for work on the server (sync now) looks again.
  document.querySelectorAll("[data-refresh]").forEach(function (el) {
    var s = parseInt(el.getAttribute("data-refresh"), 10) || 2;
    setTimeout(function () { window.location.reload(); }, s * 1000);
  });
  document.querySelectorAll("button[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
})();
