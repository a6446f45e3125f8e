// Kiosk station: keyboard-wedge and camera scans, manual search, walk-ins, live attendee list.
// Every scan carries a client-made ULID and goes through the browser queue (kiosk-queue.js),
// so a retry never records twice and a moment offline loses nothing.
(function () {
  "use strict";
  const root = document.getElementById("kiosk");
  if (!root) return;
  const TEXT = JSON.parse(document.getElementById("kiosk-text").textContent);
  const LANG = document.documentElement.lang || "zh-CN";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const stationToken = root.dataset.station ? localStorage.getItem("fieldsync.station") : null;
  const input = document.getElementById("scan-input");
  const sessionId = root.dataset.session;
  const byId = (id) => document.getElementById(id);

  // --- ULID (Crockford base32, 48-bit time + 80 random bits) ---
  const B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  function ulid() {
    let t = Date.now(), time = "";
    for (let i = 0; i < 10; i++) { time = B32[t % 32] + time; t = Math.floor(t / 32); }
    const rnd = crypto.getRandomValues(new Uint8Array(16));
    let r = "";
    for (let i = 0; i < 16; i++) r += B32[rnd[i] % 32];
    return time + r;
  }

  const feedback = window.createFeedback({ root, box: byId("feedback"), text: TEXT, lang: LANG });
  const { show, render, describe } = feedback;

  // --- talking to the laptop: stations send their token, people at the laptop their cookie ---
  async function api(url, options) {
    const headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (stationToken) headers.Authorization = "Bearer " + stationToken;
    else headers["X-CSRF-Token"] = csrf;
    const res = await fetch(url, Object.assign({ credentials: "same-origin", headers }, options));
    const body = await res.json().catch(() => ({}));
    if (res.status === 401 && body.error && body.error.code === "station_expired") stationExpired(body.error.message);
    return { ok: res.ok, status: res.status, body };
  }
  // The laptop no longer takes this phone's token: say so (scans wait in the queue) until staff
  // show a new join code and the phone scans it.
  let expiredMessage = "";
  function stationExpired(message) {
    expiredMessage = message;
    root.dataset.expired = "1";
    feedback.hold(message);
  }
  async function sendCheckin(item) {
    try {
      return await api(root.dataset.checkinsUrl, { method: "POST", body: JSON.stringify(item) });
    } catch (e) {
      return { ok: false, status: 0, body: {} };  // no answer at all: keep it queued
    }
  }

  // --- the queue and what each answer means on screen ---
  // Only the answer to the latest scan, search or walk-in speaks as itself: a slow answer to an
  // earlier one must not put the previous person (and their form link) back on the screen.
  let sentFromQueue = 0, latest = null;
  function answered(item, res, fromQueue) {
    if (fromQueue) sentFromQueue += 1;
    const earlier = fromQueue || item.id !== latest;
    if (!res.ok) {
      show("bad", "✗", (earlier ? TEXT.earlier + " " : "") + TEXT.error,
           (res.body.error && res.body.error.message) || String(res.status));
    } else if (!earlier) {
      render(res.body, item.direction);
      feedback.offerForm(res.body.form_url);
    } else if (!["ok", "already"].includes(res.body.status)) {
      render(res.body, item.direction, TEXT.earlier);  // an earlier scan that needs a look
    }
    refresh();
  }
  function showWaiting(count) {
    const bar = byId("queue-bar");
    byId("queue-count").textContent = count.toLocaleString(LANG);
    bar.hidden = count === 0;
    root.dataset.waiting = String(count);
    if (count === 0 && sentFromQueue) {
      show("ok", "✓", TEXT.sent.replace("{n}", sentFromQueue.toLocaleString(LANG)), "", true);
      sentFromQueue = 0;
    }
  }
  async function submitCheckin(item) {
    item.direction = item.direction || direction();
    latest = item.id;
    const { outcome, status } = await (await queueReady).add(item);
    if (outcome === "keep" && item.id === latest) {
      if (expiredMessage && status === 401) feedback.hold(expiredMessage);
      else show("warn", "…", status === 401 ? TEXT.signed_out : TEXT.queued, item.code ? "" : (item.label || ""));
    }
    return outcome;
  }

  function direction() {
    return document.querySelector('input[name="direction"]:checked').value;
  }

  function scan(code) {
    return submitCheckin({ id: ulid(), session: sessionId, code, direction: direction(),
                           scanned_at: new Date().toISOString() });
  }

  // --- manual search and walk-in ---
  const results = byId("search-results");
  const list = byId("search-list");
  async function search(text) {
    const asked = latest = "search:" + ulid();
    list.innerHTML = "";
    input.dataset.lastText = text;
    show("search", "⌕", TEXT.searching.replace("{text}", text), "");
    const url = root.dataset.peopleUrl + "?q=" + encodeURIComponent(text) + "&limit=10";
    const res = await api(url, { method: "GET" }).catch(() => ({ ok: false, status: 0, body: {} }));
    if (asked !== latest) return;   // something newer was scanned or typed meanwhile
    const found = res.body.people || [];
    if (!res.ok && res.status !== 422) {
      // No answer is not "nobody": do not offer a walk-in for someone who may be on the roster.
      show("bad", "✗", TEXT.search_failed, (res.body.error && res.body.error.message) || "");
    } else if (!found.length) {
      // Trainers and stations see phones masked, so they search by the whole number only.
      const li = document.createElement("li");
      li.textContent = res.status === 422 ? TEXT.whole_phone : TEXT.no_match;
      list.append(li);
      show("unknown", "?", TEXT.unknown.replace("{text}", text), res.status === 422 ? TEXT.whole_phone
           : TEXT.unknown_detail);
    } else {
      show("search", "⌕", TEXT.searching.replace("{text}", text), TEXT.found.replace("{n}", found.length));
    }
    found.forEach((p) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button"; b.className = "person";
      b.textContent = describe(p) + (p.phone ? "  " + p.phone : "");
      b.addEventListener("click", () => {
        results.hidden = true;
        submitCheckin({ id: ulid(), session: sessionId, person: p.id, method: "manual", label: describe(p),
                        scanned_at: new Date().toISOString() });
        focusInput();
      });
      li.append(b); list.append(li);
    });
    results.hidden = list.children.length === 0;
  }

  const dialog = byId("walkin");
  byId("walkin-open").addEventListener("click", () => {
    const form = byId("walkin-form");
    form.reset();
    const typed = input.dataset.lastText || "";
    if (/^\d{11}$/.test(typed)) form.phone.value = typed; else form.name.value = typed;
    dialog.showModal();
  });
  byId("walkin-cancel").addEventListener("click", () => dialog.close());
  // However it closes (Escape too), the focus goes back to the scan field, not to this button,
  // where the scanner's next Enter would open the dialog again.
  dialog.addEventListener("close", () => focusInput());
  byId("walkin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target, err = byId("walkin-error");
    const person = { name: form.name.value, town: root.dataset.town };
    if (form.phone.value) person.phone = form.phone.value;
    if (form.village.value) person.village = form.village.value;
    const res = await api(root.dataset.registerUrl, { method: "POST", body: JSON.stringify(person) })
      .catch(() => ({ ok: false, status: 0, body: {} }));
    if (!res.ok) {
      err.textContent = res.body.error ? res.body.error.message : TEXT.error; err.hidden = false; return;
    }
    err.hidden = true; dialog.close(); results.hidden = true;
    await submitCheckin({ id: ulid(), session: sessionId, person: res.body.id, method: "walk-in", direction: "in",
                          scanned_at: new Date().toISOString() });
    focusInput();
  });

  // --- attendee list ---
  async function refresh() {
    try {
      const res = await api(root.dataset.attendeesUrl, { method: "GET" });
      if (!res.ok) return;
      byId("count").textContent = res.body.counts.checked_in.toLocaleString(LANG);
      const ol = byId("attendee-list");
      ol.innerHTML = "";
      res.body.attendees.slice(0, 200).forEach((a) => {
        const li = document.createElement("li");
        li.className = a.state === "out" ? "left" : "present";
        const name = document.createElement("b");
        name.textContent = a.name || a.person_id;
        const at = document.createElement("span");
        at.textContent = feedback.hhmm(a.first_in) + " " + (a.state === "out" ? TEXT.out : TEXT.in);
        li.append(name, " ", at);
        ol.append(li);
      });
    } catch (e) { /* offline: the list catches up later */ }
  }

  // --- what the scanner or the camera read: the previous person's result and actions go at once ---
  function stale() {
    feedback.clearActions();
    results.hidden = true;
    list.innerHTML = "";
  }
  const reader = window.createReader({
    root, input,
    onBadge: (code) => { stale(); scan(code); },
    onCode: () => { stale(); latest = null; feedback.notBadge(); },
    onSearch: search,
    onComposing: () => show("ime", "⌨", TEXT.ime, TEXT.ime_detail),
  });

  // --- camera ---
  const cameraBox = byId("camera");
  const camera = window.createCamera({
    video: byId("camera-video"),
    workerUrl: root.dataset.workerUrl,
    onCode: (code) => reader.read(code, true),
    onState: (state) => {
      const error = byId("camera-error");
      error.hidden = !state.error;
      if (state.error) error.textContent = TEXT["camera_" + state.error];
      cameraBox.hidden = !state.running && !state.error;
      byId("camera-torch").hidden = !state.torch;
      byId("camera-torch").setAttribute("aria-pressed", String(Boolean(state.torchOn)));
      byId("camera-toggle").setAttribute("aria-pressed", String(Boolean(state.running)));
      byId("camera-toggle-text").textContent = state.running ? TEXT.camera_off : TEXT.camera_on;
      root.dataset.camera = state.running ? "on" : (state.error || "off");
    },
  });
  byId("camera-toggle").addEventListener("click", () => {
    if (camera.running()) camera.stop(); else camera.start();
  });
  byId("camera-switch").addEventListener("click", () => camera.switchFacing());
  byId("camera-torch").addEventListener("click", () => camera.toggleTorch());

  // --- the always-focused input: scanners type the code then Enter ---
  // Not on touch screens with the camera on: focusing would pop up the phone's keyboard.
  const touch = window.matchMedia("(pointer: coarse)").matches;
  function focusInput() {
    if (!dialog.open && !(touch && camera.running())) input.focus();
  }
  byId("scan-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    input.value = "";
    reader.read(text, false);
  });
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest("button, a, input, select, label, dialog")) focusInput();
  });
  document.querySelectorAll('input[name="direction"]').forEach((r) => r.addEventListener("change", () => {
    reader.reset();   // the same badge again, now for the other direction, is a new scan
    focusInput();
  }));
  // A scanner types wherever the focus is: keys landing on a button or the page go to the field.
  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.closest && ev.target.closest("input:not([type=radio]), select, textarea, dialog");
    if (!typing && ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey) input.focus();
  });
  setInterval(() => { if (document.activeElement === document.body) focusInput(); }, 1000);

  const queueReady = window.createScanQueue({ send: sendCheckin, onChange: showWaiting, onAnswer: answered });
  queueReady.then(() => { root.dataset.ready = "1"; });
  window.fieldsyncKiosk = { scan, read: reader.read, submitCheckin, ulid, refresh, render };
  refresh();
  setInterval(refresh, 10000);
})();
