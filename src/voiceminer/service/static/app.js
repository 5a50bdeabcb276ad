/* VoiceMiner triage UI: keyboard shortcuts for the queue and the case page.
   Loaded as a file of the project (the CSP forbids inline and third-party scripts).
   Text from the server is only ever set with textContent, never as HTML. */
(function () {
  "use strict";

  var STATUS_KEYS = ["new", "acknowledged", "in_progress", "waiting", "resolved"];

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }

  function toast(text, bad) {
    var el = document.getElementById("toast");
    if (!el) { return; }
    el.textContent = text;
    el.className = bad ? "bad" : "good";
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.hidden = true; }, bad ? 6000 : 2500);
  }

  function typing(ev) {
    var t = ev.target;
    var tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    return tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable);
  }

  function patchCase(id, version, change) {
    var body = Object.assign({ version: Number(version) }, change);
    return fetch("/api/cases/" + encodeURIComponent(id), {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": meta("csrf-token") || "" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  /* ---- the queue ---- */
  function setupQueue() {
    var table = document.getElementById("queue");
    var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr")) : [];
    var at = -1;

    function select(i) {
      if (!rows.length) { return; }
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle("sel", j === at); r.setAttribute("aria-selected", j === at ? "true" : "false"); });
      rows[at].scrollIntoView({ block: "nearest" });
    }

    function showRow(row, c) {
      row.dataset.version = c.version;
      var st = row.querySelector(".status");
      st.textContent = "";
      var span = document.createElement("span");
      span.className = "st st-" + c.status;
      span.textContent = c.status.replace("_", " ");
      st.appendChild(span);
      row.querySelector(".assignee").textContent = c.assignee || "\u2014";
    }

    function change(row, what, label) {
      patchCase(row.dataset.id, row.dataset.version, what).then(function (res) {
        if (res.ok) {
          showRow(row, res.data);
          toast("Case " + res.data.id + ": " + label);
        } else {
          if (res.status === 409 && res.data.current) { showRow(row, res.data.current); }
          toast((res.data && res.data.detail) || ("error " + res.status), true);
        }
      }).catch(function () { toast("the service does not answer", true); });
    }

    rows.forEach(function (r, j) {
      r.addEventListener("click", function (ev) { if (ev.target.tagName.toLowerCase() !== "a") { select(j); } });
    });
    if (rows.length) { select(0); }

    document.addEventListener("keydown", function (ev) {
      if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      var row = rows[at];
      if (ev.key === "j") { select(at + 1); }
      else if (ev.key === "k") { select(at - 1); }
      else if (ev.key === "Enter" && row) { window.location.href = row.dataset.href; }
      else if (ev.key === "a" && row) { change(row, { assignee: meta("user-name") }, "assigned to you"); }
      else if (/^[1-5]$/.test(ev.key) && row) {
        var status = STATUS_KEYS[Number(ev.key) - 1];
        change(row, { status: status }, "status " + status.replace("_", " "));
      } else { return; }
      ev.preventDefault();
    });
  }

  /* ---- the case page ---- */
  function setupCase() {
    var form = document.getElementById("case-form");
    if (!form) { return; }
    var status = document.getElementById("f-status");
    var assignee = document.getElementById("f-assignee");
    var theme = document.getElementById("f-theme");
    var cause = document.getElementById("f-cause");

    function syncCauses() {
      var chosen = theme.value;
      Array.prototype.forEach.call(cause.options, function (o) {
        var t = o.getAttribute("data-theme");
        o.hidden = Boolean(chosen && t && t !== chosen);
      });
      var sel = cause.options[cause.selectedIndex];
      if (sel && sel.hidden) { cause.value = ""; }
    }
    if (theme && cause) { theme.addEventListener("change", syncCauses); syncCauses(); }

    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        return;
      }
      if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      if (/^[1-5]$/.test(ev.key) && status && !status.disabled) {
        status.value = STATUS_KEYS[Number(ev.key) - 1];
        status.classList.add("changed");
      } else if (ev.key === "a" && assignee) {
        assignee.value = meta("user-name") || "";
        assignee.classList.add("changed");
      } else if (ev.key === "t" && theme) { theme.focus(); }
      else if (ev.key === "c" && document.getElementById("f-action")) { document.getElementById("f-action").focus(); }
      else if (ev.key === "r" && document.getElementById("f-reply")) { document.getElementById("f-reply").focus(); }
      else if (ev.key === "Escape") { window.location.href = "/queue"; }
      else { return; }
      ev.preventDefault();
    });
  }

  /* ---- everywhere: "/" searches ---- */
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "/" || typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var box = document.getElementById("search-box");
    ev.preventDefault();
    if (box) { box.focus(); box.select(); } else { window.location.href = "/search"; }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.classList.contains("queue-page")) { setupQueue(); }
    if (document.body.classList.contains("case-page")) { setupCase(); }
  });
})();
