// The dashboard's charts, drawn from the figures the page embeds as JSON.
(() => {
  const source = document.getElementById("dashboard-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const Chart = window.Chart;
  const navy = "#1f3a5f";
  const amber = "#d97706";
  const palette = ["#2b6cb0", "#2f855a", "#b7791f", "#c05621", "#6b46c1"];
  Chart.defaults.animation = false;

  const radar = document.getElementById("radar-chart");
  if (radar) {
    new Chart(radar, {
      type: "radar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Perception (stakeholders)", data: data.perception, borderColor: navy, backgroundColor: "rgba(31,58,95,0.15)" },
          { label: "Self-assessment (PMO)", data: data.self, borderColor: amber, backgroundColor: "rgba(217,119,6,0.10)", borderDash: [5, 4] },
        ],
      },
      options: { maintainAspectRatio: false, scales: { r: { min: 0, max: 100, ticks: { stepSize: 25 } } }, plugins: { legend: { position: "bottom" } } },
    });
  }

  // Draws the midpoint lines and names the four quadrants of the IPA chart.
  const quadrants = {
    id: "quadrants",
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea: area, scales: { x, y } } = chart;
      const mx = x.getPixelForValue(50);
      const my = y.getPixelForValue(50);
      ctx.save();
      ctx.strokeStyle = "#adb5bd";
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(mx, area.top); ctx.lineTo(mx, area.bottom);
      ctx.moveTo(area.left, my); ctx.lineTo(area.right, my);
      ctx.stroke();
      ctx.fillStyle = "#6c757d";
      ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.fillText("Concentrate here", area.left + 6, area.top + 14);
      ctx.fillText("Low priority", area.left + 6, area.bottom - 6);
      ctx.textAlign = "right";
      ctx.fillText("Keep up the good work", area.right - 6, area.top + 14);
      ctx.fillText("Possible overkill", area.right - 6, area.bottom - 6);
      ctx.restore();
    },
  };
  const ipa = document.getElementById("ipa-chart");
  if (ipa) {
    new Chart(ipa, {
      type: "scatter",
      data: {
        datasets: data.ipa.map((point, index) => ({
          label: point.label,
          data: [{ x: point.x, y: point.y }],
          backgroundColor: palette[index % palette.length],
          pointRadius: 7,
        })),
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          x: { min: 0, max: 100, title: { display: true, text: "Perception" } },
          y: { min: 0, max: 100, title: { display: true, text: "Importance" } },
        },
        plugins: { legend: { position: "bottom" } },
      },
      plugins: [quadrants],
    });
  }

  const trend = document.getElementById("trend-chart");
  if (trend) {
    new Chart(trend, {
      type: "line",
      data: {
        labels: data.trend.labels,
        datasets: data.trend.series.map((series, index) => ({ ...series, borderColor: palette[index], backgroundColor: palette[index], spanGaps: true })),
      },
      options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } }, plugins: { legend: { position: "bottom" } } },
    });
  }
})();

// The engagement index across the last twelve month ends: its own figures, drawn whether or
// not the page has survey results.
(() => {
  const source = document.getElementById("engagement-data");
  const canvas = document.getElementById("engagement-chart");
  if (!source || !canvas || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  window.Chart.defaults.animation = false;
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{ label: "Engagement index (%)", data: data.index, borderColor: "#1f3a5f", backgroundColor: "#1f3a5f", spanGaps: true }],
    },
    options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } } }, plugins: { legend: { display: false } } },
  });
})();
