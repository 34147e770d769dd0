/*
 * The Sources page follows a running poll or backfill: while any source has
 * one in flight it polls status.json every two seconds, shows each running
 * source's progress, and reloads the page once none is running (so the new
 * counts and run history show). Without JavaScript, reloading shows the same.
 */
(function () {
  "use strict";

  var page = document.querySelector("[data-sources-page]");
  if (!page || page.getAttribute("data-running") === "") {
    return;
  }

  function describe(running) {
    var text = running.action.charAt(0).toUpperCase() + running.action.slice(1) + " running";
    if (running.pages_total) {
      text += ": page " + running.pages_done + " of " + running.pages_total;
      if (running.new !== undefined) {
        text += ", " + running.new + " new";
      }
    } else if (running.details_total) {
      text += ": detail page " + running.details_done + " of " + running.details_total;
    }
    return text + "…";
  }

  window.tsundokuFollowRun(page.getAttribute("data-status-url"), function (status) {
    var anyRunning = false;
    status.sources.forEach(function (source) {
      var card = page.querySelector('[data-source="' + CSS.escape(source.name) + '"]');
      var progress = card && card.querySelector("[data-source-progress]");
      if (source.running) {
        anyRunning = true;
        if (progress) {
          progress.hidden = false;
          progress.textContent = describe(source.running);
        }
      }
    });
    return anyRunning;
  });
})();
