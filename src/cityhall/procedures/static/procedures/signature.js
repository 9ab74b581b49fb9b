/* Signature pad: a drawing area for a signature at the counter.
 *
 * Enhances every element with [data-signature-pad] (the counter's second screen) and
 * every .signature-field that holds an input[data-signature-for] (the questions of type
 * "signature" drawn by dynforms). The drawing is written as a PNG data URL into the
 * hidden input ([data-signature-input], [data-signature-for] or name ending "_drawn").
 * Pointer events (mouse, pen, finger), with touch events for older browsers. The
 * canvas is optional: keyboard and screen-reader users sign by typing their name, so
 * the canvas takes no focus and "Clear" is an ordinary button.
 */
(function () {
  "use strict";

  function text(el, name, fallback) {
    var own = el.getAttribute(name);
    if (own) return own;
    var ja = (document.documentElement.lang || "").indexOf("ja") === 0;
    return ja ? fallback[0] : fallback[1];
  }

  function enhance(container) {
    if (container.hasAttribute("data-signature-ready")) return;
    var input = container.querySelector(
      "input[data-signature-input], input[data-signature-for], input[type=hidden][name$='_drawn']"
    );
    if (!input) return;
    container.setAttribute("data-signature-ready", "");

    var wrap = document.createElement("div");
    wrap.className = "signature-pad";
    var caption = document.createElement("span");
    caption.className = "signature-pad__label";
    caption.id = (input.name || "signature") + "-pad-label";
    caption.textContent = text(container, "data-canvas-label", [
      "指やペンで署名することもできます(任意)",
      "You may also sign here with your finger or a pen (optional)",
    ]);
    var canvas = document.createElement("canvas");
    canvas.className = "signature-pad__canvas";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-labelledby", caption.id);
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "button--secondary signature-pad__clear";
    clear.textContent = text(container, "data-clear-label", ["消す", "Clear"]);
    wrap.appendChild(caption);
    wrap.appendChild(canvas);
    wrap.appendChild(clear);
    input.parentNode.insertBefore(wrap, input.nextSibling);

    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;

    function size() {
      var ratio = window.devicePixelRatio || 1;
      var rect = canvas.getBoundingClientRect();
      var keep = drawn ? canvas.toDataURL("image/png") : null;
      canvas.width = Math.max(1, Math.round(rect.width * ratio));
      canvas.height = Math.max(1, Math.round(rect.height * ratio));
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#1a1a1a";
      if (keep) {
        var img = new Image();
        img.onload = function () { ctx.drawImage(img, 0, 0, rect.width, rect.height); };
        img.src = keep;
      }
    }

    function point(x, y) {
      var rect = canvas.getBoundingClientRect();
      return { x: x - rect.left, y: y - rect.top };
    }

    function begin(p) {
      drawing = true;
      last = p;
      ctx.beginPath();
      ctx.arc(p.x, p.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
      drawn = true;
    }

    function move(p) {
      if (!drawing) return;
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    }

    function end() {
      if (!drawing) return;
      drawing = false;
      if (drawn) input.value = canvas.toDataURL("image/png");
    }

    if (window.PointerEvent) {
      canvas.addEventListener("pointerdown", function (e) {
        e.preventDefault();
        if (canvas.setPointerCapture) canvas.setPointerCapture(e.pointerId);
        begin(point(e.clientX, e.clientY));
      });
      canvas.addEventListener("pointermove", function (e) {
        if (drawing) { e.preventDefault(); move(point(e.clientX, e.clientY)); }
      });
      canvas.addEventListener("pointerup", end);
      canvas.addEventListener("pointercancel", end);
      canvas.addEventListener("pointerleave", end);
    } else {
      canvas.addEventListener("touchstart", function (e) {
        e.preventDefault();
        var t = e.changedTouches[0];
        begin(point(t.clientX, t.clientY));
      }, { passive: false });
      canvas.addEventListener("touchmove", function (e) {
        e.preventDefault();
        var t = e.changedTouches[0];
        move(point(t.clientX, t.clientY));
      }, { passive: false });
      canvas.addEventListener("touchend", end);
      canvas.addEventListener("touchcancel", end);
      canvas.addEventListener("mousedown", function (e) { begin(point(e.clientX, e.clientY)); });
      canvas.addEventListener("mousemove", function (e) { move(point(e.clientX, e.clientY)); });
      window.addEventListener("mouseup", end);
    }

    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      input.value = "";
    });

    size();
    window.addEventListener("resize", size);
  }

  function init() {
    var found = document.querySelectorAll("[data-signature-pad], .signature-field");
    for (var i = 0; i < found.length; i++) enhance(found[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
