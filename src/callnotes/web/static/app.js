// callnotes: site-wide behaviour (CSP-friendly: no inline scripts, no eval).
(function () {
  "use strict";
  // Show htmx request failures instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("htmx-error");
    if (!box) { return; }
    var xhr = event.detail.xhr;
    var message = "Request failed (" + xhr.status + ")";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.detail) { message += ": " + (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)); }
    } catch (e) {
      // An HTML fragment: its role="alert" element holds the sentence (read as text, never as markup).
      var alert = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("[role=alert]");
      if (alert) { message = alert.textContent.trim(); }
    }
    box.innerHTML = "";
    var div = document.createElement("div");
    div.className = "flash error";
    div.textContent = message;
    box.appendChild(div);
  });
  // Elements marked data-swap-errors show the server's error fragment in place (e.g. the TPID lookup).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.isError && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("htmx-error");
    if (box) { box.innerHTML = '<div class="flash error">The server cannot be reached.</div>'; }
  });
  // Buttons and forms asking for confirmation: data-confirm="question".
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);
})();
