/* The checkout: a cart kept on the server per desk, priced by the server, keyboard first.

   - The page starts from the desk's saved cart (data-cart); each change is saved
     (PUT data-cart-url), one save at a time, the latest state each time, so a refresh or a
     trip to another page finds the cart again. Parking and paying wait for the save.
   - Keys: F2 client search, F4 products, F8 cash tendered. In a search box, Enter picks a
     single match (a scanner's code + Enter adds its item) and the arrow keys move through
     the results. Enter in "cash tendered" takes the cash.
   - The pay buttons stay enabled while the totals are re-priced: a click right after a
     quantity edit (whose blur re-prices) is never swallowed. Paying commits every quantity
     box first and the server prices what is sold.
   - A discount code that cannot be used is said beside its field and the totals stay
     those of the cart without it (the pay buttons stay usable; paying with the code is
     refused the same way). A manual discount (amount or percent, and why) is priced by
     the server; a front-desk user's sale carries a manager's email and PIN to approve it.
   No framework; text is set with textContent, never parsed as HTML; the script does no sums. */
(function () {
  "use strict";

  var desk = window.posDesk;
  var $ = desk.$, el = desk.el, debounce = desk.debounce, getJSON = desk.getJSON,
    sendJSON = desk.sendJSON, errorMessage = desk.errorMessage, arrowKeys = desk.arrowKeys;

  function checkout() {
    var root = $("checkout");
    if (!root) { return; }
    var state = JSON.parse(root.getAttribute("data-cart") || "{}");
    var catalog = [];
    var cart = [];          // [{key, sku|package_code, name, quantity, row}]
    var lastQuote = null;
    var quoteSeq = 0;
    var busy = false;

    var catalogLoaded = getJSON(root.getAttribute("data-catalog-url")).then(function (res) {
      if (res.ok) { catalog = res.body; }
    }).catch(function () { /* unreachable server: a scan then says it found nothing */ });

    /* -- saving the cart on the server ------------------------------------------------- */
    var saveChain = Promise.resolve();
    var saveQueued = false;

    function cartLines() {
      return cart.map(function (l) {
        if (l.gift_card) {
          var card = { amount_cents: l.gift_card.amount_cents };
          if (l.gift_card.recipient_email) { card.recipient_email = l.gift_card.recipient_email; }
          return { gift_card: card };
        }
        return l.sku ? { sku: l.sku, quantity: l.quantity } : { package_code: l.package_code, quantity: l.quantity };
      });
    }

    function cartState() {
      return { client_id: clientId.value ? parseInt(clientId.value, 10) : null, lines: cartLines(),
        discount_code: $("discount-code").value.trim() || null };
    }

    function saveCart() {
      if (saveQueued) { return; }  // the queued save sends the state as it is then
      saveQueued = true;
      root.setAttribute("data-cart-state", "saving");
      saveChain = saveChain.then(function () {
        saveQueued = false;
        return sendJSON("PUT", root.getAttribute("data-cart-url"), cartState()).catch(function () { return null; });
      }).then(function () {
        if (!saveQueued) { root.setAttribute("data-cart-state", "saved"); }
      });
    }
    window.addEventListener("pagehide", function () {
      if (root.getAttribute("data-cart-state") === "saving") {
        sendJSON("PUT", root.getAttribute("data-cart-url"), cartState(), true).catch(function () {});
      }
    });

    /* -- client ---------------------------------------------------------------------- */
    var clientId = $("client-id");
    var clientName = $("client-chosen-name");
    var clientClear = $("client-clear");
    var clientInput = $("checkout-client-search");
    var clientList = $("checkout-client-results");
    var clientResults = { q: null, list: [] };

    function chooseClient(c, quiet) {
      clientId.value = c ? String(c.id) : "";
      clientName.textContent = c ? c.name : "no client chosen (retail only)";
      clientClear.hidden = !c;
      clientList.textContent = "";
      clientInput.value = "";
      clientResults = { q: null, list: [] };
      if (!quiet) { saveCart(); $("product-input").focus(); }
    }
    clientClear.addEventListener("click", function () { chooseClient(null); });

    var clientSeq = 0;
    function searchClients(q) {
      var mine = ++clientSeq;
      if (!q) { clientList.textContent = ""; clientResults = { q: q, list: [] }; return Promise.resolve([]); }
      return getJSON(root.getAttribute("data-clients-url") + "?q=" + encodeURIComponent(q)).then(function (res) {
        if (mine !== clientSeq || !res.ok) { return null; }
        clientResults = { q: q, list: res.body };
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
        return res.body;
      });
    }
    var searchSoon = debounce(function () { searchClients(clientInput.value.trim()); }, 150);
    clientInput.addEventListener("input", searchSoon);
    clientInput.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var q = clientInput.value.trim();
      searchSoon.cancel();
      var found = clientResults.q === q ? Promise.resolve(clientResults.list) : searchClients(q);
      found.then(function (list) {
        if (!list || clientInput.value.trim() !== q) { return; }
        if (list.length === 1) { chooseClient(list[0]); return; }
        var first = clientList.querySelector("button");
        if (first) { first.focus(); }  // several: the arrow keys choose
      });
    });
    arrowKeys(clientInput, clientList);

    function offerDuplicate(res, data) {
      /* Same name and email or phone as a client: use that one, or create anyway. */
      var match = res.body.error.details.match;
      var box = $("nc-error");
      box.textContent = errorMessage(res) + " ";
      var use = document.createElement("button");
      use.type = "button";
      use.id = "nc-use-existing";
      use.textContent = "Use " + match.first_name + " " + match.last_name;
      use.addEventListener("click", function () {
        box.textContent = "";
        $("new-client").open = false;
        chooseClient({ id: match.id, name: match.first_name + " " + match.last_name });
      });
      var anyway = document.createElement("button");
      anyway.type = "button";
      anyway.id = "nc-create-anyway";
      anyway.textContent = "Create anyway";
      anyway.addEventListener("click", function () { createClient(true); });
      box.appendChild(use);
      box.appendChild(document.createTextNode(" "));
      box.appendChild(anyway);
      use.focus();
    }

    $("nc-create").addEventListener("click", function () { createClient(false); });

    function createClient(confirmNew) {
      var data = {};
      if (confirmNew) { data.confirm_new = true; }
      ["first_name", "last_name", "email", "phone"].forEach(function (name) {
        data[name] = $("nc-" + name).value;
        $("nc-" + name + "-error").textContent = "";
      });
      $("nc-error").textContent = "";
      sendJSON("POST", root.getAttribute("data-new-client-url"), data).then(function (res) {
        if (res.ok) {
          ["first_name", "last_name", "email", "phone"].forEach(function (n) { $("nc-" + n).value = ""; });
          $("new-client").open = false;
          chooseClient(res.body);
          return;
        }
        var fields = ((res.body.error && res.body.error.details) || {}).fields || {};
        var shown = false;
        Object.keys(fields).forEach(function (name) {
          var p = $("nc-" + name + "-error");
          if (p) { p.textContent = fields[name]; shown = true; }
        });
        if (res.body.error && res.body.error.code === "duplicate_client") {
          $("nc-email-error").textContent = errorMessage(res);
          shown = true;
        }
        if (res.body.error && res.body.error.code === "possible_duplicate") {
          offerDuplicate(res, data);
          shown = true;
        }
        if (!shown) { $("nc-error").textContent = errorMessage(res); }
      });
    }

    /* -- products: search and scan ------------------------------------------------------ */
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
          (p.barcode && p.barcode.toLowerCase() === q);
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
      cartChanged(true);
    }

    var showSoon = debounce(showProducts, 80);
    productInput.addEventListener("input", showSoon);
    productInput.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      showSoon.cancel();
      var q = productInput.value.trim();
      if (!q) { return; }
      // A scanner can be faster than the page: a code scanned before the catalog has
      // arrived is resolved once it has, the same way as any other.
      if (!catalog.length) { catalogLoaded.then(function () { addScanned(q); }); return; }
      addScanned(q);
    });
    arrowKeys(productInput, productList);

    var lastRefresh = 0;

    /* The catalog again (a barcode given to an item since this page opened); resolves to
       false when it was refreshed a moment ago, so a mistyped code does not loop. */
    function refreshCatalog() {
      var now = Date.now();
      if (now - lastRefresh < 5000) { return Promise.resolve(false); }
      lastRefresh = now;
      return getJSON(root.getAttribute("data-catalog-url")).then(function (res) {
        if (res.ok) { catalog = res.body; }
        return res.ok;
      }).catch(function () { return false; });
    }

    function addScanned(q, refreshed) {
      var found = exact(q);
      var list = found ? [found] : matches(q);
      if (list.length === 1) { addProduct(list[0]); return; }
      if (!list.length && !refreshed) {
        refreshCatalog().then(function () { addScanned(q, true); });
        return;
      }
      productError.textContent = list.length ? "Several products match: pick one below (arrow keys)."
        : "No product has the sku, barcode or name “" + q + "”.";
      showProducts();
      productInput.select();
    }

    /* -- the cart and its totals ------------------------------------------------------- */
    var tbody = $("cart-lines");

    function pricedLine(line) {
      return lastQuote && lastQuote.lines ? lastQuote.lines.filter(function (q) { return q.key === line.key; })[0] : null;
    }

    /* The quantity boxes' typed values into the cart; true when one changed. */
    function commitEdits() {
      var changed = false;
      cart.forEach(function (line) {
        if (!line.row || line.gift_card) { return; }
        var box = line.row.querySelector("input.qty");
        var n = parseInt(box.value, 10);
        if (!(n >= 1)) { n = line.quantity; box.value = String(n); }
        if (n !== line.quantity) { line.quantity = n; changed = true; }
      });
      return changed;
    }

    function renderCart() {
      tbody.textContent = "";
      if (!cart.length) {
        var tr = el("tr", { "class": "empty" });
        tr.appendChild(el("td", { colspan: "5" }, "The cart is empty."));
        tbody.appendChild(tr);
      }
      cart.forEach(function (line) {
        var priced = pricedLine(line);
        var tr = el("tr", { "data-key": line.key });
        tr.appendChild(el("td", { "class": "name" }, line.name));
        var qtyCell = el("td", { "class": "num" });
        if (line.gift_card) {  // one card per line: no quantity to change
          qtyCell.textContent = "1";
          tr.appendChild(qtyCell);
        } else {
        var qty = el("input", { type: "number", min: "1", step: "1", value: String(line.quantity),
          "class": "qty", "aria-label": "Quantity of " + line.name });
        var typed = debounce(function () { if (commitEdits()) { cartChanged(false); } }, 300);
        qty.addEventListener("input", typed);
        qty.addEventListener("change", function () { typed.cancel(); if (commitEdits()) { cartChanged(false); } });
        qty.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); typed.cancel(); if (commitEdits()) { cartChanged(false); } }
        });
        qtyCell.appendChild(qty);
        tr.appendChild(qtyCell);
        }
        tr.appendChild(el("td", { "class": "num unit" }, priced ? priced.unit_price : ""));
        tr.appendChild(el("td", { "class": "num line-total" }, priced ? priced.subtotal : ""));
        line.row = tr;
        var rm = el("td");
        var button = el("button", { type: "button", "class": "small remove", "aria-label": "Remove " + line.name }, "Remove");
        button.addEventListener("click", function () {
          commitEdits();
          cart.splice(cart.indexOf(line), 1);
          cartChanged(true);
          productInput.focus();
        });
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
        var priced = pricedLine(line);
        line.row.querySelector(".unit").textContent = priced ? priced.unit_price : "";
        line.row.querySelector(".line-total").textContent = priced ? priced.subtotal : "";
      });
    }

    /* Gift card lines are never merged: each is keyed by its place among them, as the
       quote keys them. */
    function keyGiftCards() {
      var n = 0;
      cart.forEach(function (l) { if (l.gift_card) { n += 1; l.key = "gift:" + n; } });
    }

    function cartChanged(rebuild) {
      keyGiftCards();
      if (rebuild) { renderCart(); }
      saveCart();
      requote();
    }

    function quotePayload() {
      var body = cartState();
      body.cash_tendered = $("cash-tendered").value.trim() || null;
      if (manual) { body.manual_discount = manual; }
      return body;
    }

    /* -- discounts: a code's error beside its field; a manual discount ------------------ */
    var manual = null;      // {amount | percent, reason} as typed; the server parses it

    function showDiscountError(text) {
      var input = $("discount-code");
      $("discount-error").textContent = text || "";
      if (text) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", "discount-error");
      } else {
        input.removeAttribute("aria-invalid");
      }
    }

    function showManual(q, text) {
      $("md-error").textContent = text || "";
      $("md-clear").hidden = !manual;
      $("md-applied").textContent = manual && q && q.manual_discount_cents ?
        "Manual discount: -" + q.manual_discount + " (" + manual.reason + ")" : "";
    }

    $("md-apply").addEventListener("click", function () {
      var value = $("md-value").value.trim();
      var reason = $("md-reason").value.trim();
      if (!value) { showManual(lastQuote, "Type how much to take off."); $("md-value").focus(); return; }
      if (!reason) { showManual(lastQuote, "Say why: a reason is required."); $("md-reason").focus(); return; }
      manual = $("md-kind").value === "percent" ? { percent: value, reason: reason } : { amount: value, reason: reason };
      requote();
    });
    $("md-clear").addEventListener("click", function () {
      manual = null;
      $("md-value").value = "";
      $("md-reason").value = "";
      requote();
    });

    function approval() {
      var email = $("md-email"), pin = $("md-pin");
      if (!manual || !email) { return null; }  // a manager sells: no approval to give
      if (!email.value.trim() && !pin.value.trim()) { return null; }  // the server says it is needed
      return { email: email.value.trim(), pin: pin.value.trim() };
    }

    function setTotals(q) {
      $("total-subtotal").textContent = q ? q.subtotal : "$0.00";
      $("total-discount").textContent = q && q.discount_cents ? "-" + q.discount : (q ? q.discount : "$0.00");
      $("total-tax").textContent = q ? q.tax : "$0.00";
      $("total-total").textContent = q ? q.total : "$0.00";
      $("change-due").textContent = q && q.change ? q.change : "—";
    }

    function setPayable() {
      $("pay-card").disabled = !cart.length || busy;
      $("pay-cash").disabled = !cart.length || busy;
      if ($("pay-terminal")) { $("pay-terminal").disabled = !cart.length || busy; }
      $("pay-split").disabled = !cart.length || busy;
    }

    function requote() {
      var mine = ++quoteSeq;
      ["cart-error", "pay-error", "park-error"].forEach(function (id) { $(id).textContent = ""; });
      showDiscountError("");
      setPayable();
      if (!cart.length) { lastQuote = null; setTotals(null); showManual(null); return; }
      var url = root.getAttribute("data-quote-url");
      var payload = quotePayload();
      sendJSON("POST", url, payload).then(function (res) {
        var error = res.ok ? {} : (res.body.error || {});
        if (error.code !== "discount_invalid" || mine !== quoteSeq) { return { res: res }; }
        // A code that cannot be used: the totals are the cart's without it (never $0.00),
        // and the code's error is said beside its field. Paying with it is refused alike.
        payload.discount_code = null;
        return sendJSON("POST", url, payload).then(function (plain) { return { res: plain, code: res }; });
      }).then(function (answer) {
        if (mine !== quoteSeq) { return; }
        var res = answer.res;
        var error = res.ok ? {} : (res.body.error || {});
        var fields = (error.details && error.details.fields) || {};
        lastQuote = res.ok ? res.body : null;
        setTotals(lastQuote);
        updatePrices();
        if (answer.code) { showDiscountError(errorMessage(answer.code)); }
        if (res.ok) { showManual(res.body); return; }
        if (error.code === "discount_invalid") {
          showDiscountError(errorMessage(res));
        } else if (Object.keys(fields).some(function (f) { return f.indexOf("manual_discount") === 0; })) {
          showManual(lastQuote, errorMessage(res));
        } else if (fields.cash_tendered) {
          $("pay-error").textContent = errorMessage(res);
        } else {
          $("cart-error").textContent = errorMessage(res);
        }
      });
    }

    $("discount-apply").addEventListener("click", function () { cartChanged(false); });
    $("discount-code").addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); cartChanged(false); }
    });
    $("cash-tendered").addEventListener("input", debounce(requote, 250));
    $("cash-tendered").addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); pay("cash"); }
    });
    $("cart-clear").addEventListener("click", function () {
      cart = [];
      manual = null;
      $("discount-code").value = "";
      chooseClient(null, true);
      cartChanged(true);
      productInput.focus();
    });

    /* -- paying and parking ------------------------------------------------------------ */
    function say(text) {
      var status = $("checkout-status");
      status.textContent = text;
      status.hidden = !text;
    }

    function pay(method) {
      if (busy) { return; }
      if (commitEdits()) { cartChanged(false); }
      if (!cart.length) { $("pay-error").textContent = "The cart is empty."; return; }
      busy = true;
      setPayable();
      $("pay-error").textContent = "";
      var payload = quotePayload();
      payload.payment = method;
      if (method !== "cash") { payload.cash_tendered = null; }
      if (method === "terminal") { payload.reader_id = $("pay-reader").value; }
      if (approval()) { payload.approval = approval(); }
      // After the last save: a save landing after the sale would bring the cart back.
      saveChain.then(function () {
        return sendJSON("POST", root.getAttribute("data-sale-url"), payload);
      }).then(function (res) {
        if (res.ok) { window.location.assign(res.body.url); return; }
        busy = false;
        setPayable();
        var code = (res.body.error || {}).code;
        var fields = ((res.body.error || {}).details || {}).fields || {};
        if (code === "discount_invalid") { showDiscountError(errorMessage(res)); $("discount-code").focus(); return; }
        if (code === "approval_required" || Object.keys(fields).some(function (f) {
          return f.indexOf("manual_discount") === 0 || f.indexOf("approval") === 0; })) {
          $("manual-discount").open = true;
          showManual(lastQuote, errorMessage(res));
          if ($("md-pin")) { $("md-pin").value = ""; $("md-email").focus(); }
          return;
        }
        $("pay-error").textContent = errorMessage(res);
      }, function () {
        busy = false;
        setPayable();
        $("pay-error").textContent = "The server could not be reached. Nothing was sold; try again.";
      });
    }
    $("pay-card").addEventListener("click", function () { pay("card"); });
    $("pay-cash").addEventListener("click", function () { pay("cash"); });
    if ($("pay-terminal")) {
      $("pay-terminal").addEventListener("click", function () { pay("terminal"); });
    }
    // Split payment: the sale opens awaiting payment; its page takes the tenders one by one.
    $("pay-split").addEventListener("click", function () { pay("split"); });

    $("park").addEventListener("click", function () {
      if (busy) { return; }
      commitEdits();
      $("park-error").textContent = "";
      var body = cartState();
      body.label = $("park-label").value.trim() || null;
      busy = true;
      saveChain.then(function () {
        return sendJSON("POST", root.getAttribute("data-park-url"), body);
      }).then(function (res) {
        busy = false;
        if (!res.ok) { setPayable(); $("park-error").textContent = errorMessage(res); return; }
        cart = [];
        manual = null;
        $("discount-code").value = "";
        $("park-label").value = "";
        $("cash-tendered").value = "";
        chooseClient(null, true);
        renderCart();
        requote();
        var count = $("parked-count");
        count.textContent = String(parseInt(count.textContent, 10) + 1);
        say("Sale parked as “" + res.body.label + "”. Resume it from Parked sales.");
        productInput.focus();
      }, function () {
        busy = false;
        setPayable();
        $("park-error").textContent = "The server could not be reached. Nothing was parked.";
      });
    });

    /* -- selling a gift card: a cart line of its own ----------------------------------- */
    function giftCardName(card) {
      var name = "Gift card $" + (card.amount_cents / 100).toFixed(2);
      return card.recipient_email ? name + " for " + card.recipient_email : name;
    }
    $("gift-card-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var amountBox = $("gift-card-amount");
      var emailBox = $("gift-card-email");
      var error = $("gift-card-error");
      var typed = amountBox.value.trim().replace(/^\$/, "").replace(/,/g, "");
      var cents = /^[0-9]+(\.[0-9]{1,2})?$/.test(typed) ? Math.round(parseFloat(typed) * 100) : NaN;
      var email = emailBox.value.trim();
      if (!(cents >= 100 && cents <= 100000)) {
        error.textContent = "Type the gift card's amount, $1.00 to $1,000.00.";
        amountBox.setAttribute("aria-invalid", "true");
        amountBox.focus();
        return;
      }
      if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        error.textContent = "The recipient's email does not look like an email address.";
        emailBox.setAttribute("aria-invalid", "true");
        emailBox.focus();
        return;
      }
      error.textContent = "";
      amountBox.removeAttribute("aria-invalid");
      emailBox.removeAttribute("aria-invalid");
      commitEdits();
      var card = { amount_cents: cents, recipient_email: email || null };
      cart.push({ key: "", gift_card: card, name: giftCardName(card), quantity: 1 });
      amountBox.value = "";
      emailBox.value = "";
      cartChanged(true);
      productInput.focus();
    });

    /* -- keys and the saved cart ------------------------------------------------------- */
    document.addEventListener("keydown", function (event) {
      var target = { F2: clientInput, F4: productInput, F8: $("cash-tendered") }[event.key];
      if (target) { event.preventDefault(); target.focus(); target.select(); }
    });

    chooseClient(state.client || null, true);
    $("discount-code").value = state.discount_code || "";
    cart = (state.lines || []).map(function (l) {
      return { key: l.key, sku: l.sku, package_code: l.package_code, name: l.name, quantity: l.quantity,
        gift_card: l.gift_card || null };
    });
    cart.forEach(function (l) { if (l.gift_card) { l.name = giftCardName(l.gift_card); } });
    keyGiftCards();
    renderCart();
    requote();
    if (state.save) { saveCart(); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", checkout); } else { checkout(); }
}());
