// ward dashboard: progressive enhancement only. Every page works without
// this file. It (1) shows each <time datetime> in the viewer's time zone,
// keeping UTC in the title, (2) wires copy buttons (data-copy="ID"), and
// (3) updates a table in place: a date heading's sort link, a page link
// and a GET filter form fetch the same page and swap its <main> into this
// one (the address and history kept in step), instead of loading the
// whole document. Any failure, redirect or error page falls back to an
// ordinary navigation.
"use strict";

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) continue;
    el.title = el.getAttribute("datetime").replace("T", " ").replace("Z", " UTC");
    el.textContent = at.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }
}

function copyButtons(root) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
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

// Fetches `url` and puts its <main> in place of this page's; `focus` is a
// selector to focus afterwards (else <main>).
async function swapTo(url, push, focus) {
  const main = document.getElementById("main");
  let doc = null;
  try {
    main.setAttribute("aria-busy", "true");
    const r = await fetch(url, { credentials: "same-origin" });
    const html = (r.headers.get("content-type") || "").startsWith("text/html");
    if (r.ok && !r.redirected && html) doc = new DOMParser().parseFromString(await r.text(), "text/html");
  } catch (_) {
    doc = null;
  }
  const fresh = doc && doc.getElementById("main");
  if (!fresh) {
    location.assign(url);
    return;
  }
  main.replaceChildren(...fresh.childNodes);
  main.removeAttribute("aria-busy");
  document.title = doc.title;
  if (push) history.pushState({ ward: "swap" }, "", url);
  enhance(main);
  const target = focus && main.querySelector(focus);
  (target || main).focus();
}

function partialUpdates() {
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.origin !== location.origin || !a.closest("th[data-column], nav.pages")) return;
    e.preventDefault();
    const column = a.closest("th[data-column]");
    const focus = column ? `th[data-column="${column.dataset.column}"] a` : "nav.pages a";
    swapTo(a.href, true, focus);
  });
  document.addEventListener("submit", (e) => {
    const form = e.target;
    // getAttribute, not form.action / form.method: a field named "action"
    // (the audit filter has one) shadows those properties.
    const method = (form.getAttribute("method") || "get").toLowerCase();
    if (e.defaultPrevented || !form.matches("form.filters") || method !== "get") return;
    e.preventDefault();
    const url = new URL(form.getAttribute("action") || location.pathname, location.href);
    url.search = new URLSearchParams(new FormData(form)).toString();
    swapTo(url.href, true, null);
  });
  window.addEventListener("popstate", () => swapTo(location.href, false, null));
}

function enhance(root) {
  localTimes(root);
  copyButtons(root);
}

document.addEventListener("DOMContentLoaded", () => {
  enhance(document);
  partialUpdates();
});
