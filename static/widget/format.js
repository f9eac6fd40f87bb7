// Text and time helpers for the chat frame. Everything builds DOM nodes or plain strings; nothing
// here ever parses HTML, so whatever a visitor or an agent typed stays text.

/** "{name} is typing…" with the placeholders filled in. */
export const fill = (template, values = {}) =>
  String(template).replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING_RE = /[.,;:!?)\]}'"»”’]+$/;

/** A message body as text nodes, with http(s) links as <a> elements (never javascript: or data:). */
export function richText(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of String(text).matchAll(URL_RE)) {
    let candidate = match[0];
    // "see https://x.example/a." — the dot ends the sentence, not the link. Keep a closing
    // bracket that has its opening one inside the link (wiki-style URLs).
    const trailing = candidate.match(TRAILING_RE);
    if (trailing) {
      let cut = trailing[0];
      if (cut.startsWith(")") && candidate.includes("(")) cut = cut.slice(1);
      candidate = candidate.slice(0, candidate.length - cut.length);
    }
    let url;
    try {
      url = new URL(candidate);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    if (match.index > last) fragment.append(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement("a");
    link.href = url.href;
    link.textContent = candidate;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    fragment.append(link);
    last = match.index + candidate.length;
  }
  if (last < text.length) fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

export function formatBytes(bytes, lang) {
  const units = [
    ["megabyte", 1024 * 1024],
    ["kilobyte", 1024],
  ];
  for (const [unit, size] of units) {
    if (bytes >= size) return unitFormat(lang, unit, bytes / size, bytes / size < 10 ? 1 : 0, "short");
  }
  return unitFormat(lang, "byte", bytes, 0, "long");
}

function unitFormat(lang, unit, value, digits, display = "long") {
  try {
    return new Intl.NumberFormat(lang, {
      style: "unit",
      unit,
      unitDisplay: display,
      maximumFractionDigits: digits,
    }).format(value);
  } catch {
    return `${Math.round(value * 10 ** digits) / 10 ** digits} ${unit}`;
  }
}

/** "2 hours", "30 Minuten", "1 天" — the expected reply time in the shopper's language. */
export function formatDuration(minutes, lang) {
  if (minutes < 60) return unitFormat(lang, "minute", Math.max(1, Math.round(minutes)), 0);
  if (minutes < 24 * 60) return unitFormat(lang, "hour", Math.round(minutes / 30) / 2, 1);
  return unitFormat(lang, "day", Math.round(minutes / 720) / 2, 1);
}

const sameDay = (a, b) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** When a reply can be expected, in the shopper's own time zone: "4:35 PM" or "Monday 9:00". */
export function formatReplyAt(minutes, lang, now = new Date()) {
  const step = 5 * 60 * 1000;
  const at = new Date(Math.ceil((now.getTime() + minutes * 60 * 1000) / step) * step);
  const options = { hour: "numeric", minute: "2-digit" };
  if (!sameDay(at, now)) options.weekday = "long";
  return new Intl.DateTimeFormat(lang, options).format(at);
}

export const formatTime = (date, lang) =>
  new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" }).format(date);

/** "Today", "Yesterday", "Monday, 3 March" for the separators between days. */
export function formatDay(date, lang, now = new Date()) {
  const startOf = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(date) - startOf(now)) / 86_400_000);
  if (days === 0 || days === -1) {
    const text = new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(days, "day");
    return text.charAt(0).toLocaleUpperCase(lang) + text.slice(1);
  }
  const options = { weekday: "long", month: "long", day: "numeric" };
  if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(lang, options).format(date);
}

export const dayKey = (date) => `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;

export function initials(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  const first = Array.from(parts[0])[0] || "";
  const second = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] || "" : "";
  return (first + second).toLocaleUpperCase();
}
