// The customer panel: who the customer is, where they are and what they were looking at, and
// their other tickets; "Merge with another contact…" when the same person is known twice.
import { contactLabel, openContactMerge, reloadAfterMerge } from "./contact_merge.js";
import { avatar, h, icon, toast } from "./dom.js";
import {
  countryLabel, describeUserAgent, externalLink, fullDate, humanKey, languageLabel, localTimeIn,
  relativeTime, safeHttpUrl, validTimeZone,
} from "./format.js";

const EMAIL_RE = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;
import { CHANNEL_LABELS, STATUS_LABELS, ticketTitle } from "./tickets.js";

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

// What each panel shows, so a merge that finishes after the agent moved on leaves it alone.
const shown = new WeakMap();

// `detail` is the shown conversation's (contact in full, how the chat started); `ticket` the
// open ticket's summary; `otherTickets` the customer's other tickets (null while loading);
// `onContactMerged({contact, ticket})`, if given, hears of a merge made here with the shown
// ticket read again (its requester may now be the other contact).
export function renderCustomer(root, detail, options) {
  const { prechatLabels = {}, hrefFor, ticket = null, otherTickets = null } = options;
  shown.set(root, detail);
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
    contact.id ? mergeButton(root, detail, options) : null,
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

  let history;
  if (otherTickets === null) {
    history = h("p", { class: "muted small" }, h("span", { class: "ib-spinner", "aria-hidden": "true" }), " Loading…");
  } else if (otherTickets.length) {
    history = h(
      "ul",
      { class: "ib-prev" },
      otherTickets.map((t) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: hrefFor(t.id), dataset: { ticketId: t.id } },
            h(
              "span",
              { class: "ib-prev-top" },
              h("span", { class: "ib-prev-no", text: `#${t.number}` }),
              h("span", { class: `ib-status ib-status-${t.status}`, text: STATUS_LABELS[t.status] || t.status }),
              h("time", { datetime: t.last_activity_at || t.created_at, text: fullDate(t.last_activity_at || t.created_at) }),
            ),
            h("span", { class: "ib-prev-text", text: ticketTitle(t) }),
          ),
        ),
      ),
    );
  } else {
    history = h("p", { class: "muted small", text: "No other tickets." });
  }

  const failing = ticket?.requester?.email_failing
    ? h("div", { class: "ib-cp-warning", role: "note" }, icon("ibi-alert", "icon icon-sm"), h("span", { text: "Mail to this address bounced. Replies by email may not arrive; check the address with the customer." }))
    : null;

  const channel = CHANNEL_LABELS[detail.channel] || detail.channel;
  const about = h(
    "dl",
    { class: "ib-dl" },
    row("Ticket", ticket ? `#${ticket.number}` : null),
    row("Opened", ticket?.created_at ? fullDate(ticket.created_at) : null),
    row("Channels", ticket ? (ticket.channels || []).map((c) => CHANNEL_LABELS[c] || c).join(", ") : null),
    row("This thread", detail.created_at ? `${channel}, started ${fullDate(detail.created_at)}` : channel),
  );

  root.replaceChildren(
    ...[
      head,
      failing,
      section("Details", details),
      section("Pages", pages.childElementCount ? pages : null),
      section("Pre-chat answers", answers),
      section("Other tickets", history),
      section("Ticket", about),
    ].filter(Boolean),
  );
}

function mergeButton(root, detail, options) {
  const button = h(
    "button",
    { type: "button", class: "btn btn-sm ib-cp-merge", "aria-haspopup": "dialog" },
    icon("ibi-merge", "icon icon-sm"),
    "Merge with another contact…",
  );
  button.addEventListener("click", () => {
    openContactMerge(detail.contact, { onMerged: (result) => contactMerged(root, detail, options, result) });
  });
  return button;
}

async function contactMerged(root, detail, options, { contact, merged }) {
  const { ticket, otherTickets } = options;
  // The inbox draws this panel again from the same objects (another tab of the ticket, a
  // bounce flag): they name the kept contact from now on, not one that no longer exists.
  detail.contact = contact;
  const redraw = (others) => {
    if (shown.get(root) !== detail) return;
    const focused = document.activeElement?.classList.contains("ib-cp-merge") || !document.activeElement || document.activeElement === document.body;
    renderCustomer(root, detail, { ...options, otherTickets: others });
    if (focused) root.querySelector(".ib-cp-merge")?.focus();
  };
  redraw(null);
  toast(`${contactLabel(merged)} was merged into ${contactLabel(contact)}.`, "success");
  let reloaded;
  try {
    reloaded = await reloadAfterMerge({ contactId: contact.id, ticketId: ticket?.id });
  } catch {
    reloaded = { ticket: null, otherTickets: Array.isArray(otherTickets) ? [...otherTickets] : [] };
  }
  if (ticket && reloaded.ticket) ticket.requester = reloaded.ticket.requester;
  // The same list the inbox passes again on its next redraw.
  let others = reloaded.otherTickets;
  if (Array.isArray(otherTickets)) {
    otherTickets.splice(0, otherTickets.length, ...others);
    others = otherTickets;
  }
  redraw(others);
  options.onContactMerged?.({ contact, ticket: reloaded.ticket });
}

export function tickLocalTimes(root) {
  const now = new Date();
  for (const el of root.querySelectorAll("[data-localtime]")) el.textContent = localTimeIn(el.dataset.localtime, now);
}
