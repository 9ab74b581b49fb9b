// Polls a print run's progress fragment every 2 s and swaps it in (like htmx's
// hx-trigger="every 2s"); reloads the page once the run has finished so the file list
// shows. Without JavaScript the page offers a refresh link instead.
(function () {
  "use strict";
  var INTERVAL = 2000;
  function poll() {
    var box = document.getElementById("run-progress");
    if (!box || !box.dataset.poll) return;
    fetch(box.dataset.poll, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var next = tpl.content.firstElementChild;
        if (!next) return;
        var finished = !next.dataset.poll;
        box.replaceWith(next);
        if (finished) { window.location.reload(); } else { window.setTimeout(poll, INTERVAL); }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL * 5); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var refresh = document.querySelector(".print-refresh");
    if (refresh && document.getElementById("run-progress")) refresh.hidden = true;
    window.setTimeout(poll, INTERVAL);
  });
})();
