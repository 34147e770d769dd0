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
