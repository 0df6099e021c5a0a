// Kiosk visit panel (portal/web/kiosk_visits.py, issue 21): "Personalise my visit" (a new code),
// "I have a code" (this kiosk's recording counts for the visit for a few minutes), "What next"
// and "End visit".  The code stays in this page's memory only while the visitor is here.
(() => {
  "use strict";
  const panel = document.getElementById("visit-panel");
  const root = document.getElementById("kiosk");
  if (!panel || !root) return;
  const message = document.getElementById("visit-message");
  const stay = (Number(panel.dataset.staySeconds) || 180) * 1000;
  let code = "", timer = null;

  const show = (step) => panel.querySelectorAll("[data-step]").forEach(
    (el) => { el.hidden = el.dataset.step !== step; });
  const say = (text) => { message.textContent = text || ""; };
  const setEnds = (ends) => panel.querySelectorAll(".visit-ends").forEach((el) => { el.textContent = ends; });

  async function post(url, fields) {
    const form = new FormData();
    Object.entries(fields || {}).forEach(([k, v]) => form.append(k, v));
    const res = await fetch(url, { method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRFToken": root.dataset.csrf } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.detail || ("server answered " + res.status));
    return body;
  }

  function leaveVisitSession() {
    // the next visitor's faces must not count for this visit: close its session, start afresh
    const session = window.kioskSession ? window.kioskSession.get() : "";
    if (session && code) {
      const form = new FormData();
      form.append("csrf_token", root.dataset.csrf);
      form.append("session_id", session);
      navigator.sendBeacon(root.dataset.stopUrl, form);
      window.kioskSession.set("");
    }
  }

  function showQr(src) {  // a PNG data URI drawn by the server (CSP: img-src data:)
    const img = document.getElementById("visit-qr");
    if (src) img.src = src; else img.removeAttribute("src");
    img.hidden = !src;
  }

  function done() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (panel.dataset.joined === "yes") leaveVisitSession();
    panel.dataset.joined = "";
    code = "";
    document.getElementById("visit-code-input").value = "";
    showQr("");
    say("");
    show("start");
  }

  async function act(work) {
    say("");
    try { await work(); } catch (err) { say(err.message || String(err)); }
  }

  async function join() {
    const body = await post(panel.dataset.joinUrl,
      { code, session_id: window.kioskSession ? window.kioskSession.get() : "" });
    if (window.kioskSession) window.kioskSession.set(body.session_id);
    panel.dataset.joined = "yes";
    setEnds(body.ends);
    show("joined");
    if (timer) clearTimeout(timer);
    timer = setTimeout(done, stay);  // the visitor has walked on: back to the start
  }

  function suggestion(s) {
    const li = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = s.name + (s.location ? " · " + s.location : "");
    const reason = document.createElement("p");
    reason.textContent = s.reason;
    li.append(name, reason);
    return li;
  }

  async function whatNext() {
    const body = await post(panel.dataset.nextUrl, { code });
    const list = document.getElementById("visit-suggestions");
    list.replaceChildren(...body.suggestions.map(suggestion));
    if (!body.suggestions.length) say("You have seen every exhibit we know about.");
    show("next");
  }

  async function endVisit() {
    await post(panel.dataset.endUrl, { code });
    if (window.kioskSession) window.kioskSession.set("");  // its session is deleted with the visit
    panel.dataset.joined = "";
    code = "";
    show("ended");
    if (timer) clearTimeout(timer);
    timer = setTimeout(done, 8000);
  }

  document.getElementById("visit-personalise").addEventListener("click", () => act(async () => {
    const body = await post(panel.dataset.startUrl);
    code = body.code;
    document.getElementById("visit-new-code").textContent = body.code;
    document.getElementById("visit-url").textContent = body.url;
    showQr(body.qr || "");
    setEnds(body.ends);
    show("created");
    if (timer) clearTimeout(timer);
    timer = setTimeout(done, stay);
  }));
  document.getElementById("visit-have-code").addEventListener("click", () => {
    show("enter");
    document.getElementById("visit-code-input").focus();
  });
  document.getElementById("visit-code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    code = document.getElementById("visit-code-input").value.trim();
    act(join);
  });
  document.getElementById("visit-count-here").addEventListener("click", () => act(join));
  panel.querySelectorAll(".visit-what-next").forEach((b) => b.addEventListener("click", () => act(whatNext)));
  panel.querySelectorAll(".visit-end").forEach((b) => b.addEventListener("click", () => act(endVisit)));
  panel.querySelectorAll(".visit-done").forEach((b) => b.addEventListener("click", done));
  show("start");
})();
