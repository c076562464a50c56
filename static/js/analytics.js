// /staff/analytics/: draws the charts from the page's own JSON (Chart.js from our static files).
// Without JavaScript (or Chart.js) the tables and KPI cards still show every figure.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var picker = document.querySelector("[data-period-picker]");
    if (picker) {
      var range = picker.querySelector("[data-range]");
      picker.querySelectorAll('input[type="date"]').forEach(function (input) {
        input.addEventListener("change", function () { range.value = "custom"; });
      });
    }
    var source = document.getElementById("analytics-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var money = function (values) { return values.map(Number); };
    function chart(id, config) {
      var canvas = document.getElementById(id);
      if (canvas) new window.Chart(canvas, config);
    }
    chart("chart-trend", {
      type: "line",
      data: { labels: data.days, datasets: [
        { label: "Net revenue (" + data.currency + ")", data: money(data.revenue), yAxisID: "y", borderColor: "#1d4ed8", pointRadius: 0 },
        { label: "Orders", data: data.orders, yAxisID: "y1", borderColor: "#f59e0b", pointRadius: 0 }
      ] },
      options: { interaction: { mode: "index", intersect: false },
                 scales: { y: { position: "left" }, y1: { position: "right", grid: { drawOnChartArea: false } } } }
    });
    chart("chart-customers", {
      type: "bar",
      data: { labels: data.days, datasets: [
        { label: "New customers", data: data.new_customers, backgroundColor: "#10b981" },
        { label: "Returning customers", data: data.returning_customers, backgroundColor: "#94a3b8" }
      ] },
      options: { scales: { x: { stacked: true }, y: { stacked: true } } }
    });
    chart("chart-funnel", {
      type: "bar",
      data: { labels: ["Sessions", "Viewed", "Added to cart", "Checkout", "Ordered"],
              datasets: [{ label: "Sessions", data: data.funnel, backgroundColor: "#6366f1" }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } }
    });
    chart("chart-products", {
      type: "bar",
      data: { labels: data.products.labels,
              datasets: [{ label: "Net revenue (" + data.currency + ")", data: money(data.products.values), backgroundColor: "#1d4ed8" }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } }
    });
    // One bar per country, every label shown: horizontal bars in a box as tall as the list.
    var countryBox = document.querySelector("[data-chart-box=countries]");
    if (countryBox) countryBox.style.height = Math.max(160, data.countries.labels.length * 20 + 40) + "px";
    chart("chart-countries", {
      type: "bar",
      data: { labels: data.countries.labels,
              datasets: [{ label: "Net revenue (" + data.currency + ")", data: money(data.countries.values), backgroundColor: "#0ea5e9" }] },
      options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { y: { ticks: { autoSkip: false } } } }
    });
  });
})();
