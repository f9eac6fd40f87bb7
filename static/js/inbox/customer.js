// The customer panel: who the customer is, where they are and what they were looking at.
import { avatar, h, icon } from "./dom.js";
import {
  countryLabel, describeUserAgent, externalLink, fullDate, humanKey, languageLabel, localTimeIn,
  relativeTime, safeHttpUrl, validTimeZone,
} from "./format.js";

const EMAIL_RE = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;
const STATUS_LABELS = { open: "Open", pending: "Pending", snoozed: "Snoozed", resolved: "Resolved" };

function row(label, value) {
  if (value === null || value === undefined || value === "") return null;
  return [h("dt", { text: label }), h("dd", {}, value)];
}

function pageLink(url, title) {
  const safe = safeHttpUrl(url);
  if (!safe) return url ? h("span", { class: "ib-break", text: url }) : null;
  const text = title || `${safe.host}${safe.pathname === "/" ? "" : safe.pathname}`;
  const link = externalLink(safe, text);
  link.classList.add("ib-break");
  link.title = safe.href;
  link.append(icon("ibi-link", "icon icon-sm ib-ext"));
  return link;
}

function section(title, ...content) {
  // A list with no rows is no section at all.
  const body = content.flat().filter((el) => el && !(el.tagName === "DL" && !el.childElementCount));
  if (!body.length) return null;
  const id = `ib-cp-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: "ib-cp-section", "aria-labelledby": id }, h("h3", { id, text: title }), body);
}

export function renderCustomer(root, detail, { prechatLabels = {}, hrefFor }) {
  if (!detail) {
    root.replaceChildren();
    return;
  }
  const contact = detail.contact || {};
  const context = detail.started_context || {};
  const name = contact.name || contact.email || `Visitor ${contact.id ?? ""}`.trim();
  const tz = validTimeZone(contact.timezone || context.timezone);
  const ua = contact.last_user_agent || context.user_agent;
  const email = contact.email && EMAIL_RE.test(contact.email)
    ? h("a", { href: `mailto:${contact.email}`, class: "ib-break", text: contact.email })
    : contact.email || null;

  const head = h(
    "div",
    { class: "ib-cp-head" },
    avatar(name, { size: "avatar-lg", key: `c:${name}` }),
    h("div", { class: "ib-cp-name", text: name }),
    contact.verified || contact.identity_verified
      ? h("span", { class: "badge badge-success ib-verified", title: "The store signed this customer's identity" }, icon("ibi-verified", "icon icon-sm"), "Verified")
      : h("span", { class: "badge", title: "Name and email were typed in the chat and are not verified" }, "Unverified"),
  );

  const localTime = tz ? h("span", { class: "ib-localtime" }, h("span", { dataset: { localtime: tz }, text: localTimeIn(tz) }), h("span", { class: "muted small", text: ` ${tz}` })) : null;
  const details = h(
    "dl",
    { class: "ib-dl" },
    row("Email", email || h("span", { class: "muted", text: "Not given" })),
    row("Phone", contact.phone),
    row("Country", countryLabel(contact.country)),
    row("Local time", localTime),
    row("Language", languageLabel(contact.language || context.language)),
    row("Browser", describeUserAgent(ua) || null),
    row("Last seen", contact.last_seen_at ? h("time", { datetime: contact.last_seen_at, title: fullDate(contact.last_seen_at), text: `${relativeTime(contact.last_seen_at)} ago`.replace("now ago", "just now") }) : null),
  );

  const pageUrl = contact.last_page_url || context.page_url;
  const pageTitle = contact.last_page_url ? contact.last_page_title : context.page_title;
  const referrer = contact.last_referrer || context.referrer;
  const startedOn = context.page_url && context.page_url !== pageUrl ? context.page_url : null;
  const pages = h(
    "dl",
    { class: "ib-dl" },
    row("Current page", pageLink(pageUrl, pageTitle)),
    row("Chat started on", startedOn ? pageLink(startedOn, context.page_title) : null),
    row("Referrer", pageLink(referrer, "")),
  );

  const fields = context.fields && typeof context.fields === "object" ? Object.entries(context.fields) : [];
  const answers = fields.length
    ? h("dl", { class: "ib-dl" }, fields.map(([key, value]) => row(prechatLabels[key] || humanKey(key), String(value))))
    : null;

  const previous = Array.isArray(detail.previous_conversations) ? detail.previous_conversations : [];
  const history = previous.length
    ? h(
        "ul",
        { class: "ib-prev" },
        previous.map((c) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: hrefFor(c.id), dataset: { conversationId: c.id } },
              h("span", { class: "ib-prev-top" }, h("span", { class: `ib-status ib-status-${c.status}`, text: STATUS_LABELS[c.status] || c.status }), h("time", { datetime: c.last_activity_at || c.created_at, text: fullDate(c.last_activity_at || c.created_at) })),
              h("span", { class: "ib-prev-text", text: c.last_message_preview || "No messages" }),
            ),
          ),
        ),
      )
    : h("p", { class: "muted small", text: "No earlier conversations." });

  const conversation = h(
    "dl",
    { class: "ib-dl" },
    row("Started", detail.created_at ? fullDate(detail.created_at) : null),
    row("Channel", detail.channel === "web" ? "Web chat" : detail.channel),
    row("ID", `#${detail.id}`),
  );

  root.replaceChildren(
    ...[
      head,
      section("Details", details),
      section("Pages", pages.childElementCount ? pages : null),
      section("Pre-chat answers", answers),
      section("Previous conversations", history),
      section("Conversation", conversation),
    ].filter(Boolean),
  );
}

export function tickLocalTimes(root) {
  const now = new Date();
  for (const el of root.querySelectorAll("[data-localtime]")) el.textContent = localTimeIn(el.dataset.localtime, now);
}
