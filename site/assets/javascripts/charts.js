// Draw each page's plotly figures from the JSON beside them (local plotly.min.js, no CDN).
// Without JavaScript the tables next to the charts carry the same data.
(function () {
  function render() {
    if (!window.Plotly) return;
    document.querySelectorAll("script.chart-data").forEach(function (node) {
      var target = document.getElementById(node.getAttribute("data-target"));
      if (!target || target.getAttribute("data-rendered")) return;
      var figure = JSON.parse(node.textContent);
      target.setAttribute("data-rendered", "1");
      window.Plotly.newPlot(target, figure.data, figure.layout,
        { displayModeBar: false, responsive: true });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
