// Turning data into words: times in the agent's time zone, user agents, sizes, safe links.
import { h } from "./dom.js";

export function validTimeZone(tz) {
  if (!tz || typeof tz !== "string") return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz;
  } catch {
    return undefined;
  }
}

let agentZone;
export function setAgentTimeZone(tz) {
  agentZone = validTimeZone(tz);
}
export const agentTimeZone = () => agentZone || Intl.DateTimeFormat().resolvedOptions().timeZone;

const toDate = (value) => (value instanceof Date ? value : new Date(value));
const isValid = (date) => !Number.isNaN(date.getTime());

const formatters = new Map();
function fmt(options, tz = agentZone) {
  const key = JSON.stringify([options, tz || ""]);
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat(undefined, { ...options, timeZone: tz }));
  }
  return formatters.get(key);
}

const WEEKDAYS = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

// The wall-clock fields of a moment in a time zone.
export function zonedParts(date, tz = agentZone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", weekday: "short",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type)?.value;
  return {
    year: Number(get("year")), month: Number(get("month")), day: Number(get("day")),
    hour: Number(get("hour")) % 24, minute: Number(get("minute")), second: Number(get("second")),
    weekday: WEEKDAYS[get("weekday")] ?? 0,
  };
}

function offsetMs(date, tz) {
  const p = zonedParts(date, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (date.getTime() - date.getMilliseconds());
}

// The moment a wall-clock time happens in a time zone (two passes settle DST changes).
export function zonedDate({ year, month, day, hour = 0, minute = 0 }, tz = agentZone) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let ts = wall - offsetMs(new Date(wall), tz);
  ts = wall - offsetMs(new Date(ts), tz);
  return new Date(ts);
}

