// Live updates: the server sends the re-rendered live part of the page whenever the box's state changes.
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  var source = new EventSource(live.dataset.events);
  source.onmessage = function (event) { live.innerHTML = event.data; };
})();
