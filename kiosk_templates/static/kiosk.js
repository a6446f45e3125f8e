// Kiosk station: keyboard-wedge scans, manual search, walk-ins, live attendee list.
// Every scan carries a client-made ULID so a retry never records twice.
(function () {
  "use strict";
  const root = document.getElementById("kiosk");
  if (!root) return;
  const TEXT = JSON.parse(document.getElementById("kiosk-text").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const input = document.getElementById("scan-input");
  const sessionId = root.dataset.session;

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

  // --- feedback: colour, symbol, words, sound ---
  let audio;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = kind === "ok" ? [880, 1320] : kind === "warn" ? [660, 660] : [220, 180];
      tones.forEach((hz, i) => {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = hz; osc.connect(gain); gain.connect(audio.destination);
        const at = audio.currentTime + i * 0.14;
        gain.gain.setValueAtTime(0.25, at); gain.gain.exponentialRampToValueAtTime(0.001, at + 0.12);
        osc.start(at); osc.stop(at + 0.13);
      });
    } catch (e) { /* no audio device: the colour still tells */ }
  }
  const fb = document.getElementById("feedback");
  function show(kind, symbol, headline, detail) {
    fb.className = "feedback " + kind;
    document.getElementById("fb-symbol").textContent = symbol;
    document.getElementById("fb-headline").textContent = headline;
    document.getElementById("fb-detail").textContent = detail || "";
    fb.dataset.status = kind;
    beep(kind === "ok" ? "ok" : kind === "warn" ? "warn" : "bad");
  }
  function hhmm(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function describe(person) {
    if (!person || !person.name) return "";
    const level = TEXT.levels[person.level];
    return person.name + (level && person.level !== "none" ? " · " + level : "");
  }
  function render(result, direction) {
    const p = result.person;
    switch (result.status) {
      case "ok":
        if (p && p.name) show("ok", "✓", direction === "out" ? TEXT.ok_out : TEXT.ok, describe(p));
        else show("ok", "✓", TEXT.foreign, "");
        break;
      case "already": show("warn", "↺", TEXT.already.replace("{time}", hhmm(result.since)), describe(p)); break;
      case "not_in": show("warn", "?", TEXT.not_in, describe(p)); break;
      case "revoked": show("bad", "✗", TEXT.revoked, describe(p)); break;
      case "cancelled": show("bad", "✗", TEXT.cancelled, describe(p)); break;
      case "unknown": show("warn", "?", TEXT.unknown, ""); break;
      default: show("bad", "✗", TEXT.invalid, "");
    }
  }

  async function api(url, options) {
    const res = await fetch(url, Object.assign({
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
    }, options));
    const body = await res.json().catch(() => ({}));
    return { ok: res.ok, status: res.status, body };
  }

  function direction() {
    return document.querySelector('input[name="direction"]:checked').value;
  }

  async function submitCheckin(payload) {
    const dir = payload.direction;
    try {
      const res = await api(root.dataset.checkinsUrl, { method: "POST", body: JSON.stringify(payload) });
      if (res.ok) { render(res.body, dir); refresh(); return res.body; }
      show("bad", "✗", TEXT.error, (res.body.error && res.body.error.message) || res.status);
    } catch (e) {
      show("warn", "…", TEXT.offline, "");
      window.dispatchEvent(new CustomEvent("fieldsync:offline-scan", { detail: payload }));
    }
    return null;
  }

  function scan(code) {
    return submitCheckin({ id: ulid(), session: sessionId, code, direction: direction(),
                           scanned_at: new Date().toISOString() });
  }

  // --- manual search and walk-in ---
  const results = document.getElementById("search-results");
  const list = document.getElementById("search-list");
  async function search(text) {
    const url = root.dataset.peopleUrl + "?q=" + encodeURIComponent(text) + "&limit=10";
    const res = await api(url, { method: "GET" });
    list.innerHTML = "";
    const found = (res.body.people || []);
    if (!found.length) { const li = document.createElement("li"); li.textContent = TEXT.no_match; list.append(li); }
    found.forEach((p) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button"; b.className = "person";
      b.textContent = describe(p) + (p.phone ? "  " + p.phone : "");
      b.addEventListener("click", () => {
        results.hidden = true;
        submitCheckin({ id: ulid(), session: sessionId, person: p.id, method: "manual", direction: direction() });
        input.focus();
      });
      li.append(b); list.append(li);
    });
    results.hidden = false;
  }

  const dialog = document.getElementById("walkin");
  document.getElementById("walkin-open").addEventListener("click", () => {
    const form = document.getElementById("walkin-form");
    form.reset();
    const typed = input.dataset.lastText || "";
    if (/^\d{11}$/.test(typed)) form.phone.value = typed; else form.name.value = typed;
    dialog.showModal();
  });
  document.getElementById("walkin-cancel").addEventListener("click", () => { dialog.close(); input.focus(); });
  document.getElementById("walkin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target, err = document.getElementById("walkin-error");
    const person = { name: form.name.value, town: root.dataset.town };
    if (form.phone.value) person.phone = form.phone.value;
    if (form.village.value) person.village = form.village.value;
    const res = await api(root.dataset.registerUrl, { method: "POST", body: JSON.stringify(person) });
    if (!res.ok) { err.textContent = res.body.error ? res.body.error.message : String(res.status); err.hidden = false; return; }
    err.hidden = true; dialog.close(); results.hidden = true;
    await submitCheckin({ id: ulid(), session: sessionId, person: res.body.id, method: "walk-in", direction: "in" });
    input.focus();
  });

  // --- attendee list ---
  async function refresh() {
    try {
      const res = await api(root.dataset.attendeesUrl, { method: "GET" });
      if (!res.ok) return;
      document.getElementById("count").textContent = res.body.counts.checked_in;
      const ol = document.getElementById("attendee-list");
      ol.innerHTML = "";
      res.body.attendees.slice(0, 200).forEach((a) => {
        const li = document.createElement("li");
        li.textContent = (a.name || a.person_id) + " · " + hhmm(a.first_in) + " " + (a.state === "out" ? TEXT.out : TEXT.in);
        ol.append(li);
      });
    } catch (e) { /* offline: the list catches up later */ }
  }

  // --- the always-focused input: scanners type the code then Enter ---
  document.getElementById("scan-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    input.value = "";
    if (!text) return;
    input.dataset.lastText = text;
    if (/^FS1:/i.test(text)) { results.hidden = true; scan(text); }
    else search(text);
  });
  document.addEventListener("click", (ev) => {
    if (!dialog.open && !ev.target.closest("button, a, input, select, label")) input.focus();
  });
  setInterval(() => { if (!dialog.open && document.activeElement === document.body) input.focus(); }, 1000);
  window.fieldsyncKiosk = { scan, submitCheckin, ulid, refresh, render };
  refresh();
  setInterval(refresh, 10000);
})();
