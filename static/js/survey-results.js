// Draws the survey results charts from the figures the page embeds as JSON.
(() => {
  const source = document.getElementById("chart-data");
  const canvas = document.getElementById("elements-chart");
  if (!source || !canvas || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Perception", data: data.perception, backgroundColor: "#1f3a5f" },
        { label: "Importance", data: data.importance, backgroundColor: "#9bb3d1" },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { min: 0, max: 100, title: { display: true, text: "Score (0–100)" } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
})();
