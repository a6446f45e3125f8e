// While a sync runs (a slow or cutting link can make it last minutes), keep the page's sync line
// current: how many records went, how often the link was cut, then the result (decision 0260).
(function () {
  "use strict";
  var bar = document.querySelector(".syncbar");
  var text = bar && bar.firstChild;   // the line's text, before the "Sync now" button
  if (!text || text.nodeType !== Node.TEXT_NODE) { return; }
  function look() {
    fetch("/api/v1/sync/status", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (status) {
        if (!status || !status.line) { return; }
        text.nodeValue = status.line.text;
        bar.className = "syncbar " + status.line.state;
        if (status.line.state === "running") { setTimeout(look, 2000); }
      })
      .catch(function () { setTimeout(look, 5000); });
  }
  setTimeout(look, 2000);
}());
