// Hub dashboard charts, drawn with the vendored chart.js from the figures the page embeds
// (#dashboard-data). The page reads fine without them: every figure is also in a table.
(function () {
  'use strict';
  var source = document.getElementById('dashboard-data');
  if (!source || typeof Chart === 'undefined') { return; }
  var data = JSON.parse(source.textContent);
  var text = data.text;
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  function isoDay(date) { return date.toISOString().slice(0, 10); }

  // Every day of the year, so quiet weeks show as gaps rather than vanish.
  function yearDays(year) {
    var days = [];
    for (var d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d.setUTCDate(d.getUTCDate() + 1)) {
      days.push(isoDay(d));
    }
    return days;
  }

  // Theme days as vertical lines (a shaded band for a span such as 全民健身月) with their names.
  var themeDays = {
    id: 'themeDays',
    afterDatasetsDraw: function (chart) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      var labels = chart.data.labels;
      ctx.save();
      ctx.font = '12px sans-serif';
      data.themeDays.forEach(function (mark, index) {
        var from = x.getPixelForValue(labels.indexOf(mark.start));
        var to = x.getPixelForValue(labels.indexOf(mark.end));
        if (mark.end !== mark.start) {
          ctx.fillStyle = 'rgba(11, 87, 208, 0.08)';
          ctx.fillRect(from, area.top, to - from, area.bottom - area.top);
        } else {
          ctx.strokeStyle = '#b35900';
          ctx.beginPath(); ctx.moveTo(from, area.top); ctx.lineTo(from, area.bottom); ctx.stroke();
        }
        ctx.fillStyle = '#b35900';
        ctx.fillText(mark.label, from + 3, area.top + 12 + (index % 3) * 13);
      });
      ctx.restore();
    }
  };

  function checkinsPerDay() {
    var days = yearDays(data.year);
    var byDay = {};
    data.days.forEach((row) => { byDay[row.day] = row.people; });
    new Chart(document.getElementById('chart-days'), {
      type: 'bar',
      data: {
        labels: days,
        datasets: [{ label: text.people, data: days.map((d) => byDay[d] || 0), backgroundColor: '#0b57d0' }]
      },
      options: Object.assign({}, common, { scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true } } }),
      plugins: [themeDays]
    });
  }

  function bar(id, labels, datasets) {
    new Chart(document.getElementById(id), {
      type: 'bar',
      data: { labels: labels, datasets: datasets },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
    });
  }

  checkinsPerDay();
  new Chart(document.getElementById('chart-kinds'), {
    type: 'doughnut',
    data: { labels: data.kinds.map((k) => k.label), datasets: [{ data: data.kinds.map((k) => k.count) }] },
    options: common
  });
  bar('chart-towns', data.towns.map((t) => t.label),
      [{ label: text.trained, data: data.towns.map((t) => t.trained), backgroundColor: '#0b57d0' }]);
  bar('chart-density', data.density.map((r) => r.label), [
    { label: text.density, data: data.density.map((r) => r.value), backgroundColor: '#0a7d32' },
    { type: 'line', label: text.target, data: data.density.map(() => data.densityTarget), borderColor: '#b00020', pointRadius: 0 }
  ]);
}());
