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
  });
})();
