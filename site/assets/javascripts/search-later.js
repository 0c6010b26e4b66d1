// Material loads its search worker (40 KB) and then the search index (the text of every page of
// the site) as soon as any page opens over http; on mobile data every reader pays for them,
// searching or not. Here both wait until the reader opens search (focus on the box, or the
// search toggle), as Material itself waits for the index on pages opened from file://.
// Loaded before Material's bundle (extra.polyfills), after the iframe-worker shim.
(function () {
  var waiting = [];
  var opened = false;
  function later(start) {
    if (opened) start(); else waiting.push(start);
  }
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

  // the index: its request is sent when search opens
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.searchIndex = /(^|\/)search\/search_index\.json$/.test(String(url));
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var request = this, args = arguments;
    if (!request.searchIndex) return send.apply(request, args);
    later(function () { send.apply(request, args); });
  };

  // the worker: a stand-in takes Material's listeners and messages until search opens
  var RealWorker = window.Worker;
  if (!RealWorker) return;
  window.Worker = function (url, options) {
    if (!/(^|\/)workers\/search\.[^\/]*\.js$/.test(String(url))) return new RealWorker(url, options);
    var real = null, listeners = [], messages = [];
    var stand = {
      postMessage: function () { if (real) real.postMessage.apply(real, arguments); else messages.push(arguments); },
      addEventListener: function (type, listener, flags) {
        if (real) real.addEventListener(type, listener, flags); else listeners.push([type, listener, flags]);
      },
      removeEventListener: function (type, listener, flags) {
        if (real) real.removeEventListener(type, listener, flags);
        else listeners = listeners.filter(function (l) { return l[0] !== type || l[1] !== listener; });
      },
      terminate: function () { if (real) real.terminate(); }
    };
    later(function () {
      real = new RealWorker(url, options);
      listeners.forEach(function (l) { real.addEventListener(l[0], l[1], l[2]); });
      messages.splice(0).forEach(function (m) { real.postMessage.apply(real, m); });
    });
    return stand;
  };
})();
