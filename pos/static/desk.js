/* The front desk: client search as you type, a sale's live status, print buttons, and
   the helpers the checkout's own script (checkout.js) uses. No framework. Everything shown is set with
   textContent, never parsed as HTML. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function debounce(fn, ms) {
    var timer = null;
    var wrapped = function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
    wrapped.cancel = function () { clearTimeout(timer); };
    return wrapped;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, status: r.status, body: b }; }); });
  }

  function sendJSON(method, url, data, keepalive) {
    return fetch(url, {
      method: method, credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(data)
    }).then(function (r) {
      return r.json().catch(function () { return { error: { message: "The server answered " + r.status + "." } }; })
        .then(function (b) { return { ok: r.ok, status: r.status, body: b }; });
    });
  }

  function errorMessage(result) {
    var e = result.body && result.body.error;
    return e && e.message ? e.message : "Something went wrong (" + result.status + ").";
  }

  /* Arrow keys between a search box and its result buttons; Escape goes back to the box. */
  function arrowKeys(input, list) {
    function buttons() { return Array.prototype.slice.call(list.querySelectorAll("button")); }
    input.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown") { return; }
      var all = buttons();
      if (all.length) { event.preventDefault(); all[0].focus(); }
    });
    list.addEventListener("keydown", function (event) {
      var all = buttons();
      var at = all.indexOf(document.activeElement);
      if (at === -1) { return; }
      if (event.key === "ArrowDown" && at < all.length - 1) { event.preventDefault(); all[at + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? all[at - 1] : input).focus(); }
      if (event.key === "Escape") { event.preventDefault(); input.focus(); }
    });
  }

  // Shared with checkout.js (loaded after this file).
  window.posDesk = { $: $, el: el, debounce: debounce, getJSON: getJSON, sendJSON: sendJSON,
    errorMessage: errorMessage, arrowKeys: arrowKeys };

  /* -- the clients page: search as you type --------------------------------------------- */
  function clientSearch() {
    var input = $("client-search");
    if (!input) { return; }
    var tbody = $(input.getAttribute("data-target"));
    var seq = 0;
    input.addEventListener("input", debounce(function () {
      var mine = ++seq;
      getJSON(input.getAttribute("data-url") + "?q=" + encodeURIComponent(input.value)).then(function (res) {
        if (mine !== seq || !res.ok) { return; }
        tbody.textContent = "";
        if (!res.body.length) {
          var tr = el("tr", { "class": "empty" });
          tr.appendChild(el("td", { colspan: "3" }, "No client matches."));
          tbody.appendChild(tr);
        }
        res.body.forEach(function (c) {
          var tr = el("tr");
          var td = el("td");
          td.appendChild(el("a", { href: c.url }, c.name));
          tr.appendChild(td);
          tr.appendChild(el("td", {}, c.email || ""));
          tr.appendChild(el("td", {}, c.phone || ""));
          tbody.appendChild(tr);
        });
      });
    }, 150));
  }

  /* -- a sale waiting for its card payment ------------------------------------------------ */
  function salePolling() {
    var panel = $("payment-panel");
    if (!panel) { return; }
    var url = panel.getAttribute("data-status-url");
    var timer = setInterval(function () {
      getJSON(url).then(function (res) {
        if (!res.ok || res.body.status === "awaiting_payment") { return; }
        clearInterval(timer);
        var badge = $("sale-status");
        badge.textContent = res.body.label;
        badge.className = "badge sale-" + res.body.status;
        panel.hidden = true;
        if (res.body.status === "paid") {
          $("paid-panel").hidden = false;
        } else {
          $("closed-panel").hidden = false;
        }
      }).catch(function () { /* the next tick tries again */ });
    }, 2000);
  }

  function printButtons() {
    ["print-receipt", "print-summary-button"].forEach(function (id) {
      var button = $(id);
      if (button) { button.addEventListener("click", function () { window.print(); }); }
    });
  }

  function start() {
    clientSearch();
    salePolling();
    printButtons();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
