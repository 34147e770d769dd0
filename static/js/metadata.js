/*
 * The Metadata page follows a running dump refresh: it polls status.json every
 * two seconds, shows the phase and download progress, and reloads the page
 * when the refresh finishes. Without JavaScript, reloading shows the same.
 */
(function () {
  "use strict";

  var page = document.querySelector("[data-metadata-page]");
  var progress = document.querySelector("[data-metadata-progress]");
  if (!page || !progress || page.getAttribute("data-running") !== "true") {
    return;
  }
  var statusUrl = page.getAttribute("data-status-url");
  var POLL_MS = 2000;

  function describe(running) {
    var text = "Refresh " + running.outcome + (running.phase ? ": " + running.phase : "");
    if (running.percent !== null) {
      text += " (" + running.percent + "%)";
    } else if (running.bytes_downloaded) {
      text += " (" + Math.round(running.bytes_downloaded / 1048576) + " MB)";
    }
    return text + "…";
  }

  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (status) {
        if (status.running) {
          progress.hidden = false;
          progress.textContent = describe(status.running);
          window.setTimeout(poll, POLL_MS);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, POLL_MS * 2);
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
