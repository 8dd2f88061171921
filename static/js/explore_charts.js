// Draw each column's chart against the target when its row is opened, from the JSON the page embeds
// (json_script), with the bundled plotly.js. Plot types: ml/profiling/target.py.
(function () {
  const config = { displayModeBar: false, responsive: true };
  const base = { margin: { t: 10, r: 10, b: 60, l: 60 }, height: 280 };
  const blue = "#2457d6";

  function boxTraces(plot) {
    return [{
      type: "box", name: "", orientation: "v",
      x: plot.groups.map((g) => g.label),
      q1: plot.groups.map((g) => g.q1), median: plot.groups.map((g) => g.median), q3: plot.groups.map((g) => g.q3),
      lowerfence: plot.groups.map((g) => g.low), upperfence: plot.groups.map((g) => g.high),
      mean: plot.groups.map((g) => g.mean), marker: { color: blue },
      hovertext: plot.groups.map((g) => `${g.count} rows`),
    }];
  }

  function rateTraces(plot) {
    return plot.classes.map((label, i) => ({
      type: "bar", name: `share “${label}”`, x: plot.values, y: plot.shares[i],
      customdata: plot.counts, hovertemplate: "%{x}: %{y:.1%} of %{customdata} rows<extra>%{fullData.name}</extra>",
    }));
  }

  function binnedTraces(plot) {
    return [
      { type: "scatter", mode: "lines", x: plot.bins, y: plot.q3, line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { type: "scatter", mode: "lines", x: plot.bins, y: plot.q1, fill: "tonexty", fillcolor: "rgba(36,87,214,0.15)",
        line: { width: 0 }, name: "middle half", hoverinfo: "skip" },
      { type: "scatter", mode: "lines+markers", x: plot.bins, y: plot.mean, name: "mean", marker: { color: blue },
        customdata: plot.counts, hovertemplate: "%{x}: mean %{y:.4g} (%{customdata} rows)<extra></extra>" },
    ];
  }

  function draw(details, data) {
    const element = details.querySelector("[data-chart=explore]");
    if (!element || element.dataset.drawn || !window.Plotly) return;
    const column = data.columns[Number(details.dataset.plotIndex)];
    const plot = column.plot;
    let traces = [];
    const layout = { ...base, xaxis: { automargin: true, type: "category" }, yaxis: { automargin: true } };
    if (plot.type === "box") {
      traces = boxTraces(plot);
      layout.yaxis.title = { text: data.problem_type === "regression" ? data.target : column.name };
    } else if (plot.type === "rate") {
      traces = rateTraces(plot);
      layout.barmode = plot.classes.length > 1 ? "stack" : "group";
      const share = plot.classes.length === 1 ? `share “${plot.classes[0]}”` : "share of rows";
      layout.yaxis = { automargin: true, tickformat: ".0%", title: { text: share } };
      layout.shapes = plot.classes.length === 1 ? [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: plot.overall[0],
        y1: plot.overall[0], line: { dash: "dot", color: "#555" } }] : [];
    } else if (plot.type === "binned_mean") {
      traces = binnedTraces(plot);
      layout.yaxis.title = { text: data.target };
    }
    if (!traces.length) return;
    window.Plotly.newPlot(element, traces, layout, config);
    element.dataset.drawn = "1";
  }

  function bind(root) {
    const source = root.querySelector("#exploration-data");
    if (!source) return;
    const data = JSON.parse(source.textContent);
    root.querySelectorAll("details[data-plot-index]").forEach((details) => {
      if (details.open) draw(details, data);
      details.addEventListener("toggle", () => { if (details.open) draw(details, data); });
    });
    const first = root.querySelector("details[data-plot-index]");
    if (first) { first.open = true; draw(first, data); }
  }

  document.addEventListener("DOMContentLoaded", () => bind(document));
  document.addEventListener("htmx:afterSwap", (event) => bind(event.target.parentElement || document));
})();
