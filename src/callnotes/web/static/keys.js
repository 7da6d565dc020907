// callnotes: keyboard and small-screen behaviour (CSP-friendly: no inline scripts, no eval).
//  - "/" focuses search, "n" opens a new note (not while typing in a field);
//  - arrow keys move through suggestion lists (customers, attendees), Escape goes back to the field;
//  - after a pick, focus moves on to the next field instead of being lost;
//  - the menu collapses behind a "Menu" button on narrow screens;
//  - the editor's attendee chips and "add a follow-up" write into the form.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function typing(target) {
    if (!target || !target.closest) { return false; }
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  function setMenu(open) {
    var nav = document.getElementById("nav");
    var button = nav && nav.querySelector(".nav-toggle");
    if (!nav || !button) { return; }
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".nav-toggle");
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        setMenu(button.getAttribute("aria-expanded") !== "true");
      });
    }
  });

  // Shortcuts.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "/") {
      var search = document.getElementById("nav-search");
      if (search) {
        event.preventDefault();
        setMenu(true);
        search.focus();
        search.select();
      }
    } else if (event.key === "n" && window.location.pathname !== "/notes/new") {
      event.preventDefault();
      window.location.href = "/notes/new";
    }
  });

  // Suggestion lists: the field names its list in data-suggestions.
  function options(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll("button")) : [];
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || !target.closest) { return; }
    var field = target.matches("[data-suggestions]") ? target : null;
    if (field && event.key === "ArrowDown") {
      var first = options(document.querySelector(field.getAttribute("data-suggestions")))[0];
      if (first) { event.preventDefault(); first.focus(); }
      return;
    }
    var list = target.closest(".suggestions, .suggestion-chips");
    if (!list || target.tagName !== "BUTTON") { return; }
    var items = options(list);
    var at = items.indexOf(target);
    var owner = document.querySelector("[data-suggestions='#" + list.id + "']");
    var next = null;
    if (event.key === "ArrowDown" || event.key === "ArrowRight") { next = items[Math.min(at + 1, items.length - 1)]; }
    if (event.key === "ArrowUp" || event.key === "ArrowLeft") { next = at > 0 ? items[at - 1] : owner; }
    if (event.key === "Home") { next = items[0]; }
    if (event.key === "End") { next = items[items.length - 1]; }
    if (event.key === "Escape") { next = owner; }
    if (next) { event.preventDefault(); next.focus(); }
  });

  // After a swap, an element marked data-focus-next="#id" sends focus on to that field.
  document.addEventListener("htmx:afterSettle", function () {
    var marker = document.querySelector("[data-focus-next]");
    if (!marker) { return; }
    var next = document.querySelector(marker.getAttribute("data-focus-next"));
    marker.removeAttribute("data-focus-next");
    if (next) { next.focus(); }
  });

  function changed(element) {
    element.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Attendee chips add their name to the attendee field (which keeps the focus).
  document.addEventListener("click", function (event) {
    var chip = event.target.closest && event.target.closest("[data-add-attendee]");
    if (!chip) { return; }
    event.preventDefault();
    var input = document.getElementById("attendees");
    if (!input) { return; }
    var parts = input.value.split(",").map(function (s) { return s.trim(); });
    var typed = parts.pop();
    var name = chip.getAttribute("data-add-attendee");
    if (typed && name.toLowerCase().indexOf(typed.toLowerCase()) < 0) { parts.push(typed); }
    if (parts.map(function (s) { return s.toLowerCase(); }).indexOf(name.toLowerCase()) < 0) { parts.push(name); }
    input.value = parts.filter(Boolean).join(", ") + ", ";
    changed(input);
    input.focus();
  });

  // "Add a follow-up": a "- [ ] text due: date" line at the end of the note's body.
  function addAction() {
    var text = document.getElementById("new-action");
    var due = document.getElementById("new-action-due");
    var body = document.getElementById("body");
    if (!text || !body || !text.value.trim()) { return; }
    var line = "- [ ] " + text.value.trim() + (due && due.value ? " due: " + due.value : "");
    var current = body.value.replace(/\s+$/, "");
    body.value = (current ? current + "\n" : "") + line + "\n";
    text.value = "";
    if (due) { due.value = ""; }
    changed(body);
    text.focus();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-add-action]")) {
      event.preventDefault();
      addAction();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-action-adder]")) {
      event.preventDefault();
      addAction();
    }
  });
})();
