// Overlay the compared runs' test-split curves from the JSON the page embeds, with the bundled plotly.js.
(function () {
  const layoutBase = { margin: { t: 10, r: 10, b: 45, l: 55 }, height: 320, legend: { orientation: "h" } };
  const config = { displayModeBar: false, responsive: true };

  function plot(name, traces, layout) {
    const element = document.querySelector(`[data-chart="${name}"]`);
    if (!element) return;
    if (!traces.length) { element.textContent = "Not available for these runs."; return; }
    window.Plotly.newPlot(element, traces, { ...layoutBase, ...layout }, config);
  }

  function traces(items, x, y, mode) {
    return (items || []).map((item) => ({
      type: "scatter", mode, name: item.name, x: item[x], y: item[y], marker: { size: 5 },
    }));
  }

  function draw() {
    const element = document.getElementById("compare-curves");
    if (!window.Plotly || !element) return;
    const curves = JSON.parse(element.textContent);
    const chance = { type: "scatter", mode: "lines", name: "chance", x: [0, 1], y: [0, 1], line: { dash: "dot", color: "#999" } };
    const roc = traces(curves.roc, "fpr", "tpr", "lines");
    plot("roc", roc.length ? [...roc, chance] : [], { xaxis: { title: { text: "false positive rate" } }, yaxis: { title: { text: "true positive rate" } } });
    plot("pr", traces(curves.precision_recall, "recall", "precision", "lines"), { xaxis: { title: { text: "recall" } }, yaxis: { title: { text: "precision" } } });
    plot("predicted-vs-actual", traces(curves.predicted_vs_actual, "actual", "predicted", "markers"), { xaxis: { title: { text: "actual" } }, yaxis: { title: { text: "predicted" } } });
    plot("residuals", traces(curves.residuals, "predicted", "residual", "markers"), { xaxis: { title: { text: "predicted" } }, yaxis: { title: { text: "actual − predicted" } } });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
