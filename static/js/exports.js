/* Exports page: the "New export" dialog, field presets, and a live job table.
 *
 * Everything here is an enhancement: without JavaScript the dialog opens via
 * `?new=1`, submits as a plain form, and the table is current on each reload.
 */
(function () {
  "use strict";

  const REFRESH_MS = 2000;
  const dialog = document.getElementById("new-export");
  const form = document.getElementById("new-export-form");
  const presetData = document.getElementById("export-presets");
  if (!dialog || !form) return;
  const presets = presetData ? JSON.parse(presetData.textContent) : {};

  function openDialog() {
    if (dialog.open) dialog.close();
    dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-export-dialog]");
    if (opener) {
      event.preventDefault();
      openDialog();
      return;
    }
    if (event.target.closest("[data-close-export-dialog]")) {
      event.preventDefault();
      dialog.close();
    }
  });

  // Opened from "Export this view" (?new=1): make the server-opened dialog modal.
  if (dialog.hasAttribute("open")) openDialog();

  function selectedType() {
    const checked = form.querySelector('input[name="type"]:checked');
    return checked ? checked.value : "series";
  }

  // Only the entities of the chosen type are shown and submitted; CSV cannot hold both.
  function syncType() {
    const type = selectedType();
    form.querySelectorAll("fieldset[data-entity]").forEach(function (group) {
      const used = type === "both" || group.dataset.entity === type;
      group.hidden = !used;
      group.disabled = !used;
    });
    const csv = form.querySelector('input[name="format"][value="csv"]');
    const note = document.getElementById("export-csv-note");
    if (csv) {
      csv.disabled = type === "both";
      if (csv.disabled && csv.checked) {
        form.querySelector('input[name="format"][value="json"]').checked = true;
      }
    }
    if (note) note.hidden = type !== "both";
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "type") syncType();
  });
  syncType();

  form.querySelectorAll("[data-preset]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      const keys = new Set(presets[button.dataset.preset] || []);
      // Anchors are disabled checkboxes: always checked, whatever the preset.
      form.querySelectorAll("fieldset[data-entity] input[type=checkbox]").forEach(function (box) {
        if (!box.disabled) box.checked = keys.has(box.value);
      });
    });
  });

  document.addEventListener("submit", function (event) {
    const message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // While an export is pending or running, refresh the table until it settles.
  function scheduleRefresh() {
    const table = document.getElementById("export-jobs");
    if (!table || !table.hasAttribute("data-active")) return;
    window.setTimeout(function () {
      fetch(table.dataset.refreshUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("refresh failed: " + response.status);
          return response.text();
        })
        .then(function (html) {
          table.outerHTML = html;
          scheduleRefresh();
        })
        .catch(function () {
          window.setTimeout(scheduleRefresh, REFRESH_MS * 5);
        });
    }, REFRESH_MS);
  }
  scheduleRefresh();
})();
