// callnotes note editor: Ctrl/Cmd+S saves, topic chips add to the topic field.
(function () {
  "use strict";
  function form() { return document.getElementById("note-form"); }
  document.addEventListener("keydown", function (event) {
    var f = form();
    if (!f) { return; }
    if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
      event.preventDefault();
      if (f.requestSubmit) { f.requestSubmit(); } else { f.submit(); }
    }
  });
  document.addEventListener("click", function (event) {
    var chip = event.target.closest && event.target.closest("[data-add-topic]");
    if (!chip) { return; }
    event.preventDefault();
    var input = document.getElementById("topics");
    var name = chip.getAttribute("data-add-topic");
    var names = input.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    if (names.indexOf(name) < 0) { names.push(name); }
    input.value = names.join(", ");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
