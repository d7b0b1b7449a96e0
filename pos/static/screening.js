// The treatment form: "Unchanged" confirms one of last visit's answers with one click.
// Nothing is pre-filled: each answer stays empty until the provider confirms or answers it.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.confirm-last");
    if (!button) { return; }
    var name = button.getAttribute("data-field");
    var value = button.getAttribute("data-value");
    var fields = document.getElementsByName(name);
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "radio") {
        field.checked = field.value === value;
      } else {
        field.value = value;
      }
    }
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Confirmed";
    if (fields.length) {
      fields[0].dispatchEvent(new Event("change", {bubbles: true}));
    }
  });
})();

// The outcome as the provider answers: blocked, a wait, cautions to acknowledge, or clear.
// A preview only: the server decides (it also counts dates given at earlier visits).
(function () {
  "use strict";
  var form = document.querySelector("form.treatment-form");
  var out = document.getElementById("screening-outcome");
  if (!form || !out) { return; }
  var today = form.getAttribute("data-today");

  function plusDays(day, days) {
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function evaluate() {
    var blocked = [], waits = [], toAck = [], unanswered = 0;
    var questions = form.querySelectorAll(".question[data-key]");
    for (var i = 0; i < questions.length; i++) {
      var q = questions[i];
      var rule = q.getAttribute("data-rule"), text = q.getAttribute("data-text");
      if (rule === "wait_days") {
        var input = q.querySelector("input");
        if (input && input.value) {
          var until = plusDays(input.value, parseInt(q.getAttribute("data-wait-days"), 10));
          if (until > today) { waits.push(text + " (eligible on " + until + ")"); }
        }
        continue;
      }
      var checked = q.querySelector("input[type=radio]:checked");
      if (!checked) { unanswered++; continue; }
      if (checked.value !== "yes") { continue; }
      if (rule === "contraindicated") {
        blocked.push(text);
      } else {
        var box = form.querySelector("input[name=acknowledged][value=\"" +
                                     q.getAttribute("data-key") + "\"]");
        if (!box || !box.checked) { toAck.push(text); }
      }
    }
    var kind, message;
    if (blocked.length) {
      kind = "blocked"; message = "Blocked: " + blocked.join("; ") + ".";
    } else if (waits.length) {
      kind = "wait"; message = "Wait: " + waits.join("; ") + ".";
    } else if (toAck.length) {
      kind = "acknowledge"; message = "Acknowledge before treating: " + toAck.join("; ") + ".";
    } else if (unanswered) {
      kind = "unanswered"; message = unanswered + " question(s) still to answer.";
    } else {
      kind = "clear"; message = "Clear to treat.";
    }
    out.setAttribute("data-outcome", kind);
    out.textContent = message;
  }
  form.addEventListener("change", evaluate);
  form.addEventListener("input", evaluate);
  evaluate();
})();

// A refused form: the summary of what to fix takes the focus.
(function () {
  "use strict";
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
