// ward dashboard: progressive enhancement only. Every page works without
// this file. It (1) shows each <time datetime> in the viewer's time zone,
// keeping UTC in the title, and (2) wires copy buttons (data-copy="ID").
"use strict";

function localTimes() {
  for (const el of document.querySelectorAll("time[datetime]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) continue;
    el.title = el.getAttribute("datetime").replace("T", " ").replace("Z", " UTC");
    el.textContent = at.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }
}

function copyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = "value" in source ? source.value : source.textContent;
      const status = document.getElementById(button.dataset.copy + "-status");
      try {
        await navigator.clipboard.writeText(text);
        if (status) status.textContent = "Copied to the clipboard.";
      } catch (_) {
        source.select?.();
        if (status) status.textContent = "Select the token and copy it (Ctrl+C).";
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes();
  copyButtons();
});
