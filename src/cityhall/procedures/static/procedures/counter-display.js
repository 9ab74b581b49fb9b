/* The counter's second screen: while it waits (nothing shown), ask the server every
 * 3 seconds what to show, and load the page again only when that changed. Never runs
 * while an application is shown, so nothing the resident types is lost. Without
 * script the waiting page refreshes itself (<noscript><meta http-equiv="refresh">).
 */
(function () {
  "use strict";
  var box = document.querySelector("[data-counter-display]");
  if (!box || box.getAttribute("data-showing")) return;
  var url = box.getAttribute("data-state-url");
  var ended = box.getAttribute("data-ended") === "1";
  if (!url || ended) return;

  function check() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && (state.showing || state.ended)) {
          var here = new URL(window.location.href);
          here.searchParams.delete("done");
          window.location.replace(here.toString());
          return;
        }
        window.setTimeout(check, 3000);
      })
      .catch(function () { window.setTimeout(check, 3000); });
  }

  window.setTimeout(check, 3000);
})();
