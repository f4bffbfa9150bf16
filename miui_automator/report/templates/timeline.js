(function () {
  "use strict";
  // Arrow keys (or j/k) step through the timeline; in an open screenshot, left/right move between
  // screenshots and Escape goes back to its step. Plain anchors do the rest: a thumbnail opens its
  // view (#view-…), so the page also works with this script blocked.
  var steps = Array.prototype.slice.call(document.querySelectorAll("tr.step"));
  var views = Array.prototype.slice.call(document.querySelectorAll("div.viewer"));
  function current() {
    var id = decodeURIComponent(location.hash.slice(1));
    return id ? document.getElementById(id) : null;
  }
  function move(list, from, by) {
    if (!list.length) return;
    var i = from ? list.indexOf(from) : -1;
    var next = list[Math.max(0, Math.min(list.length - 1, i < 0 && by < 0 ? 0 : i + by))];
    location.hash = next.id;
    if (next.scrollIntoView && next.tagName === "TR") next.scrollIntoView({block: "center"});
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var at = current();
    var inView = at !== null && at.classList.contains("viewer");
    var by = {ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, ArrowRight: 1, ArrowLeft: -1}[e.key];
    if (inView && e.key === "Escape") {
      location.hash = "step-" + at.getAttribute("data-step");
    } else if (inView && by) {
      move(views, at, by);
    } else if (!inView && (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "j" || e.key === "k")) {
      move(steps, at !== null && at.classList.contains("step") ? at : null, by);
    } else {
      return;
    }
    e.preventDefault();
  });
})();
