// The mail side of a message in the thread: who wrote to whom, the quoted history behind a
// toggle, the original HTML in a sandboxed frame (remote images only when the agent asks), parse
// errors with the raw download, and the delivery state of our replies.
//
// The HTML is never put into this page: it is loaded from its own address into
// <iframe sandbox=""> (no scripts, an opaque origin), and that address answers with a CSP that
// blocks remote images unless "?images=1" is asked for (chat/views/email_content.py).
import { h, icon } from "./dom.js";
import { fullDate } from "./format.js";

const SAME_ORIGIN_PATH = /^\/[^/\\]/;

// Only our own relative URLs go into a frame or a link; anything else stays out.
function ownUrl(value) {
  return typeof value === "string" && SAME_ORIGIN_PATH.test(value) ? value : null;
}

function address(person) {
  if (!person) return "";
  const addr = person.address || "";
  return person.name && addr ? `${person.name} <${addr}>` : person.name || addr;
}

function list(values) {
  return (Array.isArray(values) ? values : [])
    .map((v) => (typeof v === "string" ? v : address(v)))
    .filter(Boolean)
    .join(", ");
}

// "Re: Re: Order 4411 [#1001]" is "Order 4411": the subject without reply prefixes and tags.
export function plainSubject(subject) {
  return String(subject || "").replace(/^(\s*(re|fw|fwd|aw|sv|wg)\s*(\[\d+\])?\s*:\s*)+/i, "").replace(/\s*\[#\d+\]\s*/g, " ").trim();
}

// The same subject for the header line, whatever the case.
export function baseSubject(subject) {
  return plainSubject(subject).toLowerCase();
}

export function emailHeader(email, { ticketSubject }) {
  const from = address(email.from);
  const to = list(email.to);
  const cc = list(email.cc);
  const showSubject = email.subject && baseSubject(email.subject) !== baseSubject(ticketSubject);
  return h(
    "div",
    { class: "ib-email-head" },
    h("div", { class: "ib-email-from" }, h("span", { class: "ib-email-label", text: "From" }), " ", h("span", { class: "ib-break", text: from || "(unknown sender)" })),
    to ? h("div", {}, h("span", { class: "ib-email-label", text: "To" }), " ", h("span", { class: "ib-break", text: to })) : null,
    cc ? h("div", {}, h("span", { class: "ib-email-label", text: "Cc" }), " ", h("span", { class: "ib-break", text: cc })) : null,
    showSubject ? h("div", { class: "ib-email-subject" }, h("span", { class: "ib-email-label", text: "Subject" }), " ", h("span", { class: "ib-break", text: email.subject })) : null,
  );
}

function toggle(label, shownLabel, onToggle) {
  const button = h("button", { type: "button", class: "btn-link ib-email-toggle", "aria-expanded": "false" }, label);
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? shownLabel : label;
    onToggle(open);
  });
  return button;
}

// The tools under an email's text: quoted history, the original HTML, the raw message.
export function emailExtras(email) {
  const parts = [];
  const tools = h("div", { class: "ib-email-tools" });
  if (email.quoted_text) {
    const quoted = h("pre", { class: "ib-quoted", text: email.quoted_text, hidden: true });
    tools.append(toggle("Show quoted text", "Hide quoted text", (open) => { quoted.hidden = !open; }));
    parts.push(quoted);
  }
  const htmlUrl = email.has_html ? ownUrl(email.html_url) : null;
  if (htmlUrl) {
    const box = h("div", { class: "ib-email-html", hidden: true });
    let frame = null;
    const load = (images) => {
      const next = h("iframe", {
        class: "ib-email-frame",
        // Empty sandbox: no scripts, no same-origin access, no forms, no popups, no navigation.
        sandbox: "",
        referrerpolicy: "no-referrer",
        title: "Original email (HTML)",
        src: images ? `${htmlUrl}?images=1` : htmlUrl,
      });
      if (frame) frame.replaceWith(next);
      else box.prepend(next);
      frame = next;
    };
    const bar = h("div", { class: "ib-email-html-bar" });
    if (email.has_remote_images) {
      const images = h("button", { type: "button", class: "btn btn-sm ib-load-images" }, icon("ibi-image", "icon icon-sm"), "Load remote images");
      images.addEventListener("click", () => {
        load(true);
        images.disabled = true;
        images.replaceChildren(icon("ibi-image", "icon icon-sm"), "Remote images shown");
      });
      bar.append(h("span", { class: "ib-email-blocked", text: "Remote images are blocked: they can tell the sender you opened the email." }), images);
    }
    box.append(bar);
    tools.append(toggle("View original (HTML)", "Hide original (HTML)", (open) => {
      // The frame is only created when first asked for: nothing is fetched before.
      if (open && !frame) load(false);
      box.hidden = !open;
    }));
    parts.push(box);
  }
  const rawUrl = ownUrl(email.raw_url);
  if (rawUrl && !email.parse_error) {
    tools.append(h("a", { class: "ib-email-raw", href: rawUrl, download: "" }, icon("ibi-download", "icon icon-sm"), "Raw message"));
  }
  return { tools: tools.childElementCount ? tools : null, parts };
}

export function parseErrorNotice(email) {
  if (!email.parse_error) return null;
  const rawUrl = ownUrl(email.raw_url);
  return h(
    "div",
    { class: "ib-email-warning", role: "note" },
    icon("ibi-alert", "icon icon-sm"),
    h(
      "span",
      {},
      h("span", { text: `This email could not be read completely: ${email.parse_error}` }),
      rawUrl ? [" ", h("a", { href: rawUrl, download: "", text: "Download the original message" })] : null,
    ),
  );
}

export function autoReplyTag(email) {
  if (!email.auto_submitted) return null;
  const title = email.direction === "in"
    ? "Sent automatically (an auto-reply or out-of-office): no answer goes back to it automatically"
    : "Sent automatically by this workspace";
  return h("span", { class: "ib-auto-tag", title, text: "auto-reply" });
}

// Queued / Sent / Failed under one of our email replies.
export function deliveryChip(email) {
  if (email.direction !== "out") return null;
  const status = email.delivery_status;
  if (status === "queued") {
    // A temporary failure leaves it queued for another try; the reason shows on hover.
    const retrying = Boolean(email.delivery_error);
    return h(
      "span",
      { class: "ib-delivery ib-delivery-queued", dataset: { delivery: "queued" }, title: retrying ? email.delivery_error : "Waiting to be sent" },
      h("span", { class: "ib-spinner ib-spinner-sm", "aria-hidden": "true" }),
      retrying ? "Queued, retrying" : "Queued",
    );
  }
  if (status === "sent") {
    const when = email.sent_at ? `Sent ${fullDate(email.sent_at)}` : "Sent";
    return h("span", { class: "ib-delivery ib-delivery-sent", dataset: { delivery: "sent" }, title: when }, icon("ibi-check", "icon icon-sm"), "Sent");
  }
  if (status === "failed") {
    const reason = email.delivery_error || "The mail server refused it.";
    return h(
      "span",
      { class: "ib-delivery ib-delivery-failed", dataset: { delivery: "failed" }, title: reason, role: "status" },
      icon("ibi-alert", "icon icon-sm"),
      h("span", { text: "Failed" }),
      h("span", { class: "ib-delivery-reason", text: `: ${reason}` }),
    );
  }
  return null;
}
