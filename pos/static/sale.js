/* A sale's page and its receipt: the waiting page turns by itself when the card payment
   lands (or the sale ends), the Print button prints, an error takes the focus. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function salePolling() {
    var panel = $("payment-panel");
    if (!panel) { return; }
    var url = panel.getAttribute("data-status-url");
    var timer = setInterval(function () {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          if (body.status === "awaiting_payment") {
            // A card reader's decline (or a retry clearing it): the page shows it afresh.
            if ((body.last_error || "") !== (panel.getAttribute("data-last-error") || "")) {
              clearInterval(timer);
              window.location.reload();
            }
            return;
          }
          clearInterval(timer);
          // Turned in place (no reload: whatever the desk typed meanwhile stays).
          var badge = $("sale-status");
          badge.textContent = body.label;
          badge.className = "badge sale-" + body.status;
          panel.hidden = true;
          $(body.status === "paid" ? "paid-panel" : "closed-panel").hidden = false;
        })
        .catch(function () { /* the next tick tries again */ });
    }, 2000);
  }

  function printButtons() {
    var button = $("print-receipt");
    if (button) { button.addEventListener("click", function () { window.print(); }); }
  }

  function focusError() {
    var error = $("action-error") || $("reader-error") || $("tender-error");
    if (error) { error.focus(); }
  }

  function start() {
    salePolling();
    printButtons();
    focusError();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
