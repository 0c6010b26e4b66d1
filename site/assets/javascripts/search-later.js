// Material fetches the search index (the text of every page of the site) as soon as any page
// opens over http; on mobile data every reader pays for it, searching or not. Here its request
// waits until the reader opens search (focus on the box, or the search toggle), as Material
// itself does for pages opened from file://. Loaded before Material's bundle (extra.polyfills).
(function () {
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  var waiting = [];
  var opened = false;
  function release() {
    if (opened) return;
    opened = true;
    waiting.splice(0).forEach(function (start) { start(); });
  }
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input.md-search__input")) release();
  }, true);
  document.addEventListener("change", function (event) {
    if (event.target.id === "__search" && event.target.checked) release();
  }, true);
  XMLHttpRequest.prototype.open = function (method, url) {
    this.searchIndex = /(^|\/)search\/search_index\.json$/.test(String(url));
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var request = this, args = arguments;
    if (!request.searchIndex || opened) return send.apply(request, args);
    waiting.push(function () { send.apply(request, args); });
  };
})();
