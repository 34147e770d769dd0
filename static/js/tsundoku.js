// Progressive touches only: every page works the same without this file.

// The feed's filter panel folds away on small screens, where it would fill
// the first screen, unless a filter in it is in use. Without JS it stays open.
(function () {
  "use strict";
  var panel = document.querySelector("details[data-collapse-narrow]");
  if (!panel || !window.matchMedia) {
    return;
  }
  var narrow = window.matchMedia("(max-width: 640px)");
  function sync() {
    panel.open = !narrow.matches || panel.hasAttribute("data-active");
  }
  sync();
  if (narrow.addEventListener) {
    narrow.addEventListener("change", sync);
  }
})();

// Pages that follow a background run (a dump refresh, a source poll) share
// one loop: fetch the page's status.json every two seconds and hand it to
// `render`, which shows progress and returns true while something still
// runs; once nothing does, reload so the page shows the finished result.
// A failed fetch waits twice as long and tries again.
window.tsundokuFollowRun = function (statusUrl, render) {
  "use strict";
  var POLL_MS = 2000;
  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (status) {
        if (render(status)) {
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
};
