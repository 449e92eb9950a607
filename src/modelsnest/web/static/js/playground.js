/* The dashboard's playground: posts the form with fetch(), reads the answer as a stream of
   server-sent events (EventSource cannot POST) and shows it token by token as plain text;
   at the end the server's sanitised HTML of the answer replaces it (model output is never
   inserted as HTML by this script). Stop aborts the request: the server sees the
   disconnect, the gateway bills what was delivered, and the receipt is read afterwards. */
(function () {
  "use strict";
  var form = document.getElementById("pg-form");
  if (!form || !window.fetch || !window.ReadableStream) return;
  var mode = form.getAttribute("data-playground");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var sendButton = form.querySelector("[data-pg-send]");
  var stopButton = form.querySelector("[data-pg-stop]");
  var formError = document.getElementById("pg-form-error");
  var status = document.getElementById("pg-status");
  var running = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function showFormError(message) {
    if (!formError) return;
    formError.hidden = !message;
    formError.textContent = message || "";
  }
  function setBusy(busy) {
    if (sendButton) sendButton.disabled = busy;
    if (stopButton) stopButton.disabled = !busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
    if (status) status.textContent = busy ? "Answering…" : "";
  }
  function updateBalance(receipt) {
    var shown = document.querySelector(".header-balance > span:last-child");
    if (shown && receipt.balance) { shown.textContent = receipt.balance; shown.title = "Exactly " + receipt.balance_exact; }
  }
  function receiptText(receipt, stopped) {
    var parts = [];
    if (stopped || receipt.status === "cancelled") parts.push("Stopped");
    else if (receipt.status === "partial" || receipt.status === "error") parts.push("Incomplete");
    parts.push("Cost " + receipt.cost);
    parts.push(receipt.prompt_tokens + " + " + receipt.completion_tokens + " tokens");
    if (receipt.latency_ms !== null && receipt.latency_ms !== undefined) parts.push(receipt.latency_ms.toLocaleString() + " ms");
    parts.push("Balance " + receipt.balance);
    return parts.join(" · ");
  }

  /* Parse "event: x\ndata: {...}\n\n" frames from a byte stream. */
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (step) {
        if (step.done) { buffer += decoder.decode(); flush(true); return; }
        buffer += decoder.decode(step.value, { stream: true });
        flush(false);
        return pump();
      });
    }
    function flush(end) {
      var parts = buffer.split("\n\n");
      buffer = end ? "" : parts.pop();
      parts.forEach(function (block) {
        if (!block.trim()) return;
        var name = "message", data = "";
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event: ") === 0) name = line.slice(7);
          else if (line.indexOf("data: ") === 0) data += line.slice(6);
        });
        var payload = null;
        try { payload = JSON.parse(data); } catch (e) { payload = data; }
        onEvent(name, payload);
      });
    }
    return pump();
  }

  function pollReceipt(requestId, view, tries) {
    if (!requestId) { view.receipt.textContent = "Stopped."; return; }
    fetch("/dashboard/playground/receipts/" + encodeURIComponent(requestId), { credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 200) return response.json();
        if (response.status === 202 && tries > 0) { setTimeout(function () { pollReceipt(requestId, view, tries - 1); }, 500); }
        return null;
      })
      .then(function (receipt) {
        if (!receipt) return;
        view.receipt.textContent = receiptText(receipt, true);
        updateBalance(receipt);
      }, function () { view.receipt.textContent = "Stopped."; });
  }

  /* One answer into ``view`` ({root, body, receipt}); resolves when it ends. */
  function stream(fields, view) {
    var controller = new AbortController();
    var job = { controller: controller, stopped: false, requestId: null, view: view };
    running.push(job);
    var text = "";
    view.body.classList.add("pg-plain", "is-streaming");
    var started = performance.now();
    var done = false;
    return fetch("/dashboard/playground/stream", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      signal: controller.signal
    }).then(function (response) {
      return readEvents(response, function (name, data) {
        if (name === "start") {
          job.requestId = data.request_id;
          view.root.setAttribute("data-request-id", data.request_id);
          if (view.onStart) view.onStart(data);
        } else if (name === "delta") {
          text += data.text;
          view.body.textContent = text;
          if (view.onDelta) view.onDelta(performance.now() - started);
        } else if (name === "error") {
          var alert = el("div", "pg-inline-error", data.message);
          alert.setAttribute("role", "alert");
          view.root.appendChild(alert);
          if (data.field && view.onFieldError) view.onFieldError(data.field);
        } else if (name === "done") {
          done = true;
          view.body.classList.remove("pg-plain");
          view.body.classList.add("prose", "pg-prose");
          if (data.html) view.body.innerHTML = data.html; // sanitised on the server (nh3 allow-list)
          view.receipt.textContent = receiptText(data, false);
          updateBalance(data);
        }
      });
    }).catch(function (error) {
      if (job.stopped || (error && error.name === "AbortError")) { pollReceipt(job.requestId, view, 40); return; }
      var alert = el("div", "pg-inline-error", "The connection was lost before the answer finished. Check the receipt in Usage; you pay only for what was delivered.");
      alert.setAttribute("role", "alert");
      view.root.appendChild(alert);
    }).then(function () {
      view.body.classList.remove("is-streaming");
      if (!done && !text && !view.root.querySelector(".pg-inline-error") && !job.stopped) view.body.textContent = "(no answer)";
      running.splice(running.indexOf(job), 1);
    });
  }

  function stopAll() {
    running.forEach(function (job) { job.stopped = true; job.view.receipt.textContent = "Stopping…"; job.controller.abort(); });
  }
  if (stopButton) stopButton.addEventListener("click", stopAll);

  function value(name) { var field = form.elements[name]; return field ? field.value : ""; }

  function chat() {
    var messages = document.getElementById("pg-messages");
    var welcome = document.getElementById("pg-welcome");
    var message = value("message").trim();
    if (!message) { showFormError("Write a message first."); form.elements.message.focus(); return; }
    showFormError("");
    if (welcome) welcome.remove();
    var model = value("model");
    var mine = el("li", "pg-msg pg-msg-user");
    mine.appendChild(el("div", "pg-msg-who", "You"));
    mine.appendChild(el("div", "pg-msg-body pg-plain", message));
    messages.appendChild(mine);
    var theirs = el("li", "pg-msg pg-msg-assistant");
    theirs.appendChild(el("div", "pg-msg-who", model));
    var body = el("div", "pg-msg-body");
    var receipt = el("p", "pg-receipt");
    theirs.appendChild(body);
    theirs.appendChild(receipt);
    messages.appendChild(theirs);
    theirs.scrollIntoView({ block: "end" });
    var fields = {
      model: model, message: message, system: value("system"), temperature: value("temperature"),
      max_tokens: value("max_tokens"), conversation_id: value("conversation_id")
    };
    form.elements.message.value = "";
    setBusy(true);
    stream(fields, {
      root: theirs, body: body, receipt: receipt,
      onStart: function (data) {
        if (data.conversation_id && !value("conversation_id")) {
          form.elements.conversation_id.value = data.conversation_id;
          history.replaceState(null, "", "/dashboard/playground?c=" + data.conversation_id);
          addToHistory(data.conversation_id, message, model);
        }
      },
      onDelta: function () { theirs.scrollIntoView({ block: "end" }); },
      onFieldError: function () { mine.classList.add("is-refused"); }
    }).then(function () { setBusy(false); form.elements.message.focus(); });
  }

  function $current() { return Array.prototype.slice.call(document.querySelectorAll(".pg-history-item.is-current")); }
  function addToHistory(id, title, model) {
    var list = document.getElementById("pg-history-list");
    var empty = document.getElementById("pg-history-empty");
    if (!list) return;
    if (empty) empty.remove();
    var item = el("li", "pg-history-item is-current");
    item.id = "conversation-" + id;
    var link = el("a");
    link.href = "/dashboard/playground?c=" + id;
    link.setAttribute("aria-current", "page");
    link.appendChild(el("span", "pg-history-title", title.length > 80 ? title.slice(0, 79) + "…" : title));
    link.appendChild(el("span", "pg-history-meta", model + " · just now"));
    item.appendChild(link);
    var remove = el("form");
    var action = "/dashboard/playground/conversations/" + id + "/delete";
    remove.method = "post";
    remove.action = action;
    remove.setAttribute("hx-post", action);
    remove.setAttribute("hx-target", "#conversation-" + id);
    remove.setAttribute("hx-swap", "outerHTML");
    remove.setAttribute("hx-confirm", "Delete this conversation? This cannot be undone.");
    var token = el("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrf;
    remove.appendChild(token);
    var button = document.querySelector(".pg-history-item form button");
    if (button) {
      button = button.cloneNode(true);
    } else {
      button = el("button", "btn btn-ghost btn-icon btn-sm", "\u00d7");
      button.type = "submit";
    }
    button.setAttribute("aria-label", "Delete the conversation \u201c" + (title.length > 40 ? title.slice(0, 39) + "\u2026" : title) + "\u201d");
    remove.appendChild(button);
    item.appendChild(remove);
    $current().forEach(function (node) { node.classList.remove("is-current"); node.querySelectorAll("[aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); }); });
    list.insertBefore(item, list.firstChild);
    if (window.htmx && typeof window.htmx.process === "function") window.htmx.process(item);
  }

  function compare() {
    var columns = document.getElementById("pg-columns");
    var message = value("message").trim();
    if (!message) { showFormError("Write a prompt first."); form.elements.message.focus(); return; }
    var names = {};
    var models = Array.prototype.slice.call(form.querySelectorAll('select[name="models"]'))
      .map(function (select) {
        if (select.selectedIndex >= 0) names[select.value] = select.options[select.selectedIndex].text;
        return select.value;
      })
      .filter(function (slug, index, all) { return slug && all.indexOf(slug) === index; });
    if (!models.length) { showFormError("Choose at least one model."); return; }
    showFormError("");
    columns.textContent = "";
    columns.setAttribute("data-count", String(models.length));
    setBusy(true);
    var jobs = models.map(function (model) {
      var column = el("section", "pg-column card");
      column.setAttribute("aria-label", "Answer of " + (names[model] || model));
      var head = el("div", "card-header");
      var title = el("div");
      title.appendChild(el("h2", "", names[model] || model));
      title.appendChild(el("p", "card-description", model));
      head.appendChild(title);
      var latency = el("span", "muted small pg-latency", "");
      head.appendChild(latency);
      column.appendChild(head);
      var inner = el("div", "card-body");
      var body = el("div", "pg-msg-body");
      var receipt = el("p", "pg-receipt");
      inner.appendChild(body);
      inner.appendChild(receipt);
      column.appendChild(inner);
      columns.appendChild(column);
      var first = null;
      return stream({
        mode: "compare", model: model, message: message, system: value("system"),
        temperature: value("temperature"), max_tokens: value("max_tokens")
      }, {
        root: inner, body: body, receipt: receipt,
        onDelta: function (ms) { if (first === null) { first = ms; latency.textContent = "First token in " + Math.round(ms).toLocaleString() + " ms"; } }
      });
    });
    Promise.all(jobs).then(function () { setBusy(false); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (running.length) return;
    if (mode === "compare") compare(); else chat();
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.name === "message") {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  var modelSelect = document.getElementById("pg-model");
  var docs = document.getElementById("pg-model-docs");
  if (modelSelect && docs) modelSelect.addEventListener("change", function () { docs.href = "/models/" + encodeURIComponent(modelSelect.value); });
})();
