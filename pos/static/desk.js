/* The front desk: client search as you type, the checkout cart, a sale's live status.
   No framework. Everything shown is set with textContent, never parsed as HTML. Money is
   priced and formatted by the server (POST /desk/quote); the script never does sums. */
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
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, status: r.status, body: b }; }); });
  }

  function postJSON(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
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

  /* -- the checkout --------------------------------------------------------------------- */
  function checkout() {
    var root = $("checkout");
    if (!root) { return; }
    var catalog = [];
    var cart = [];          // [{key, sku|package_code, name, quantity}]
    var lastQuote = null;
    var quoteSeq = 0;
    var busy = false;

    var catalogLoaded = getJSON(root.getAttribute("data-catalog-url")).then(function (res) {
      if (res.ok) { catalog = res.body; }
    }).catch(function () { /* unreachable server: a scan then says it found nothing */ });

    /* client */
    var clientId = $("client-id");
    var clientName = $("client-chosen-name");
    var clientClear = $("client-clear");
    var clientInput = $("checkout-client-search");
    var clientList = $("checkout-client-results");

    function chooseClient(c) {
      clientId.value = c ? String(c.id) : "";
      clientName.textContent = c ? c.name : "no client chosen (retail only)";
      clientClear.hidden = !c;
      clientList.textContent = "";
      clientInput.value = "";
      $("product-input").focus();
    }
    clientClear.addEventListener("click", function () { chooseClient(null); });

    var clientSeq = 0;
    clientInput.addEventListener("input", debounce(function () {
      var mine = ++clientSeq;
      var q = clientInput.value.trim();
      if (!q) { clientList.textContent = ""; return; }
      getJSON(root.getAttribute("data-clients-url") + "?q=" + encodeURIComponent(q)).then(function (res) {
        if (mine !== clientSeq || !res.ok) { return; }
        clientList.textContent = "";
        if (!res.body.length) { clientList.appendChild(el("li", { "class": "none" }, "No client matches.")); }
        res.body.forEach(function (c) {
          var li = el("li");
          var button = el("button", { type: "button", "class": "pick", "data-client-id": String(c.id) });
          button.appendChild(el("strong", {}, c.name));
          button.appendChild(el("span", { "class": "muted" }, " " + [c.email, c.phone].filter(Boolean).join(" · ")));
          button.addEventListener("click", function () { chooseClient(c); });
          li.appendChild(button);
          clientList.appendChild(li);
        });
      });
    }, 150));

    $("nc-create").addEventListener("click", function () {
      var data = {};
      ["first_name", "last_name", "email", "phone"].forEach(function (name) {
        data[name] = $("nc-" + name).value;
        $("nc-" + name + "-error").textContent = "";
      });
      $("nc-error").textContent = "";
      postJSON(root.getAttribute("data-new-client-url"), data).then(function (res) {
        if (res.ok) {
          ["first_name", "last_name", "email", "phone"].forEach(function (n) { $("nc-" + n).value = ""; });
          $("new-client").open = false;
          chooseClient(res.body);
          return;
        }
        var details = (res.body.error && res.body.error.details) || {};
        var fields = details.fields || {};
        var shown = false;
        Object.keys(fields).forEach(function (name) {
          var p = $("nc-" + name + "-error");
          if (p) { p.textContent = fields[name]; shown = true; }
        });
        if (res.body.error && res.body.error.code === "duplicate_client") {
          $("nc-email-error").textContent = errorMessage(res);
          shown = true;
        }
        if (!shown) { $("nc-error").textContent = errorMessage(res); }
      });
    });

    /* products: search and scan */
    var productInput = $("product-input");
    var productList = $("product-results");
    var productError = $("product-error");

    function matches(q) {
      q = q.trim().toLowerCase();
      if (!q) { return []; }
      return catalog.filter(function (p) {
        return p.name.toLowerCase().indexOf(q) !== -1 ||
          (p.sku && p.sku.toLowerCase().indexOf(q) !== -1) ||
          (p.package_code && p.package_code.toLowerCase().indexOf(q) !== -1) ||
          (p.barcode && p.barcode === q);
      }).slice(0, 12);
    }

    function exact(q) {
      q = q.trim().toLowerCase();
      for (var i = 0; i < catalog.length; i++) {
        var p = catalog[i];
        if ((p.sku && p.sku.toLowerCase() === q) || (p.barcode && p.barcode.toLowerCase() === q) ||
            (p.package_code && p.package_code.toLowerCase() === q)) { return p; }
      }
      return null;
    }

    function showProducts() {
      productList.textContent = "";
      matches(productInput.value).forEach(function (p) {
        var li = el("li");
        var button = el("button", { type: "button", "class": "pick", "data-key": p.key });
        button.appendChild(el("strong", {}, p.name));
        var extra = p.kind === "package" ? p.sessions + " session(s)" : (p.available + " available");
        button.appendChild(el("span", { "class": "muted" }, " " + (p.sku || p.package_code) + " · " + p.price + " · " + extra));
        button.addEventListener("click", function () { addProduct(p); });
        li.appendChild(button);
        productList.appendChild(li);
      });
    }

    function addProduct(p) {
      productError.textContent = "";
      var line = null;
      cart.forEach(function (l) { if (l.key === p.key) { line = l; } });
      if (line) { line.quantity += 1; } else {
        cart.push({ key: p.key, sku: p.sku || null, package_code: p.package_code || null, name: p.name, quantity: 1 });
      }
      productInput.value = "";
      productList.textContent = "";
      productInput.focus();
      renderCart();
      requote();
    }

    productInput.addEventListener("input", debounce(showProducts, 80));
    productInput.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var q = productInput.value.trim();
      if (!q) { return; }
      // A scanner can be faster than the page: a code scanned before the catalog has
      // arrived is resolved once it has, the same way as any other.
      if (!catalog.length) { catalogLoaded.then(function () { addScanned(q); }); return; }
      addScanned(q);
    });

    function addScanned(q) {
      var found = exact(q);
      var list = found ? [found] : matches(q);
      if (list.length === 1) { addProduct(list[0]); return; }
      productError.textContent = list.length ? "Several products match: pick one below."
        : "No product has the sku, barcode or name “" + q + "”.";
      showProducts();
      productInput.select();
    }

    /* the cart and its totals */
    var tbody = $("cart-lines");

    function renderCart() {
      tbody.textContent = "";
      if (!cart.length) {
        var tr = el("tr", { "class": "empty" });
        tr.appendChild(el("td", { colspan: "5" }, "The cart is empty."));
        tbody.appendChild(tr);
      }
      cart.forEach(function (line, index) {
        var priced = lastQuote && lastQuote.lines ? lastQuote.lines.filter(function (q) { return q.key === line.key; })[0] : null;
        var tr = el("tr", { "data-key": line.key });
        tr.appendChild(el("td", { "class": "name" }, line.name));
        var qtyCell = el("td", { "class": "num" });
        var qty = el("input", { type: "number", min: "1", step: "1", value: String(line.quantity),
          "class": "qty", "aria-label": "Quantity of " + line.name });
        var typed = debounce(function () {
          var n = parseInt(qty.value, 10);
          if (n >= 1 && n !== line.quantity) { line.quantity = n; requote(); }
        }, 300);
        qty.addEventListener("input", typed);
        qty.addEventListener("change", function () {
          var n = parseInt(qty.value, 10);
          if (!(n >= 1)) { n = 1; }
          qty.value = String(n);
          if (n !== line.quantity) { line.quantity = n; requote(); }
        });
        qtyCell.appendChild(qty);
        tr.appendChild(qtyCell);
        tr.appendChild(el("td", { "class": "num unit" }, priced ? priced.unit_price : ""));
        tr.appendChild(el("td", { "class": "num line-total" }, priced ? priced.subtotal : ""));
        line.row = tr;
        var rm = el("td");
        var button = el("button", { type: "button", "class": "small remove", "aria-label": "Remove " + line.name }, "Remove");
        button.addEventListener("click", function () { cart.splice(index, 1); renderCart(); requote(); });
        rm.appendChild(button);
        tr.appendChild(rm);
        tbody.appendChild(tr);
      });
    }

    /* Prices change in place: rebuilding the rows would take the quantity box away from
       someone typing in it. */
    function updatePrices() {
      cart.forEach(function (line) {
        if (!line.row) { return; }
        var priced = lastQuote && lastQuote.lines ? lastQuote.lines.filter(function (q) { return q.key === line.key; })[0] : null;
        line.row.querySelector(".unit").textContent = priced ? priced.unit_price : "";
        line.row.querySelector(".line-total").textContent = priced ? priced.subtotal : "";
      });
    }

    function cartPayload() {
      return {
        client_id: clientId.value || null,
        lines: cart.map(function (l) {
          return l.sku ? { sku: l.sku, quantity: l.quantity } : { package_code: l.package_code, quantity: l.quantity };
        }),
        discount_code: $("discount-code").value.trim() || null,
        cash_tendered: $("cash-tendered").value.trim() || null
      };
    }

    function setTotals(q) {
      $("total-subtotal").textContent = q ? q.subtotal : "$0.00";
      $("total-discount").textContent = q && q.discount_cents ? "-" + q.discount : (q ? q.discount : "$0.00");
      $("total-tax").textContent = q ? q.tax : "$0.00";
      $("total-total").textContent = q ? q.total : "$0.00";
      $("change-due").textContent = q && q.change ? q.change : "—";
    }

    function setPayable(ok) {
      $("pay-card").disabled = !ok || busy;
      $("pay-cash").disabled = !ok || busy;
    }

    function requote() {
      var mine = ++quoteSeq;
      $("cart-error").textContent = "";
      $("discount-error").textContent = "";
      $("pay-error").textContent = "";
      if (!cart.length) { lastQuote = null; setTotals(null); setPayable(false); return; }
      setPayable(false);
      postJSON(root.getAttribute("data-quote-url"), cartPayload()).then(function (res) {
        if (mine !== quoteSeq) { return; }
        if (res.ok) {
          lastQuote = res.body;
          setTotals(res.body);
          updatePrices();
          setPayable(true);
          return;
        }
        lastQuote = null;
        setTotals(null);
        updatePrices();
        var error = res.body.error || {};
        var fields = (error.details && error.details.fields) || {};
        if (error.code === "discount_invalid") {
          $("discount-error").textContent = errorMessage(res);
        } else if (fields.cash_tendered) {
          $("change-due").textContent = "—";
          $("pay-error").textContent = errorMessage(res);
          setPayable(true);
          $("pay-cash").disabled = true;
          return;
        } else {
          $("cart-error").textContent = errorMessage(res);
        }
      });
    }

    $("discount-apply").addEventListener("click", requote);
    $("discount-code").addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); requote(); }
    });
    $("cash-tendered").addEventListener("input", debounce(requote, 250));

    function pay(method) {
      if (busy) { return; }
      busy = true;
      setPayable(false);
      $("pay-error").textContent = "";
      var payload = cartPayload();
      payload.payment = method;
      if (method !== "cash") { payload.cash_tendered = null; }
      postJSON(root.getAttribute("data-sale-url"), payload).then(function (res) {
        if (res.ok) { window.location.assign(res.body.url); return; }
        busy = false;
        setPayable(true);
        $("pay-error").textContent = errorMessage(res);
      }, function () {
        busy = false;
        setPayable(true);
        $("pay-error").textContent = "The server could not be reached. Nothing was sold; try again.";
      });
    }
    $("pay-card").addEventListener("click", function () { pay("card"); });
    $("pay-cash").addEventListener("click", function () { pay("cash"); });
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
    checkout();
    salePolling();
    printButtons();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