function addDays({ year, month, day }, days) {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function snoozePresets(now = new Date(), tz = agentZone) {
  const today = zonedParts(now, tz);
  const tomorrow = zonedDate({ ...addDays(today, 1), hour: 9 }, tz);
  // Monday 9:00; on a Sunday that is tomorrow already, so the Monday after.
  let toMonday = ((1 - today.weekday + 7) % 7) || 7;
  if (toMonday === 1) toMonday = 8;
  const nextWeek = zonedDate({ ...addDays(today, toMonday), hour: 9 }, tz);
  return [
    { key: "hour", label: "1 hour", until: new Date(now.getTime() + 3600_000) },
    { key: "tomorrow", label: "Tomorrow", until: tomorrow },
    { key: "week", label: "Next week", until: nextWeek },
  ];
}

export function timeOfDay(value, tz = agentZone) {
  const date = toDate(value);
  return isValid(date) ? fmt({ hour: "numeric", minute: "2-digit" }, tz).format(date) : "";
}

export function fullDate(value, tz = agentZone) {
  const date = toDate(value);
  if (!isValid(date)) return "";
  return fmt({ weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit" }, tz).format(date);
}

// "Today 14:05", "Tomorrow 09:00", "Mon 12 May 09:00": when a snooze ends.
export function whenLabel(value, now = new Date(), tz = agentZone) {
  const date = toDate(value);
  if (!isValid(date)) return "";
  const day = dayKey(date, tz);
  const today = zonedParts(now, tz);
  const time = timeOfDay(date, tz);
  if (day === keyOf(today)) return `today ${time}`;
  if (day === keyOf(addDays(today, 1))) return `tomorrow ${time}`;
  return `${fmt({ weekday: "short", day: "numeric", month: "short" }, tz).format(date)} ${time}`;
}

const keyOf = ({ year, month, day }) => `${year}-${month}-${day}`;
export const dayKey = (value, tz = agentZone) => keyOf(zonedParts(toDate(value), tz));

export function dayLabel(value, now = new Date(), tz = agentZone) {
  const date = toDate(value);
  const today = zonedParts(now, tz);
  const key = dayKey(date, tz);
  if (key === keyOf(today)) return "Today";
  if (key === keyOf(addDays(today, -1))) return "Yesterday";
  const sameYear = zonedParts(date, tz).year === today.year;
  return fmt({ weekday: "long", day: "numeric", month: "long", year: sameYear ? undefined : "numeric" }, tz).format(date);
}

// Compact ages for the list: "now", "5m", "3h", "2d", then a date.
export function relativeTime(value, now = new Date()) {
  const date = toDate(value);
  if (!isValid(date)) return "";
  const seconds = Math.max(0, (now.getTime() - date.getTime()) / 1000);
  if (seconds < 45) return "now";
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  if (seconds < 7 * 86400) return `${Math.floor(seconds / 86400)}d`;
  const sameYear = zonedParts(date).year === zonedParts(now).year;
  return fmt({ day: "numeric", month: "short", year: sameYear ? undefined : "2-digit" }).format(date);
}

// "Tue 14:05 (UTC+2)": the customer's clock right now.
export function localTimeIn(tz, now = new Date()) {
  const zone = validTimeZone(tz);
  if (!zone) return "";
  const time = new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: "short", hour: "numeric", minute: "2-digit", timeZoneName: "shortOffset" }).format(now);
  return time;
}

export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// Only http(s) URLs become links; anything else (javascript:, data:, relative) stays text.
export function safeHttpUrl(value) {
  if (typeof value !== "string" || !value.trim()) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

export function externalLink(url, text) {
  return h("a", { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow" }, text);
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

// Message text as text nodes, with bare http(s) URLs made clickable. Markdown is not
// interpreted: "[x](javascript:...)" shows as typed.
export function linkify(text) {
  const frag = document.createDocumentFragment();
  const source = String(text ?? "");
  let last = 0;
  for (const match of source.matchAll(URL_RE)) {
    let raw = match[0];
    const trail = raw.match(TRAILING);
    if (trail) raw = raw.slice(0, -trail[0].length);
    const url = safeHttpUrl(raw);
    if (!url) continue;
    frag.append(source.slice(last, match.index));
    frag.append(externalLink(url, raw));
    last = match.index + raw.length;
  }
  frag.append(source.slice(last));
  return frag;
}

// "Chrome 120 on macOS" from a user agent string; empty when nothing is recognisable.
export function describeUserAgent(ua) {
  if (!ua || typeof ua !== "string") return "";
  const browsers = [
    [/Edg(?:e|A|iOS)?\/(\d+)/, "Edge"],
    [/OPR\/(\d+)/, "Opera"],
    [/SamsungBrowser\/(\d+)/, "Samsung Internet"],
    [/YaBrowser\/(\d+)/, "Yandex Browser"],
    [/(?:Firefox|FxiOS)\/(\d+)/, "Firefox"],
    [/CriOS\/(\d+)/, "Chrome"],
    [/Chrome\/(\d+)/, "Chrome"],
    [/Version\/(\d+)(?:\.\d+)*[^)]*Safari\//, "Safari"],
    [/MSIE (\d+)|Trident\/.*rv:(\d+)/, "Internet Explorer"],
  ];
  let browser = "";
  for (const [re, name] of browsers) {
    const m = ua.match(re);
    if (m) {
      browser = `${name} ${m[1] || m[2] || ""}`.trim();
      break;
    }
  }
  let os = "";
  let m;
  if ((m = ua.match(/(?:iPhone|iPad|iPod).*? OS (\d+)/))) os = `iOS ${m[1]}`;
  else if ((m = ua.match(/Android (\d+)/))) os = `Android ${m[1]}`;
  else if (/Windows/.test(ua)) os = "Windows";
  else if (/CrOS/.test(ua)) os = "ChromeOS";
  else if (/Mac OS X|Macintosh/.test(ua)) os = "macOS";
  else if (/Linux/.test(ua)) os = "Linux";
  if (/Mobile|iPhone|Android.*Mobile/.test(ua) && os && !os.startsWith("iOS") && !os.startsWith("Android")) os += " (mobile)";
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || "";
}

export function countryLabel(code) {
  if (typeof code !== "string" || !/^[A-Za-z]{2}$/.test(code)) return "";
  // No flag emoji: several desktop systems show them as two letters or empty boxes.
  const upper = code.toUpperCase();
  let name = upper;
  try {
    name = new Intl.DisplayNames(["en"], { type: "region" }).of(upper) || upper;
  } catch {
    /* older browsers: the code alone */
  }
  return name === upper ? upper : `${name} (${upper})`;
}

export function languageLabel(code) {
  if (typeof code !== "string" || !code) return "";
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

export function humanKey(key) {
  const text = String(key).replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
