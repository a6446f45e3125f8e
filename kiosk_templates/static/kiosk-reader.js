// What arrives at the kiosk, from the USB scanner (typed into the scan field, then Enter) or the
// camera, and what it is: one of our badges, some other code (a web link, a WeChat code), or a
// name or phone number to search for.
//
// A badge held in front of the camera (or a scanner in continuous mode) is read again and again:
// the same code seen again within data-repeat-ms of its last sighting, with nothing else read
// between, is that same scan and is dropped without a word. A deliberate rescan later, another
// code, a search or a change of direction starts afresh.
//
// A Chinese input method left on (common on Windows laptops) swallows the scanner's keys into
// its composition window: composing in the scan field is reported, so the page can say so.
(function () {
  "use strict";
  const BADGE = /^FS1:/i;
  // A scanned code rather than a typed name or number: a URL or other scheme ("https://…",
  // "weixin://…", "WIFI:…"), or a long run of characters without a space. An ID number
  // (17 digits and a check character) and a phone number are searches.
  const SCHEME = /^[a-z][a-z0-9+.-]*:\S/i;
  const ID_NUMBER = /^\d{17}[\dX]$/i;
  const TOKEN = /^[\x21-\x7e]{16,}$/;

  function kindOf(text) {
    if (BADGE.test(text)) return "badge";
    if (SCHEME.test(text) || /^www\./i.test(text) || (TOKEN.test(text) && !ID_NUMBER.test(text))) return "code";
    return "search";
  }

  function createReader({ root, input, onBadge, onCode, onSearch, onComposing }) {
    let last = null, lastAt = 0, composing = false;

    // True once per scan: false for the same code seen again within the window, nothing between.
    function fresh(code) {
      const now = performance.now(), span = Number(root.dataset.repeatMs) || 10000;
      const again = code === last && now - lastAt < span;
      last = code;
      lastAt = now;
      return !again;
    }
    function reset() { last = null; }

    // text: what the scanner typed or the camera decoded. Full-width characters (an input
    // method in full-width mode types "ＦＳ１：") read as the scanner meant them.
    function read(text, fromCamera) {
      const code = (text || "").normalize("NFKC").trim();
      composing = false;
      if (!code) return;
      const kind = fromCamera && !BADGE.test(code) ? "code" : kindOf(code);
      if (kind === "search") { reset(); onSearch(code); return; }
      if (!fresh(code)) return;
      if (kind === "badge") onBadge(code); else onCode(code);
    }

    function composingNow() {
      if (composing) return;
      composing = true;
      onComposing();
    }
    input.addEventListener("compositionstart", composingNow);
    input.addEventListener("compositionupdate", composingNow);
    input.addEventListener("compositionend", () => { composing = false; });
    // Some browsers send no composition events for an input method's keys, only key code 229.
    input.addEventListener("keydown", (ev) => { if (ev.isComposing || ev.keyCode === 229) composingNow(); });

    return { read, reset };
  }

  window.createReader = createReader;
})();
