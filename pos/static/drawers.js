// The drawer pages (inline handlers are not allowed by the CSP): the report's Print
// button, and the error summary takes focus so a screen reader reads it first.
(function () {
  "use strict";
  var button = document.getElementById("print-drawer-report");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
