// The catalog pages (inline handlers are not allowed by the CSP): the error summary takes
// focus so a screen reader reads it first, and "/" jumps to the list's search box.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var search = document.getElementById("catalog-search");
  if (search) {
    document.addEventListener("keydown", function (event) {
      var tag = (event.target && event.target.tagName) || "";
      if (event.key === "/" && tag !== "INPUT" && tag !== "SELECT" && tag !== "TEXTAREA") {
        event.preventDefault();
        search.focus();
        search.select();
      }
    });
  }
}());
