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
    } catch (e) { /* HTML error page: keep the status line */ }
    box.innerHTML = "";
    var div = document.createElement("div");
    div.className = "flash error";
    div.textContent = message;
    box.appendChild(div);
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
