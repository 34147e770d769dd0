/*
 * The Codex connection card without page reloads: "Refresh now" and "Test
 * connection" post to the JSON API, a running sweep is followed by polling
 * /api/v1/codex/status every second, and the card is re-rendered from the
 * server when the work is done. Without JavaScript the same buttons post
 * plain forms and the server redirects back with a message.
 */
(function () {
  "use strict";

  var page = document.querySelector("[data-codex-page]");
  var live = document.querySelector("[data-codex-live]");
  if (!page || !live) {
    return;
  }
  var statusUrl = page.getAttribute("data-status-url");
  var POLL_MS = 1000;
  // The labels of SyncOutcome's choices, written into the page by `codex_outcome_labels`.
  var labelsScript = document.getElementById("codex-outcome-labels");
  var OUTCOMES = labelsScript ? JSON.parse(labelsScript.textContent) : {};
  var following = false;

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) {
      return input.value;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function say(text, kind) {
    live.textContent = text;
    live.className = "codex-live message message--" + (kind || "info");
  }

  function setBusy(busy) {
    document.querySelectorAll("[data-codex-action] button").forEach(function (button) {
      button.disabled = busy;
    });
    page.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      window.setTimeout(resolve, ms);
    });
  }

  function readJson(response) {
    return response.json().then(
      function (body) {
        return body;
      },
      function () {
        return {};
      }
    );
  }

  function request(url, options) {
    var settings = Object.assign({ credentials: "same-origin" }, options);
    settings.headers = Object.assign({ Accept: "application/json" }, settings.headers);
    return fetch(url, settings).then(function (response) {
      return readJson(response).then(function (body) {
        if (!response.ok) {
          throw new Error(body.message || "HTTP " + response.status);
        }
        return body;
      });
    });
  }

  // Fetch this page again and swap in its fresh card: the server renders it.
  function rerender() {
    return fetch(window.location.href, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser()
          .parseFromString(html, "text/html")
          .querySelector("[data-codex-page]");
        if (!fresh) {
          throw new Error("no card in the page");
        }
        page.innerHTML = fresh.innerHTML;
      })
      .catch(function () {
        window.location.reload();
      });
  }

  function progressText(status) {
    var progress = status.progress || {};
    if (!progress.totalPages) {
      return "Sweep queued; waiting for the worker…";
    }
    return "Sweeping… page " + progress.pages + " of " + progress.totalPages;
  }

  // A page loaded mid-sweep has a progress line in the card; otherwise the
  // live region above the card carries it. Never both.
  function showProgress(text) {
    var inCard = page.querySelector("[data-codex-progress]");
    if (inCard) {
      inCard.textContent = text;
      say("", "info");
    } else if (live.textContent !== text) {
      say(text, "info");
    }
  }

  function sweepSummary(run) {
    if (!run) {
      return ["Sweep finished.", "info"];
    }
    if (run.outcome === "success") {
      return [
        "Sweep finished: fetched " + run.fetched + ", linked " + run.linked + ", new " +
          run.newLinks + ", removed " + run.removedLinks + ", conflicts " + run.conflicts +
          ", unmatched " + run.unmatched + ".",
        "success",
      ];
    }
    var label = OUTCOMES[run.outcome] || run.outcome;
    return ["Sweep failed (" + label + ")" + (run.error ? ": " + run.error : "."), "error"];
  }

  function follow() {
    if (following) {
      return Promise.resolve();
    }
    following = true;
    setBusy(true);
    function step() {
      return request(statusUrl).then(function (status) {
        if (status.sweepRunning) {
          showProgress(progressText(status));
          return sleep(POLL_MS).then(step);
        }
        var summary = sweepSummary((status.recentSweeps || [])[0]);
        return rerender().then(function () {
          say(summary[0], summary[1]);
        });
      });
    }
    return step()
      .catch(function (error) {
        say("Could not follow the sweep (" + error.message + "); reload the page to see it.", "error");
      })
      .then(function () {
        following = false;
        setBusy(false);
      });
  }

  function refresh(form) {
    setBusy(true);
    return request(form.getAttribute("data-api-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(form) },
    })
      .then(function (body) {
        say(body.skipped ? "A sweep is already running; following it." : "Sweep started.", "info");
        setBusy(false);
        return follow();
      })
      .catch(function (error) {
        setBusy(false);
        say("Refresh failed: " + error.message, "error");
      });
  }

  function checkMessage(check) {
    if (!check.reachable) {
      return ["Codex is unreachable: " + check.message, "error"];
    }
    if (check.authState === "ok") {
      return [
        "Connected to " + check.codexName + " " + check.codexVersion + "; the API key works.",
        "success",
      ];
    }
    return ["Codex is reachable, but: " + check.message, "warning"];
  }

  function test(form) {
    setBusy(true);
    say("Testing the connection…", "info");
    return request(form.getAttribute("data-api-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(form) },
    })
      .then(function (check) {
        var verdict = checkMessage(check);
        return rerender().then(function () {
          say(verdict[0], verdict[1]);
        });
      })
      .catch(function (error) {
        say("Test failed: " + error.message, "error");
      })
      .then(function () {
        setBusy(false);
      });
  }

  document.querySelectorAll("form[data-codex-action]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.getAttribute("data-codex-action") === "refresh") {
        refresh(form);
      } else {
        test(form);
      }
    });
  });

  if (page.getAttribute("data-sweep-running") === "true") {
    follow();
  }
})();
