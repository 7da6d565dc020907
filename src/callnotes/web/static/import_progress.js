// callnotes: the MSX import's progress, streamed (Server-Sent Events from /msx/import/events).
// The panel also polls every few seconds, so the page still moves if the stream cannot be opened.
(function () {
  "use strict";
  var source = null;

  function phaseRow(container, phase) {
    var rows = container.querySelectorAll("[data-phase]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-phase") === phase) { return rows[i]; }
    }
    var row = document.createElement("div");
    row.className = "small";
    row.setAttribute("data-phase", phase);
    var label = document.createElement("label");
    label.appendChild(document.createTextNode(phase + " "));
    label.appendChild(document.createElement("progress"));
    label.appendChild(document.createTextNode(" "));
    var count = document.createElement("span");
    count.className = "count";
    label.appendChild(count);
    row.appendChild(label);
    container.appendChild(row);
    return row;
  }

  function showPhase(data) {
    var container = document.getElementById("msx-import-phases");
    if (!container) { return; }
    var row = phaseRow(container, data.phase);
    var bar = row.querySelector("progress");
    bar.max = data.total || 1;
    bar.value = data.done;
    row.querySelector(".count").textContent = data.done + "/" + data.total;
  }

  function finish() {
    if (source) { source.close(); source = null; }
    if (window.htmx && document.getElementById("msx-import")) {
      window.htmx.ajax("GET", "/msx/import", { target: "#msx-import", swap: "innerHTML" });
    }
  }

  function connect() {
    var panel = document.querySelector("#msx-import-panel[data-events]");
    if (!panel || source || !window.EventSource) { return; }
    source = new EventSource(panel.getAttribute("data-events"));
    source.addEventListener("phase", function (event) { showPhase(JSON.parse(event.data)); });
    source.addEventListener("summary", finish);
    source.onerror = function () { if (source) { source.close(); source = null; } };  // polling carries on
  }

  document.addEventListener("DOMContentLoaded", connect);
  document.addEventListener("htmx:afterSettle", connect);
})();
