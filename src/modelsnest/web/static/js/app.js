/* Modelsnest pages: progressive enhancement only. Every page reads and works without this file;
   it adds the theme toggle, copy buttons, dialogs, local times, toasts, the mobile menu,
   busy buttons, charts, code tabs and the CSRF header on htmx requests. */
(function () {
  "use strict";
  var THEME_KEY = "modelsnest-theme";
  var root = document.documentElement;

  function $all(selector, scope) { return Array.prototype.slice.call((scope || document).querySelectorAll(selector)); }

  /* ---- theme ---- */
  function setTheme(theme, remember) {
    root.setAttribute("data-theme", theme);
    if (remember) { try { localStorage.setItem(THEME_KEY, theme); } catch (e) { /* ignore */ } }
    $all("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
      button.setAttribute("aria-label", theme === "dark" ? "Switch to light theme" : "Switch to dark theme");
      button.setAttribute("title", theme === "dark" ? "Switch to light theme" : "Switch to dark theme");
    });
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    setTheme(root.getAttribute("data-theme") === "dark" ? "light" : "dark", true);
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function (event) {
      var chosen = null;
      try { chosen = localStorage.getItem(THEME_KEY); } catch (e) { /* ignore */ }
      if (!chosen) setTheme(event.matches ? "dark" : "light", false);
    });
  }

  /* ---- toasts ---- */
  var ICONS = { success: "check-circle", warning: "alert", danger: "alert", info: "info" };
  function showToast(message, kind) {
    kind = ICONS[kind] ? kind : "info";
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-" + kind;
    toast.setAttribute("role", kind === "danger" ? "alert" : "status");
    var text = document.createElement("div");
    text.className = "toast-message";
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-ghost btn-sm btn-icon toast-close";
    close.setAttribute("data-toast-close", "");
    close.setAttribute("aria-label", "Dismiss notification");
    close.textContent = "\u00d7";
    toast.appendChild(text);
    toast.appendChild(close);
    region.appendChild(toast);
    scheduleDismiss(toast, kind);
  }
  function scheduleDismiss(toast, kind) {
    if (kind === "danger" || kind === "warning") return; // errors stay until dismissed
    setTimeout(function () { toast.remove(); }, 6000);
  }
  window.modelsnestToast = showToast;
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-toast-close]");
    if (close) close.closest(".toast").remove();
  });

  /* ---- copy ---- */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-target]");
    if (!button) return;
    event.preventDefault();
    var text = button.getAttribute("data-copy");
    if (text === null) {
      var target = document.querySelector(button.getAttribute("data-copy-target"));
      text = target ? (target.value !== undefined && target.tagName !== "OUTPUT" ? target.value : target.textContent) : "";
    }
    var label = button.querySelector("[data-copy-label]");
    copyText(text.trim()).then(function () {
      button.setAttribute("data-copied", "true");
      if (label) label.textContent = "Copied";
      var live = document.getElementById("live-region");
      if (live) live.textContent = "Copied to the clipboard";
      setTimeout(function () {
        button.removeAttribute("data-copied");
        if (label) label.textContent = label.getAttribute("data-copy-label") || "Copy";
      }, 2000);
    }, function () { showToast("Could not copy: select the text and copy it by hand.", "warning"); });
  });
  // Copy buttons are useless without this script: they stay hidden until it runs.
  function revealScriptOnly(scope) { $all("[data-needs-js]", scope).forEach(function (el) { el.hidden = false; }); }

  /* ---- dialogs (native <dialog>; the trigger is a link to a no-JS fallback page) ---- */
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("[autofocus], input:not([type=hidden]), button");
        if (first) first.focus();
      }
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    if (event.target.tagName === "DIALOG" && event.target.open) {
      var rect = event.target.getBoundingClientRect();
      var inside = event.clientX >= rect.left && event.clientX <= rect.right && event.clientY >= rect.top && event.clientY <= rect.bottom;
      if (!inside) event.target.close(); // a click on the backdrop
    }
  });

  /* ---- busy buttons: no double submits ---- */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-no-busy")) return;
    var button = event.submitter || form.querySelector("[type=submit]");
    if (!button) return;
    if (form.getAttribute("data-submitting") === "true") { event.preventDefault(); return; }
    form.setAttribute("data-submitting", "true");
    button.setAttribute("aria-busy", "true");
    // htmx submissions re-enable on completion; full-page ones leave the page anyway, but a
    // page restored from the back-forward cache must be usable again.
    setTimeout(function () { form.removeAttribute("data-submitting"); button.removeAttribute("aria-busy"); }, 8000);
  });
  window.addEventListener("pageshow", function () {
    $all("form[data-submitting]").forEach(function (form) { form.removeAttribute("data-submitting"); });
    $all("[aria-busy=true]").forEach(function (button) { button.removeAttribute("aria-busy"); });
  });

  /* ---- times: the viewer's time zone, UTC stays on hover ---- */
  var dateTimeFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  var dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
  function relative(date) {
    var seconds = (Date.now() - date.getTime()) / 1000;
    var future = seconds < 0;
    seconds = Math.abs(seconds);
    var label;
    if (seconds < 45) return "just now";
    if (seconds >= 30 * 86400) return dateFormat.format(date);
    if (seconds < 3600) label = Math.max(1, Math.round(seconds / 60)) + " min";
    else if (seconds < 86400) label = Math.round(seconds / 3600) + " h";
    else { var days = Math.round(seconds / 86400); label = days + (days === 1 ? " day" : " days"); }
    return future ? "in " + label : label + " ago";
  }
  function localiseTimes(scope) {
    $all("time[data-local], time[data-relative]", scope).forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      if (el.hasAttribute("data-relative")) {
        el.textContent = relative(date);
        el.setAttribute("title", dateTimeFormat.format(date) + " (" + el.getAttribute("datetime").replace("T", " ").replace("Z", " UTC") + ")");
      } else {
        el.textContent = (el.getAttribute("data-local") === "date" ? dateFormat : dateTimeFormat).format(date);
      }
    });
  }
  setInterval(function () { localiseTimes(document); }, 60000);

  /* ---- menus ---- */
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (toggle) {
      var shell = toggle.closest("[data-menu-root]");
      var open = shell.getAttribute("data-menu-open") !== "true";
      shell.setAttribute("data-menu-open", open ? "true" : "false");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    if (event.target.closest("[data-menu-close]")) {
      var root2 = event.target.closest("[data-menu-root]");
      root2.setAttribute("data-menu-open", "false");
    }
    $all("details.user-menu[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    $all("[data-menu-root][data-menu-open=true]").forEach(function (el) { el.setAttribute("data-menu-open", "false"); });
    $all("details.user-menu[open]").forEach(function (details) { details.removeAttribute("open"); details.querySelector("summary").focus(); });
  });

  /* ---- filter a long list of checkboxes ---- */
  document.addEventListener("input", function (event) {
    var input = event.target.closest("[data-filter-list]");
    if (!input) return;
    var list = document.getElementById(input.getAttribute("data-filter-list"));
    var needle = input.value.trim().toLowerCase();
    $all("[data-filter-text]", list).forEach(function (item) {
      item.hidden = needle !== "" && item.getAttribute("data-filter-text").indexOf(needle) === -1;
    });
  });

  /* ---- charts (uPlot) inside the chart frame component ---- */
  function cssVar(name) { return getComputedStyle(root).getPropertyValue(name).trim(); }
  function drawCharts(scope) {
    if (!window.uPlot) return;
    $all("[data-chart]", scope).forEach(function (frame) {
      if (frame.getAttribute("data-drawn") === "true") return;
      var source = frame.querySelector("script[type='application/json']");
      var canvas = frame.querySelector(".chart-canvas");
      if (!source || !canvas) return;
      var spec = JSON.parse(source.textContent);
      var axis = { stroke: cssVar("--text-3"), grid: { stroke: cssVar("--border"), width: 1 }, ticks: { stroke: cssVar("--border"), width: 1 } };
      var colors = [cssVar("--accent"), cssVar("--success"), cssVar("--warning"), cssVar("--info")];
      var options = {
        width: canvas.clientWidth || 600,
        height: 220,
        legend: { show: false },
        cursor: { points: { size: 6 } },
        scales: { x: { time: spec.time !== false } },
        axes: [
          Object.assign({ label: spec.xLabel || "" }, axis),
          Object.assign({ label: spec.yLabel || "", size: spec.ySize || 64, values: function (u, ticks) { return ticks.map(function (v) { return (spec.yPrefix || "") + v.toLocaleString(undefined, { maximumSignificantDigits: 4 }); }); } }, axis)
        ],
        series: [{}].concat(spec.series.map(function (s, i) {
          return { label: s.label, stroke: colors[i % colors.length], width: 2, fill: i === 0 ? cssVar("--accent-soft") : undefined, points: { show: false } };
        }))
      };
      canvas.innerHTML = "";
      // yDivisor: values sent as integers of a smaller unit (cost in nano-dollars), scaled for display only.
      var divisor = spec.yDivisor || 1;
      var plot = new window.uPlot(options, [spec.x].concat(spec.series.map(function (s) { return divisor === 1 ? s.values : s.values.map(function (v) { return v === null ? null : v / divisor; }); })), canvas);
      frame.setAttribute("data-drawn", "true");
      var fallback = frame.querySelector(".chart-fallback");
      if (fallback) fallback.hidden = true;
      new ResizeObserver(function () { plot.setSize({ width: canvas.clientWidth, height: 220 }); }).observe(canvas);
    });
  }

  /* ---- code tabs: one example in several languages; the choice is remembered ---- */
  var LANG_KEY = "modelsnest-code-language";
  function selectTab(group, name, remember) {
    var tabs = $all("[role=tab]", group);
    var match = tabs.filter(function (t) { return t.getAttribute("data-tab") === name; })[0] || tabs[0];
    if (!match) return;
    tabs.forEach(function (tab) {
      var on = tab === match;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    });
    if (remember) {
      try { localStorage.setItem(LANG_KEY, match.getAttribute("data-tab")); } catch (e) { /* ignore */ }
      $all("[data-code-tabs]").forEach(function (other) { if (other !== group) selectTab(other, name, false); });
    }
  }
  // Code blocks of content pages get a copy button (the page reads the same without it).
  var proseBlocks = 0;
  function enhanceProseCode(scope) {
    $all(".prose pre", scope).forEach(function (pre) {
      if (pre.parentNode.classList.contains("prose-code")) return;
      var code = pre.querySelector("code") || pre;
      if (!code.id) code.id = "prose-code-" + (++proseBlocks);
      var wrap = document.createElement("div");
      wrap.className = "prose-code";
      pre.parentNode.insertBefore(wrap, pre);
      wrap.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-secondary btn-sm copy-btn";
      button.setAttribute("data-copy-target", "#" + code.id);
      button.setAttribute("aria-label", "Copy the code");
      var label = document.createElement("span");
      label.setAttribute("data-copy-label", "Copy");
      label.textContent = "Copy";
      button.appendChild(label);
      wrap.appendChild(button);
    });
  }
  function enhanceCodeTabs(scope) {
    var preferred = null;
    try { preferred = localStorage.getItem(LANG_KEY); } catch (e) { /* ignore */ }
    $all("[data-code-tabs]", scope).forEach(function (group) {
      group.setAttribute("data-enhanced", "true");
      selectTab(group, preferred, false);
    });
  }
  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-code-tabs] [role=tab]");
    if (tab) selectTab(tab.closest("[data-code-tabs]"), tab.getAttribute("data-tab"), true);
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest ? event.target.closest("[data-code-tabs] [role=tab]") : null;
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft" && event.key !== "Home" && event.key !== "End")) return;
    var tabs = $all("[role=tab]", tab.closest("[role=tablist]"));
    var index = tabs.indexOf(tab);
    if (event.key === "ArrowRight") index = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") index = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") index = 0;
    else index = tabs.length - 1;
    event.preventDefault();
    tabs[index].focus();
    selectTab(tab.closest("[data-code-tabs]"), tabs[index].getAttribute("data-tab"), true);
  });

  /* ---- htmx ---- */
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector("meta[name='csrf-token']");
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });
  document.addEventListener("toast", function (event) { showToast(event.detail.message, event.detail.kind); });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    showToast(status === 429 ? "Too many attempts: wait a little and try again." : "That did not work (error " + status + "). Reload the page and try again.", "danger");
  });
  document.addEventListener("htmx:sendError", function () { showToast("The server could not be reached. Check your connection and try again.", "danger"); });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    if (form) {
      form.removeAttribute("data-submitting");
      $all("[aria-busy=true]", form).forEach(function (b) { b.removeAttribute("aria-busy"); });
    }
    var dialog = event.target.closest ? event.target.closest("dialog[open]") : null;
    if (dialog && event.detail.successful) dialog.close();
  });

  /* ---- billing: a preset amount fills its input ---- */
  document.addEventListener("click", function (event) {
    var chip = event.target.closest ? event.target.closest("[data-fill]") : null;
    if (!chip) return;
    var input = document.getElementById(chip.getAttribute("data-fill"));
    if (input) { input.value = chip.getAttribute("data-value"); input.focus(); }
  });

  function enhance(scope) {
    localiseTimes(scope);
    revealScriptOnly(scope);
    drawCharts(scope);
    enhanceCodeTabs(scope);
    enhanceProseCode(scope);
    $all(".toast", scope).forEach(function (toast) {
      var kind = (toast.className.match(/toast-(\w+)/) || [])[1] || "info";
      scheduleDismiss(toast, kind);
    });
  }
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
  function ready() { setTheme(root.getAttribute("data-theme") || "light", false); enhance(document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
})();
