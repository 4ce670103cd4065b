// Storia's own small behaviours. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  // Nothing here changes the layout when it loads: the phone menu is a <details>, buttons a script makes needless
  // hide with @media (scripting: enabled), a list's bulk bar shows with :has() (static/css/app.css). A class added
  // here on load would move what the page already painted (Lighthouse's layout shift).

  // Close live streams before leaving the page (no "connection lost" noise on navigation).
  var streams = [];
  document.addEventListener("htmx:sseOpen", function (event) { streams.push(event.detail.source); });
  window.addEventListener("pagehide", function () {
    streams.forEach(function (source) { source.close(); });
  });
  // A page restored from the back/forward cache has its streams closed: load it afresh.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.querySelector("[sse-connect]")) window.location.reload();
  });

  // A select marked data-autosubmit submits its form when changed (language switch).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.requestSubmit();
  });

  // Close an open dropdown when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });

  // Network failure or a server that did not answer: keep what the user typed and say so.
  function showNetworkError() {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = document.body.dataset.networkError;
    flash.replaceChildren(p);
  }
  document.addEventListener("htmx:sendError", showNetworkError);
  document.addEventListener("htmx:timeout", showNetworkError);

  // Live timeline. An event may arrive twice (the page, the stream, the note just posted):
  // keep the first. While the reader is scrolled down, count arrivals on a button instead.
  function eventIdOf(lastEventId) {
    return (lastEventId || "").split("_").pop();
  }
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    var id = eventIdOf(event.detail.lastEventId);
    if (id && document.getElementById("ev-" + id)) event.preventDefault();
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var fragment = event.detail.fragment;
    var item = fragment && fragment.querySelector ? fragment.querySelector("li.event") : null;
    if (item && document.getElementById(item.id)) event.detail.shouldSwap = false;
  });
  // A roll-up line (the views of a document) replaces its previous state: keep the newest, the first in the list.
  function dropSupersededRollups() {
    var seen = {};
    document.querySelectorAll("#timeline-section li[data-rollup]").forEach(function (row) {
      if (seen[row.dataset.rollup]) row.remove(); else seen[row.dataset.rollup] = true;
    });
  }
  ["htmx:sseMessage", "htmx:oobAfterSwap", "htmx:afterSwap"].forEach(function (name) {
    document.addEventListener(name, dropSupersededRollups);
  });
  var unseen = 0;
  document.addEventListener("htmx:sseMessage", function () {
    var live = document.getElementById("timeline-live");
    var button = document.querySelector(".new-events");
    if (!live || !button) return;
    if (live.getBoundingClientRect().top < 0) {
      unseen += 1;
      button.textContent = "↑ " + button.dataset.template.replace("{n}", unseen);
      button.hidden = false;
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".new-events") : null;
    if (!button) return;
    unseen = 0;
    button.hidden = true;
    document.getElementById("timeline-section").scrollIntoView({ behavior: "smooth" });
  });
})();

// The customer card's tabs on a phone (a form of buttons that reloads with ?panel= without a script): show the
// chosen panel above the note box, or hide it when its tab is pressed again.
(function () {
  document.addEventListener("click", function (event) {
    var tab = event.target.closest ? event.target.closest(".card-tab") : null;
    if (!tab) return;
    event.preventDefault();
    var open = tab.getAttribute("aria-expanded") !== "true";
    document.querySelectorAll(".card-tab").forEach(function (other) {
      other.setAttribute("aria-expanded", "false");
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.classList.remove("shown");
    });
    if (open) {
      tab.setAttribute("aria-expanded", "true");
      document.getElementById(tab.getAttribute("aria-controls")).classList.add("shown");
    }
  });
})();

// The search box of the top bar (templates/_nav.html): a combobox over a listbox that htmx fills as one types.
// Arrow keys move the active option (aria-activedescendant: the focus stays in the box), Enter opens it (or, with
// none active, submits the form: the results page), Escape closes the list; a click elsewhere closes it too.
(function () {
  function box() { return document.getElementById("topsearch-q"); }
  function list() { return document.getElementById("topsearch-results"); }
  function options() { return Array.prototype.slice.call(list().querySelectorAll('[role="option"]:not([aria-disabled="true"])')); }
  function activate(option) {
    var input = box();
    options().forEach(function (other) { other.setAttribute("aria-selected", other === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  function show(open) {
    var input = box(), results = list();
    if (!input || !results) return;
    open = open && results.children.length > 0;
    results.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) activate(null);
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "topsearch-results") {
      activate(null);
      show(document.activeElement === box());
    }
  });
  document.addEventListener("keydown", function (event) {
    var input = box();
    if (!input || event.target !== input) return;
    var found = options();
    var current = found.indexOf(document.getElementById(input.getAttribute("aria-activedescendant") || ""));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!found.length) return;
      event.preventDefault();
      show(true);
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = current < 0 ? (step > 0 ? 0 : found.length - 1) : (current + step + found.length) % found.length;
      activate(found[next]);
    } else if (event.key === "Enter" && current >= 0 && !list().hidden) {
      event.preventDefault();
      window.location.assign(found[current].href);
    } else if (event.key === "Escape" && !list().hidden) {
      event.preventDefault();
      show(false);
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target === box() && list().children.length) show(true);
  });
  document.addEventListener("click", function (event) {
    var form = box() ? box().form : null;
    if (form && !form.contains(event.target)) show(false);
  });
})();
