// A phone joining as a station keeps its token for API calls, then opens its kiosk.
(function () {
  "use strict";
  const box = document.getElementById("join");
  localStorage.setItem("fieldsync.station", box.dataset.token);
  history.replaceState(null, "", location.pathname);  // the token leaves the address bar
  location.replace(box.dataset.target);
})();
