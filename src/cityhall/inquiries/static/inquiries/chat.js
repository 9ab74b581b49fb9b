// The chat with htmx: after a new turn (or a feedback answer) is swapped in, move the
// focus to its heading so that screen readers read it and keyboard users continue from
// there; clear the question box after a successful answer (an error keeps the text).
// Without JavaScript the forms work as plain forms and the answer page loads instead.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    var marks = target.querySelectorAll("[data-chat-focus]");
    if (!marks.length && target.matches && target.matches("[data-chat-focus]")) marks = [target];
    var focus = marks.length ? marks[marks.length - 1] : null;
    if (!focus) {
      // outerHTML swap: the target element was replaced; look it up again by id.
      var again = target.id ? document.getElementById(target.id) : null;
      focus = again ? again.querySelector("[data-chat-focus]") : null;
    }
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (form && form.matches && form.matches("[data-chat-form]")) {
      var turns = target.querySelectorAll("[data-chat-ok]");
      var input = form.querySelector("input[name=q]");
      if (input && turns.length && focus && focus.closest("[data-chat-ok]")) input.value = "";
    }
    if (focus) {
      focus.focus();
      if (focus.scrollIntoView) focus.scrollIntoView({ block: "nearest" });
    }
  });
})();
