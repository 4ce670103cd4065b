// The pipeline board: drag a card to another column to move it (plain HTML5 drag and drop).
// The card's own stage menu does the posting — the same form that works without JavaScript and on phones —
// so the move goes through htmx like every other form: its CSRF header, its error handling, the board
// swapped back with the new counts and totals. No inline script anywhere (the CSP forbids them).
(function () {
  "use strict";
  var dragged = null;
  var pending = null;  // the card moved on the screen while its move is being saved

  function elementOf(event) {
    var target = event.target;
    return target && target.nodeType === 1 ? target : target && target.parentElement;
  }

  function columnOf(event) {
    var el = elementOf(event);
    return el && el.closest ? el.closest(".stage-column[data-stage-id]") : null;
  }

  function unmark() {
    document.querySelectorAll(".stage-column.drop-here").forEach(function (c) { c.classList.remove("drop-here"); });
  }

  document.addEventListener("dragstart", function (event) {
    var el = elementOf(event);
    var card = el && el.closest ? el.closest(".opp-card[draggable=true]") : null;
    if (!card || !card.querySelector("form.stage-menu")) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.opportunityId);
    card.classList.add("is-dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    unmark();
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event);
    if (!dragged || !column) return;
    event.preventDefault();  // allows the drop
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-here")) {
      unmark();
      column.classList.add("drop-here");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event);
    if (!dragged || !column) return;
    event.preventDefault();
    unmark();
    var card = dragged;
    var form = card.querySelector("form.stage-menu");
    var select = form.querySelector("select[name=stage_id]");
    if (select.value === column.dataset.stageId) return;
    var previous = select.value;
    select.value = column.dataset.stageId;
    // Show it there at once; the board that comes back has the new counts and totals. Should the move be
    // refused (gone, no longer allowed), the card goes back where it was and the message shows in #flash.
    var list = column.querySelector(".opp-cards");
    pending = { form: form, select: select, previous: previous, card: card, parent: card.parentNode, next: card.nextSibling };
    if (list) {
      var empty = list.querySelector(".empty");
      if (empty) empty.remove();
      list.appendChild(card);
    }
    form.requestSubmit();
  });

  function putBack(event) {
    if (!pending || event.detail.elt !== pending.form) return;
    pending.parent.insertBefore(pending.card, pending.next);
    pending.select.value = pending.previous;
    pending = null;
  }
  document.addEventListener("htmx:responseError", putBack);
  document.addEventListener("htmx:sendError", putBack);
  document.addEventListener("htmx:afterRequest", function (event) {
    if (pending && event.detail.elt === pending.form && event.detail.successful) pending = null;
  });
})();
