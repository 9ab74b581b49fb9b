// The segment form's live count: when a facet changes, waits a moment (debounce), then
// asks the preview URL for a fragment and puts its count into the aria-live="polite"
// region and its masked sample under it. Without JavaScript the "Count" button
// re-renders the page with the same count.
(function () {
  "use strict";
  var DELAY = 400;

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  ready(function () {
    var form = document.getElementById("segment-form");
    var box = document.getElementById("segment-preview");
    var count = document.getElementById("segment-count");
    var sample = document.getElementById("segment-sample");
    var facets = form && form.querySelector("[data-facets]");
    if (!form || !box || !count || !sample || !facets || !box.dataset.url || !window.fetch) return;
    var timer = null;
    var latest = 0;

    function refresh() {
      var mine = ++latest;
      var data = new FormData(form);
      data.delete("action");
      box.setAttribute("aria-busy", "true");
      fetch(box.dataset.url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== latest) return; // an older answer arriving late
          var tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          var nextCount = tpl.content.querySelector("[data-part=count]");
          var nextSample = tpl.content.querySelector("[data-part=sample]");
          if (nextCount) count.innerHTML = nextCount.innerHTML;
          if (nextSample) sample.innerHTML = nextSample.innerHTML;
          box.dataset.ready = "";
          box.setAttribute("aria-busy", "false");
        })
        .catch(function () { box.setAttribute("aria-busy", "false"); });
    }

    function schedule(event) {
      if (event && !facets.contains(event.target)) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY);
    }

    facets.addEventListener("change", schedule);
    facets.addEventListener("input", function (event) {
      if (event.target.type === "number" || event.target.type === "text") schedule(event);
    });
    if (!("ready" in box.dataset)) refresh();
  });
})();
