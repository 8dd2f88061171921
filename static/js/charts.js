// Draw the profile charts from the JSON the page embeds (json_script), with the bundled plotly.js.
(function () {
  const layoutBase = { margin: { t: 10, r: 10, b: 40, l: 50 }, height: 220, bargap: 0.05 };
  const config = { displayModeBar: false, responsive: true };

  function columnTrace(column) {
    if (column.histogram && column.histogram.counts && column.histogram.counts.length) {
      const edges = column.histogram.edges;
      const centers = column.histogram.counts.map((_, i) => (typeof edges[i] === "number" ? (edges[i] + edges[i + 1]) / 2 : edges[i]));
      return { type: "bar", x: centers, y: column.histogram.counts, marker: { color: "#2457d6" } };
    }
    if (column.bars && column.bars.labels && column.bars.labels.length) {
      const labels = column.bars.labels.map(String);
      const counts = column.bars.counts.slice();
      if (column.bars.other) { labels.push("(other)"); counts.push(column.bars.other); }
      return { type: "bar", x: counts, y: labels, orientation: "h", marker: { color: "#2457d6" } };
    }
    return null;
  }

  function draw(root) {
    const source = root.querySelector("#profile-data");
    if (!source || !window.Plotly) return;
    const profile = JSON.parse(source.textContent);
    root.querySelectorAll("[data-chart=column]").forEach((element) => {
      const trace = columnTrace(profile.columns[Number(element.dataset.index)]);
      if (trace) window.Plotly.newPlot(element, [trace], { ...layoutBase, yaxis: { automargin: true } }, config);
      else element.remove();
    });
    const heatmap = root.querySelector("[data-chart=heatmap]");
    if (heatmap && profile.correlation && profile.correlation.columns) {
      const names = profile.correlation.columns;
      window.Plotly.newPlot(heatmap, [{ type: "heatmap", z: profile.correlation.matrix, x: names, y: names,
        zmin: -1, zmax: 1, colorscale: "RdBu", reversescale: true }],
        { ...layoutBase, height: Math.max(300, 28 * names.length), xaxis: { automargin: true }, yaxis: { automargin: true } }, config);
    }
  }

  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:afterSwap", (event) => draw(event.target.parentElement || document));
})();
