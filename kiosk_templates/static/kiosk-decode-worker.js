// Decodes camera frames off the page's thread, so scanning never makes the page stutter.
importScripts("vendor/jsqr/jsQR.js");

self.onmessage = (event) => {
  const { width, height, pixels } = event.data;
  const found = jsQR(new Uint8ClampedArray(pixels), width, height, { inversionAttempts: "dontInvert" });
  self.postMessage({ code: found ? found.data : null });
};
