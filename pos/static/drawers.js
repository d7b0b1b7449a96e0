// The drawer report's Print button (inline handlers are not allowed by the CSP).
(function () {
  "use strict";
  var button = document.getElementById("print-drawer-report");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
}());
