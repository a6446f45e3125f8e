// Camera scanning: frames go to a worker running jsQR, the next as soon as it has answered (a
// frame every FRAME_MS at most), the first as soon as the video plays. A badge held
// in front of the lens is seen many times; a per-code cool-down passes it on only now and then
// (whether that is a new scan is kiosk-reader.js's to decide), and a short global pause keeps
// two badges shown in quick succession from blurring together.
(function () {
  "use strict";
  // A frame every 40 ms at most, and never while the worker is still decoding one: the decode
  // rate is what the device manages. At 120 ms a badge waited ~60 ms for its first look and
  // as long again after every frame that caught it moving (issue 17: badge to green ≤ 300 ms).
  const FRAME_MS = 40;
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
      if (!event.data.code && timer) setTimeout(grab, 0);   // nothing yet: the next frame now
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
      video.addEventListener("playing", grab, { once: true });   // the first frame, at once
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
