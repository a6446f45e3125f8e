// Camera scanning: frames go to a worker running jsQR about 8 times a second. A badge held
// in front of the lens is seen many times; a per-code cool-down passes it on only now and then
// (whether that is a new scan is kiosk-reader.js's to decide), and a short global pause keeps
// two badges shown in quick succession from blurring together.
(function () {
  "use strict";
  const FRAME_MS = 120;          // ~8 frames a second: fast enough to feel instant, light on phones
  const SAME_CODE_MS = 3000;     // the same badge is passed on at most this often
  const ANY_CODE_MS = 800;       // and any badge this long after the last one
  const MAX_WIDTH = 640;         // jsQR finds a badge at this size and runs 4x faster than at 1280

  function createCamera({ video, workerUrl, onCode, onState }) {
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const worker = new Worker(workerUrl);
    const seen = new Map();      // code -> time last accepted
    let stream = null, facing = "environment", timer = null, busy = false, lastAccepted = 0;

    worker.onmessage = (event) => {
      busy = false;
      const code = event.data.code, now = performance.now();
      if (!code || now - lastAccepted < ANY_CODE_MS || now - (seen.get(code) || -Infinity) < SAME_CODE_MS) return;
      seen.set(code, now);
      lastAccepted = now;
      onCode(code);
    };

    function grab() {
      if (busy || !video.videoWidth || video.readyState < 2) return;
      const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      busy = true;
      worker.postMessage({ width: frame.width, height: frame.height, pixels: frame.data.buffer },
                         [frame.data.buffer]);
    }

    function track() { return stream && stream.getVideoTracks()[0]; }

    function torchAvailable() {
      const t = track();
      return Boolean(t && t.getCapabilities && t.getCapabilities().torch);
    }

    async function start() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        onState({ error: "insecure" });  // browsers give the camera to https pages only
        return;
      }
      stop();
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: false,
          video: { facingMode: { ideal: facing }, width: { ideal: 1280 }, height: { ideal: 720 } },
        });
      } catch (e) {
        onState({ error: e.name === "NotAllowedError" ? "denied" : "unavailable" });
        return;
      }
      video.srcObject = stream;
      await video.play().catch(() => {});
      timer = setInterval(grab, FRAME_MS);
      onState({ running: true, facing, torch: torchAvailable() });
    }

    function stop() {
      clearInterval(timer);
      timer = null;
      busy = false;
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
      video.srcObject = null;
      onState({ running: false });
    }

    async function switchFacing() {
      facing = facing === "environment" ? "user" : "environment";
      if (stream) await start();
    }

    let torchOn = false;
    async function toggleTorch() {
      if (!torchAvailable()) return;
      torchOn = !torchOn;
      await track().applyConstraints({ advanced: [{ torch: torchOn }] }).catch(() => { torchOn = false; });
      onState({ running: true, facing, torch: true, torchOn });
    }

    return { start, stop, switchFacing, toggleTorch, running: () => Boolean(stream) };
  }

  window.createCamera = createCamera;
})();
