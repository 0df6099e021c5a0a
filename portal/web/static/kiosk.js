// Kiosk page (portal/web/kiosk.py): nothing happens until staff press Start recording; then take a
// camera frame every `interval` ms, post it, show the status; restart the camera after errors,
// reload the page when the login has expired.  Stop recording ends the session, back to the start.
(() => {
  "use strict";
  const root = document.getElementById("kiosk");
  const video = document.getElementById("kiosk-video");
  const status = document.getElementById("kiosk-status");
  const interval = Number(root.dataset.interval) || 500;
  const maxPixels = Number(root.dataset.maxPixels) || 1920 * 1080;  // the server refuses larger frames
  const canvas = document.createElement("canvas");
  let sessionId = "", stream = null, failures = 0, busy = false, timer = null;

  const say = (text, error) => { status.textContent = text; status.classList.toggle("error", !!error); };

  async function startCamera() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = await navigator.mediaDevices.getUserMedia(
      { video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    video.srcObject = stream;
    await video.play();
  }

  function grab() {
    const vw = video.videoWidth, vh = video.videoHeight;
    if (!vw || !vh) return Promise.resolve(null);
    const scale = Math.min(1, Math.sqrt(maxPixels / (vw * vh)));  // a camera above the limit: scaled down
    const w = Math.floor(vw * scale), h = Math.floor(vh * scale);
    canvas.width = w; canvas.height = h;
    canvas.getContext("2d").drawImage(video, 0, 0, w, h);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.75));
  }

  async function send() {
    const blob = await grab();
    if (!blob) throw new Error("the camera gives no picture");
    const form = new FormData();
    form.append("image", blob, "frame.jpg");
    form.append("session_id", sessionId);
    const res = await fetch(root.dataset.framesUrl, { method: "POST", body: form,
      headers: { "X-CSRFToken": root.dataset.csrf }, credentials: "same-origin" });
    if (res.status === 401 || res.status === 400 && !(res.headers.get("content-type") || "").includes("json")) {
      location.reload();  // logged out or the page's CSRF token expired: the login page or a fresh page
      return;
    }
    const body = await res.json().catch(() => ({}));
    if (res.status === 429 || res.status === 503) return;  // too fast, too many sessions, server busy: the next tick tries again
    if (!res.ok) throw new Error(body.detail || ("server answered " + res.status));
    if (!timer) return;  // Stop recording pressed meanwhile (the server ends that session when idle)
    sessionId = String(body.session_id);
    say(`Recording · session ${body.session_id} · ${body.observations} face observations · ` +
        `${body.faces ? body.faces + " face(s) now" : "no face now"}`);
  }

  async function tick() {
    if (busy) return;
    busy = true;
    try {
      const live = stream && stream.getVideoTracks().some((t) => t.readyState === "live");
      if (!live) { say("Starting the camera…"); await startCamera(); }
      await send();
      failures = 0;
    } catch (err) {
      failures += 1;
      say(`Paused: ${err.message || err}. Retrying…`, true);
      if (failures % 5 === 0) { try { await startCamera(); } catch (e) { /* next tick */ } }
    } finally {
      busy = false;
    }
  }

  if (root.dataset.available !== "yes") {
    document.getElementById("kiosk-start").hidden = true;
    say("Recording is not available on this server.", true);
    return;
  }
  document.getElementById("kiosk-fullscreen").addEventListener("click", () => {
    document.documentElement.requestFullscreen().catch(() => {});
    if (navigator.wakeLock) navigator.wakeLock.request("screen").catch(() => {});
  });
  function stopSession() {
    if (!sessionId) return;
    const form = new FormData();
    form.append("csrf_token", root.dataset.csrf);
    form.append("session_id", sessionId);
    navigator.sendBeacon(root.dataset.stopUrl, form);
    sessionId = "";
  }
  window.addEventListener("pagehide", stopSession);
  const startScreen = document.getElementById("kiosk-start");
  const running = document.getElementById("kiosk-running");
  document.getElementById("kiosk-start-button").addEventListener("click", () => {
    startScreen.hidden = true; running.hidden = false;
    if (!timer) timer = setInterval(tick, interval);
    tick();
  });
  document.getElementById("kiosk-stop-button").addEventListener("click", () => {
    clearInterval(timer); timer = null;
    stopSession();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    running.hidden = true; startScreen.hidden = false;
    say("Not recording.");
  });
  // for kiosk-visit.js (issue 21): the running session's id, and switching to a visit's session
  // ("" starts a fresh session at the next frame)
  window.kioskSession = { get: () => sessionId, set: (id) => { sessionId = String(id || ""); } };
})();
