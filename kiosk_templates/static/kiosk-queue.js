// The browser's scan queue: every scan is written to IndexedDB before it is sent, so a
// moment without the laptop (Wi-Fi drop, server restart) loses nothing. Items keep their
// client-made ULID; the server answers a repeat of an id with the first answer, so
// sending one twice never records twice.
//
// Outcome of one send: "done" (answered, drop it), "keep" (no answer, server error,
// or sign-in needed: try again later), "busy" (already on its way).
(function () {
  "use strict";
  const RETRY_MIN_MS = 1000, RETRY_MAX_MS = 10000;
  // 401: signed out or station revoked - the scan still happened; keep it until someone fixes that.
  const KEEP_STATUSES = new Set([0, 401, 408, 425, 429]);

  function keepFor(status) {
    return KEEP_STATUSES.has(status) || status >= 500;
  }

  // IndexedDB when the browser allows it, else memory (the page still works, a reload loses the queue).
  async function openStore() {
    try {
      const db = await idb.openDB("fieldsync-kiosk", 1, {
        upgrade(upgrading) { upgrading.createObjectStore("scans", { keyPath: "id" }); },
      });
      return {
        put: (item) => db.put("scans", item),
        remove: (id) => db.delete("scans", id),
        all: () => db.getAll("scans"),  // keys are ULIDs: oldest first
      };
    } catch (e) {
      const items = new Map();
      return {
        put: async (item) => { items.set(item.id, item); },
        remove: async (id) => { items.delete(id); },
        all: async () => [...items.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
      };
    }
  }

  // send(item) -> Promise<{status, body}> (status 0 when the network failed).
  // onChange(waitingCount); onAnswer(item, response, fromQueue).
  async function createScanQueue({ send, onChange, onAnswer }) {
    const store = await openStore();
    const inFlight = new Set();
    let retryDelay = RETRY_MIN_MS, timer = null;

    async function changed() { onChange((await store.all()).length); }

    async function attempt(item, fromQueue) {
      if (inFlight.has(item.id)) return { outcome: "busy", status: 0 };
      inFlight.add(item.id);
      try {
        const response = await send(item);
        if (keepFor(response.status)) return { outcome: "keep", status: response.status };
        // The answer shows before the stored copy goes: should that fail, the scan goes again
        // and the laptop answers a repeated id with its first answer.
        onAnswer(item, response, fromQueue);
        await store.remove(item.id);
        return { outcome: "done", status: response.status };
      } finally {
        inFlight.delete(item.id);
      }
    }

    function retryLater() {
      clearTimeout(timer);
      timer = setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
    }

    // Send everything waiting, oldest first; stop at the first failure and back off.
    async function flush() {
      clearTimeout(timer);
      timer = null;
      for (const item of await store.all()) {
        const { outcome } = await attempt(item, true);
        if (outcome === "keep") { await changed(); retryLater(); return; }
      }
      retryDelay = RETRY_MIN_MS;
      await changed();
    }

    // One new scan: stored first, then sent. Returns {outcome, status}.
    async function add(item) {
      await store.put(item);
      changed();   // the waiting count need not hold up the send
      const result = await attempt(item, false);
      await changed();
      if (result.outcome === "keep") retryLater();
      else if (timer) flush();  // the laptop answers again: send what waited, now
      return result;
    }

    window.addEventListener("online", () => { retryDelay = RETRY_MIN_MS; flush(); });
    await flush();
    return { add, flush, waiting: async () => (await store.all()).length };
  }

  window.createScanQueue = createScanQueue;
})();
