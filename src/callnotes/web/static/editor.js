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
// "Log a task in MSX": a task is logged on a linked milestone (ticking it links the milestone,
// unlinking the milestone drops the task); task subjects show the note's title as their default.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box || box.type !== "checkbox") { return; }
    if (box.name === "task_milestone_ids" && box.checked) {
      var link = document.getElementById("milestone-" + box.getAttribute("data-milestone") + "-link");
      if (link) { link.checked = true; }
    } else if (box.name === "milestone_ids" && !box.checked) {
      var task = document.getElementById("log-task-" + box.value);
      if (task) { task.checked = false; }
    }
  });
  function defaultSubject() {
    var title = document.getElementById("title");
    var body = document.getElementById("body");
    if (title && title.value.trim()) { return title.value.trim(); }
    var lines = body ? body.value.split("\n") : [];
    for (var i = 0; i < lines.length; i++) {
      var text = lines[i].replace(/^[\s#>*-]+/, "").trim();
      if (text) { return text.slice(0, 120); }
    }
    return "The note's title";
  }
  function showDefaults() {
    var subject = defaultSubject();
    document.querySelectorAll("[data-default-subject]").forEach(function (input) { input.placeholder = subject; });
  }
  document.addEventListener("input", function (event) {
    if (event.target && (event.target.id === "title" || event.target.id === "body")) { showDefaults(); }
  });
  document.addEventListener("htmx:afterSettle", showDefaults);
  document.addEventListener("DOMContentLoaded", showDefaults);
})();
