// Session form: until someone picks a theme day by hand, suggest the one the date falls in
// (of several, the shortest: 劳动节 rather than the 全民健身月 around it).
(function () {
  'use strict';
  var select = document.getElementById('theme-day');
  var start = document.querySelector('input[name="starts_at"]');
  if (!select || !start) { return; }
  var byHand = select.value !== '';
  select.addEventListener('change', function () { byHand = true; });
  function suggest() {
    if (byHand) { return; }
    var day = start.value.slice(0, 10), best = null, shortest = Infinity;
    Array.prototype.forEach.call(select.options, function (option) {
      var from = option.dataset.start, to = option.dataset.end;
      if (!from || day < from || day > to) { return; }
      var length = Date.parse(to) - Date.parse(from);
      if (length < shortest) { best = option; shortest = length; }
    });
    select.value = best ? best.value : '';
  }
  start.addEventListener('change', suggest);
  start.addEventListener('input', suggest);
}());
