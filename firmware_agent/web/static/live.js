// Live updates: the server sends the re-rendered live part of the page whenever the box's state changes.
// While something in it has the focus (someone typing an order's estimate, or pressing its button), the newest
// version waits until the focus leaves the live part, so an update never takes away what they typed or the
// button under their finger.
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  var waiting = null;
  function typing() {
    var active = document.activeElement;
    return active && active !== live && live.contains(active);
  }
  var source = new EventSource(live.dataset.events);
  source.onmessage = function (event) {
    if (typing()) { waiting = event.data; return; }
    live.innerHTML = event.data;
  };
  live.addEventListener("focusout", function () {
    setTimeout(function () {
      if (waiting !== null && !typing()) { live.innerHTML = waiting; waiting = null; }
    }, 0);
  });
})();
