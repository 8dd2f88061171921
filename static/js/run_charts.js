// Draw a training run's charts from the JSON the page embeds (json_script), with the bundled plotly.js.
(function () {
  const layoutBase = { margin: { t: 10, r: 10, b: 45, l: 55 }, height: 300 };
  const config = { displayModeBar: false, responsive: true };

  function data(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function plot(name, traces, layout) {
    const element = document.querySelector(`[data-chart="${name}"]`);
    if (!element) return;
    if (!traces.length) { element.textContent = "Not available for this run."; return; }
    window.Plotly.newPlot(element, traces, { ...layoutBase, ...layout }, config);
  }

  function curves(source, x, y) {
    return Object.entries(source || {}).map(([label, points]) => ({
      type: "scatter", mode: "lines", name: label, x: points[x], y: points[y],
    }));
  }

  function draw() {
    if (!window.Plotly) return;
    const plots = data("run-plots") || {};
    const confusion = data("run-confusion");
    const importance = data("run-importance") || [];
    if (confusion && confusion.labels) {
      plot("confusion", [{ type: "heatmap", z: confusion.matrix, x: confusion.labels, y: confusion.labels,
        colorscale: "Blues", text: confusion.matrix, texttemplate: "%{text}" }],
        { xaxis: { title: { text: "predicted" } }, yaxis: { title: { text: "actual" }, autorange: "reversed" } });
    }
    const diagonal = { type: "scatter", mode: "lines", name: "chance", x: [0, 1], y: [0, 1], line: { dash: "dot", color: "#999" } };
    const roc = curves(plots.roc, "fpr", "tpr");
    plot("roc", roc.length ? [...roc, diagonal] : [], { xaxis: { title: { text: "false positive rate" } }, yaxis: { title: { text: "true positive rate" } } });
    plot("pr", curves(plots.precision_recall, "recall", "precision"), { xaxis: { title: { text: "recall" } }, yaxis: { title: { text: "precision" } } });
    const pva = plots.predicted_vs_actual;
    if (pva) {
      const low = Math.min(...pva.actual, ...pva.predicted), high = Math.max(...pva.actual, ...pva.predicted);
      plot("predicted-vs-actual", [
        { type: "scatter", mode: "markers", name: "rows", x: pva.actual, y: pva.predicted, marker: { size: 5, color: "#2457d6" } },
        { type: "scatter", mode: "lines", name: "perfect", x: [low, high], y: [low, high], line: { dash: "dot", color: "#999" } },
      ], { xaxis: { title: { text: "actual" } }, yaxis: { title: { text: "predicted" } } });
    }
    const residuals = plots.residuals;
    if (residuals) {
      plot("residuals", [{ type: "scatter", mode: "markers", x: residuals.predicted, y: residuals.residual, marker: { size: 5, color: "#2457d6" } }],
        { xaxis: { title: { text: "predicted" } }, yaxis: { title: { text: "actual − predicted" } } });
    }
    const calibration = plots.calibration;
    if (calibration) {
      plot("calibration", [
        { type: "scatter", mode: "lines+markers", name: "model", x: calibration.predicted, y: calibration.observed, marker: { color: "#2457d6" } },
        diagonal,
      ], { xaxis: { title: { text: "chance given" }, range: [0, 1] }, yaxis: { title: { text: "share that were" }, range: [0, 1] } });
    }
    const gain = plots.gain;
    if (gain) {
      plot("gain", [
        { type: "scatter", mode: "lines", name: "model", x: gain.share, y: gain.gain, line: { color: "#2457d6" } },
        { ...diagonal, name: "random" },
      ], { xaxis: { title: { text: "share of rows, surest first" }, tickformat: ".0%" }, yaxis: { title: { text: "share found" }, tickformat: ".0%" } });
    }
    (plots.partial_dependence || []).forEach((item, index) => {
      const lines = item.ice.map((line) => ({ type: "scatter", mode: "lines", x: item.grid, y: line, showlegend: false,
        hoverinfo: "skip", line: { color: "rgba(36, 87, 214, 0.15)", width: 1 } }));
      const average = { type: item.categorical ? "bar" : "scatter", mode: "lines", name: "average", x: item.grid, y: item.average,
        line: { color: "#1b1f3a", width: 3 }, marker: { color: item.categorical ? "rgba(36, 87, 214, 0.6)" : "#1b1f3a" } };
      plot(`pd-${index}`, item.categorical ? [average] : [...lines, average],
        { xaxis: { title: { text: item.feature }, type: item.categorical ? "category" : "-" }, yaxis: { title: { text: item.what } }, showlegend: false });
    });
    const rows = importance.slice(0, 20).reverse();
    plot("importance", rows.length ? [{ type: "bar", orientation: "h", x: rows.map((r) => r.importance), y: rows.map((r) => r.feature),
      error_x: { type: "data", array: rows.map((r) => r.std) }, marker: { color: "#2457d6" } }] : [],
      { height: Math.max(200, 28 * rows.length), yaxis: { automargin: true } });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
