// The live page's webcam (Gradio 6.31, portal/gradio_app/blocks.py HEAD): its own start/stop
// button says "Record"/"Stop" with the titles "start recording"/"stop recording", which i18n
// cannot rename and which read like the museum recording's buttons.  Relabel them for what they
// do, "Start camera"/"Stop camera" (text, title and the button's accessible name), whenever
// Gradio draws or names them again.
(() => {
  "use strict";
  const LABELS = { "start recording": "Start camera", "stop recording": "Stop camera",
                   "Start camera": "Start camera", "Stop camera": "Stop camera" };
  const ICONS = Object.keys(LABELS).map((t) => `.icon-with-text > [title="${t}"]`).join(", ");

  function relabel(icon) {
    const label = LABELS[icon.getAttribute("title")];
    if (icon.getAttribute("title") !== label) icon.setAttribute("title", label);
    const wrap = icon.parentElement;
    const text = [...wrap.childNodes].find((n) => n.nodeType === Node.TEXT_NODE);
    if (!text) wrap.append(" " + label);
    else if (text.nodeValue !== " " + label) text.nodeValue = " " + label;
    const button = wrap.closest("button");
    if (button && button.getAttribute("aria-label") !== label) button.setAttribute("aria-label", label);
  }

  const scan = () => document.querySelectorAll(ICONS).forEach(relabel);
  new MutationObserver(scan).observe(document.documentElement,
    { childList: true, subtree: true, characterData: true, attributes: true,
      attributeFilter: ["title", "aria-label"] });
  scan();
})();
