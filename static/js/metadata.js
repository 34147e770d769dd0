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

  function describe(running) {
    var text = "Refresh " + running.outcome + (running.phase ? ": " + running.phase : "");
    if (running.percent !== null) {
      text += " (" + running.percent + "%)";
    } else if (running.bytes_downloaded) {
      text += " (" + Math.round(running.bytes_downloaded / 1048576) + " MB)";
    }
    return text + "…";
  }

  window.tsundokuFollowRun(page.getAttribute("data-status-url"), function (status) {
    if (status.running) {
      progress.hidden = false;
      progress.textContent = describe(status.running);
    }
    return Boolean(status.running);
  });
})();
