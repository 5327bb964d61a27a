// netkeep dashboard enhancements. Every page works without this file; with
// it, lists refresh themselves when the server reports a change, and copy
// and print buttons work. Loaded as a file: the Content-Security-Policy
// allows no inline script.
(function () {
  "use strict";

  // Live updates: the server's event stream names the topic of each change
  // in the caller's group; every element whose data-live lists that topic
  // is told to refresh (its hx-trigger includes "live").
  function listen() {
    var live = document.querySelectorAll("[data-live]");
    if (!live.length || !window.EventSource || !window.htmx) return;
    var es = new EventSource("/ui/events");
    es.addEventListener("change", function (ev) {
      document.querySelectorAll("[data-live]").forEach(function (el) {
        if (el.getAttribute("data-live").split(" ").indexOf(ev.data) >= 0) {
          window.htmx.trigger(el, "live");
        }
      });
    });
    document.body.setAttribute("data-live-ready", "1");
  }

  function onClick(ev) {
    var t = ev.target.closest("[data-copy],[data-print]");
    if (!t) return;
    if (t.hasAttribute("data-print")) {
      window.print();
      return;
    }
    var src = document.getElementById(t.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      t.textContent = "Copied";
    });
  }

  document.addEventListener("click", onClick);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", listen);
  } else {
    listen();
  }
})();
