// The consent's signature pad: pointer events (touch, pen and mouse alike) draw on the
// canvas; the form sends the drawing as a PNG data URL. Nothing is sent until the client
// has drawn something.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var form = document.getElementById("signature-form");
  if (!canvas || !form) { return; }
  var input = form.querySelector("input[name=signature]");
  var hint = document.getElementById("signature-hint");
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;
  ctx.lineWidth = 2.5;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#111";

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return {x: (event.clientX - box.left) * canvas.width / box.width,
            y: (event.clientY - box.top) * canvas.height / box.height};
  }
  canvas.style.touchAction = "none";
  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    var p = point(event);
    ctx.beginPath();
    ctx.moveTo(p.x, p.y);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    var p = point(event);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    drawn = true;
  });
  function stop() { drawing = false; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  document.getElementById("signature-clear").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
    input.value = "";
    hint.textContent = "Sign in the box above.";
  });
  form.addEventListener("submit", function (event) {
    if (!drawn) {
      event.preventDefault();
      hint.textContent = "The client has not signed yet: sign in the box first.";
      canvas.focus();
      return;
    }
    input.value = canvas.toDataURL("image/png");
  });
})();
