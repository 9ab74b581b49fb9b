// The live delivery board of a message: polls board.json every 2 s and updates the
// numbers in place. A polite live region announces only the overall progress, at most
// every 10 s (and once when the message is finished); polling stops when it is done.
// Without JavaScript the page offers a refresh link instead.
(function () {
  "use strict";
  var INTERVAL = 2000;
  var ANNOUNCE_EVERY = 10000;
  var lastAnnounced = 0;
  var lastText = "";

  function format(n) {
    try { return Number(n).toLocaleString(document.documentElement.lang || undefined); }
    catch (e) { return String(n); }
  }

  function announce(text, force) {
    var live = document.getElementById("board-live");
    var now = Date.now();
    if (!live || text === lastText) return;
    if (!force && now - lastAnnounced < ANNOUNCE_EVERY) return;
    live.textContent = text;
    lastText = text;
    lastAnnounced = now;
  }

  function apply(box, data) {
    var cells = data.cells || {};
    Object.keys(cells).forEach(function (key) {
      var cell = box.querySelector('[data-cell="' + key + '"]');
      if (cell) {
        var text = format(cells[key]);
        if (cell.textContent !== text) cell.textContent = text;
      }
    });
    var progress = data.progress || {};
    var bar = box.querySelector("progress");
    if (bar && progress.percent !== undefined) bar.value = progress.percent;
    var label = document.getElementById("board-progress-text");
    if (label && progress.text) label.textContent = progress.text;
    if (progress.text) announce(progress.text, Boolean(data.done));
  }

  function poll(box) {
    fetch(box.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        apply(box, data);
        if (data.done) {
          box.dataset.poll = "";
          box.dataset.done = "true";
          var refresh = document.querySelector(".board-refresh");
          if (refresh) refresh.remove();
        } else {
          window.setTimeout(function () { poll(box); }, INTERVAL);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, INTERVAL * 5); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("board");
    if (!box || !box.dataset.poll) return;
    var refresh = document.querySelector(".board-refresh");
    if (refresh) refresh.hidden = true;
    lastAnnounced = Date.now();  // the page itself shows the progress now
    window.setTimeout(function () { poll(box); }, INTERVAL);
  });
})();
