/* Conditional questions: show a question only when the answer it depends on matches.
 *
 * Each conditional question's wrapper carries data-condition='{"name": "...",
 * "values": [...]}' or '{"name": "...", "filled": true}', where "name" is the input
 * name of the question it depends on (see cityhall/procedures/dynforms.py). Without
 * this script every question shows, with a hint "Answer only if …"; the server ignores
 * answers to questions that end up hidden. No inline script: the CSP forbids it.
 */
(function () {
  "use strict";

  function inputsNamed(form, name) {
    return Array.prototype.filter.call(form.elements, function (el) {
      var n = el.getAttribute("name") || "";
      return n === name || n.indexOf(name + "-") === 0;
    });
  }

  function wrapperOf(form, name) {
    return form.querySelector('[data-field="' + name.replace(/"/g, "") + '"]');
  }

  function isShown(el) {
    for (var node = el; node && node !== document.body; node = node.parentElement) {
      if (node.hidden) return false;
    }
    return true;
  }

  function currentValues(form, name) {
    var wrapper = wrapperOf(form, name);
    if (wrapper && !isShown(wrapper)) return [];
    var out = [];
    inputsNamed(form, name).forEach(function (el) {
      var type = (el.getAttribute("type") || "").toLowerCase();
      if (type === "hidden" || type === "submit" || type === "button" || type === "file") return;
      if (type === "radio" || type === "checkbox") {
        if (el.checked) out.push(el.value || "on");
      } else if (el.value && el.value.trim()) {
        out.push(el.value.trim());
      }
    });
    return out;
  }

  function matches(form, condition) {
    var given = currentValues(form, condition.name);
    if (typeof condition.filled === "boolean") {
      return (given.length > 0) === condition.filled;
    }
    var wanted = condition.values || [];
    return given.some(function (v) { return wanted.indexOf(v) !== -1; });
  }

  function update(form) {
    var fields = form.querySelectorAll("[data-condition]");
    // Twice, so a question depending on a question that depends on another settles.
    for (var round = 0; round < 2; round++) {
      Array.prototype.forEach.call(fields, function (wrapper) {
        var condition;
        try {
          condition = JSON.parse(wrapper.getAttribute("data-condition"));
        } catch (e) {
          return;
        }
        wrapper.hidden = !matches(form, condition);
      });
    }
  }

  function setUp(form) {
    form.classList.add("js-conditions");
    Array.prototype.forEach.call(form.querySelectorAll(".condition-hint"), function (hint) {
      hint.hidden = true;
    });
    form.addEventListener("change", function () { update(form); });
    form.addEventListener("input", function () { update(form); });
    update(form);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-conditions]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
