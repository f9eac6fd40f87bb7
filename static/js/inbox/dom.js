// Building DOM nodes without HTML strings: every piece of text goes in as a text node, so a
// customer's "<img src=x onerror=...>" can only ever show as those characters.

const SVG_NS = "http://www.w3.org/2000/svg";

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

export function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG_NS, "use");
  use.setAttribute("href", `#${name}`);
  svg.append(use);
  return svg;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Keys typed in these elements are text, not shortcuts.
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

const AVATAR_COLOURS = [
  ["#dbe5ff", "#2947a9"], ["#dcfae6", "#067647"], ["#fef0c7", "#93370d"], ["#fce7f6", "#9e165f"],
  ["#e0f2fe", "#026aa2"], ["#ede9fe", "#5925dc"], ["#ffe4e8", "#a11043"], ["#f2f4f7", "#344054"],
];

export function initials(name) {
  const parts = String(name || "?").replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
  const letters = parts.slice(0, 2).map((p) => [...p][0]).join("");
  return (letters || "?").toUpperCase();
}

// A stable colour per person, so the same customer looks the same in the list and the thread.
export function avatar(name, { size = "", key = name } = {}) {
  let hash = 0;
  for (const ch of String(key || "")) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const [bg, fg] = AVATAR_COLOURS[hash % AVATAR_COLOURS.length];
  const el = h("span", { class: `avatar ${size}`.trim(), "aria-hidden": "true" }, initials(name));
  el.style.background = bg;
  el.style.color = fg;
  return el;
}

export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = h(
    "div",
    { class: `toast toast-${kind}` },
    h("span", { text }),
    h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", "data-dismiss": "" }, "×"),
  );
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}
