// The kiosk's big result box: one state at a time, with its colour, symbol, words and sound.
// It never keeps a previous person's result: every scan or search replaces it at once (and
// takes the previous person's "fill in the form" link with it), and after a few seconds with
// nothing new it goes back to "ready to scan".
//
// States (the box's data-status): idle, ok, warn (already in, not checked in, kept on this
// device), bad (invalid, revoked, cancelled, not recorded), not_badge, search, unknown (nobody
// matches: register a walk-in), ime (a Chinese input method swallows the scanner's keys).
(function () {
  "use strict";
  // Sounds by state: rising for in, flat for "look", falling for refused, and a two-step
  // down-up for "not our code", so a trainer who is not watching still tells them apart.
  const TONES = { ok: [880, 1320], warn: [660, 660], bad: [220, 180], not_badge: [520, 260, 520] };
  const QUIET = new Set(["idle", "search", "ime"]);
  const LOOKS = { not_badge: "bad", unknown: "warn", ime: "warn" };   // colour classes shared with others

  function createFeedback({ root, box, text, lang }) {
    const part = (id) => document.getElementById(id);
    let audio, idleTimer = null, sticky = null;

    function beep(kind) {
      root.dataset.sounds = String(Number(root.dataset.sounds || 0) + 1);   // how many: tests count
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        TONES[kind].forEach((hz, i) => {
          const osc = audio.createOscillator(), gain = audio.createGain();
          osc.frequency.value = hz; osc.connect(gain); gain.connect(audio.destination);
          const at = audio.currentTime + i * 0.14;
          gain.gain.setValueAtTime(0.25, at); gain.gain.exponentialRampToValueAtTime(0.001, at + 0.12);
          osc.start(at); osc.stop(at + 0.13);
        });
      } catch (e) { /* no audio device: the colour still tells */ }
      if (navigator.vibrate) navigator.vibrate(kind === "ok" ? 80 : [80, 60, 80]);
    }

    // The previous person's actions go with the previous result, before anything new is shown.
    function clearActions() {
      part("fb-form").hidden = true;
      part("fb-form").removeAttribute("href");
    }

    function show(state, symbol, headline, detail, quiet) {
      clearActions();
      box.className = "feedback " + state + (LOOKS[state] ? " " + LOOKS[state] : "");
      box.dataset.status = state;
      part("fb-symbol").textContent = symbol;
      part("fb-headline").textContent = headline;
      part("fb-detail").textContent = detail || "";
      if (!quiet && !QUIET.has(state)) beep(TONES[state] ? state : "warn");
      clearTimeout(idleTimer);
      // How long a result stays: the page's data-idle-ms (a test may shorten it).
      if (state !== "idle") idleTimer = setTimeout(idle, Number(root.dataset.idleMs) || 7000);
    }

    // Back to waiting, or to a message that still holds (this phone's authorisation expired).
    function idle() {
      if (sticky) show("bad", "✗", sticky, "", true);
      else show("idle", "▣", text.ready, "", true);
    }
    function hold(message) { sticky = message; show("bad", "✗", message, "", true); }

    function offerForm(url) {
      if (!url) return;
      part("fb-form").href = url;
      part("fb-form").hidden = false;
    }

    function hhmm(iso) {
      return iso ? new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }) : "";
    }
    function describe(person) {
      if (!person || !person.name) return "";
      const level = text.levels[person.level];
      return person.name + (level && person.level !== "none" ? " · " + level : "");
    }

    // What the laptop answered about one scan.
    function render(result, direction, prefix) {
      const p = result.person, before = prefix ? prefix + " " : "";
      const say = (state, symbol, headline, detail) => show(state, symbol, before + headline, detail);
      switch (result.status) {
        case "ok":
          if (p && p.name) say("ok", "✓", direction === "out" ? text.ok_out : text.ok, describe(p));
          else say("ok", "✓", text.foreign, "");
          break;
        case "already": say("warn", "↺", text.already.replace("{time}", hhmm(result.since)), describe(p)); break;
        case "not_in": say("warn", "?", text.not_in, describe(p)); break;
        case "revoked": say("bad", "✗", text.revoked, describe(p)); break;
        case "cancelled": say("bad", "✗", text.cancelled, describe(p)); break;
        case "unknown": notBadge(); break;   // the laptop found no badge in what was sent
        default: say("bad", "✗", text.invalid, "");
      }
    }
    function notBadge() { show("not_badge", "⊘", text.not_badge, text.not_badge_detail); }

    return { show, idle, hold, render, notBadge, offerForm, clearActions, hhmm, describe };
  }

  window.createFeedback = createFeedback;
})();
