// One message as DOM: a customer, agent or internal-note bubble, or a system line. Every text
// goes in through textContent; links only for http(s); images inline from /attachments/<id>/.
// Emails get their mail parts (email.js) around the same text.
import { avatar, h, icon } from "./dom.js";
import { autoReplyTag, deliveryChip, emailExtras, emailHeader, parseErrorNotice } from "./email.js";
import { fileSize, fullDate, linkify, timeOfDay } from "./format.js";

const INLINE_IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function attachmentUrl(attachment) {
  const id = String(attachment?.id ?? "");
  return UUID_RE.test(id) ? `/attachments/${id}/` : null;
}

export function kindOf(message) {
  if (message.sender_kind === "customer") return "customer";
  if (message.sender_kind === "agent") return message.is_internal ? "note" : "agent";
  return "system";
}

export function authorName(message, contactName) {
  if (message.sender_kind === "customer") return message.author?.name || contactName || "Customer";
  if (message.sender_kind === "agent") return message.author?.name || "Agent";
  if (message.sender_kind === "bot") return message.author?.name || "Bot";
  return "";
}

function attachmentList(attachments) {
  if (!attachments?.length) return null;
  return h(
    "ul",
    { class: "ib-attachments", "aria-label": "Attachments" },
    attachments.map((a) => {
      const url = attachmentUrl(a);
      const name = String(a.name || "file");
      if (!url) return h("li", { class: "ib-file" }, icon("ibi-file", "icon icon-sm"), h("span", { text: name }));
      if (INLINE_IMAGE_TYPES.has(a.content_type)) {
        const img = h("img", { src: url, alt: name, loading: "lazy", decoding: "async" });
        return h("li", { class: "ib-image" }, h("a", { href: url, target: "_blank", rel: "noopener noreferrer", title: `Open ${name}` }, img));
      }
      return h(
        "li",
        { class: "ib-file" },
        h(
          "a",
          { href: url, download: name, rel: "noopener noreferrer" },
          icon("ibi-file", "icon icon-sm"),
          h("span", { class: "ib-file-name", text: name }),
          h("span", { class: "ib-file-size", text: fileSize(a.size) }),
        ),
      );
    }),
  );
}

// A message that is stored (has a seq) or one of ours still on its way (pending).
export function messageElement(message, { contactName, ticketSubject = "", pending = null }) {
  const email = message.email && typeof message.email === "object" ? message.email : null;
  // An automatic email (the acknowledgement) is a letter we sent, shown as one.
  const kind = kindOf(message) === "system" && email ? "agent" : kindOf(message);
  const name = authorName(message, contactName) || (email ? "Automatic reply" : "");
  const created = message.created_at;
  if (kind === "system") {
    return h(
      "li",
      { class: "ib-msg ib-msg-system", dataset: { seq: message.seq ?? "" } },
      h("div", { class: "ib-system-line" }, linkify(message.body), created ? h("time", { datetime: created, title: fullDate(created), text: ` · ${timeOfDay(created)}` }) : null),
    );
  }
  const li = h("li", { class: `ib-msg ib-msg-${kind}${email ? " ib-msg-email" : ""}`, dataset: { seq: message.seq ?? "", kind } });
  if (pending) li.dataset.clientId = pending.clientId;
  const head = h(
    "div",
    { class: "ib-msg-head" },
    h("span", { class: "ib-msg-author", text: name }),
    email ? h("span", { class: "ib-via-email" }, icon("ibi-mail", "icon icon-sm"), h("span", { class: "sr-only", text: "by email" })) : null,
    created ? h("time", { datetime: created, title: fullDate(created), text: timeOfDay(created) }) : null,
    email ? autoReplyTag(email) : null,
  );
  const bubble = h("div", { class: "ib-bubble" });
  if (kind === "note") {
    bubble.append(h("span", { class: "ib-note-label" }, icon("ibi-lock", "icon icon-sm"), "Internal note"));
  }
  let extras = null;
  if (email) {
    const warning = parseErrorNotice(email);
    if (warning) bubble.append(warning);
    bubble.append(emailHeader(email, { ticketSubject }));
    extras = emailExtras(email);
  }
  if (message.body) bubble.append(h("div", { class: "ib-body" }, linkify(message.body)));
  const files = attachmentList(message.attachments);
  if (files) bubble.append(files);
  if (extras) {
    if (extras.tools) bubble.append(extras.tools);
    bubble.append(...extras.parts);
  }
  const spoken = kind === "note" ? `Internal note by ${name}` : name;
  bubble.setAttribute("aria-label", `${spoken}${created ? `, ${fullDate(created)}` : ""}`);
  bubble.setAttribute("role", "group");
  const row = h(
    "div",
    { class: "ib-msg-row" },
    avatar(name, { size: "avatar-sm ib-msg-avatar", key: kind === "customer" ? `c:${name}` : `a:${name}` }),
    bubble,
  );
  li.append(head, row);
  const delivery = email ? deliveryChip(email) : null;
  if (delivery) li.append(h("div", { class: "ib-msg-delivery" }, delivery));
  li.append(h("div", { class: "ib-msg-status", "aria-live": "off" }));
  return li;
}

// Who a message belongs to, for grouping consecutive bubbles under one header.
export function senderKey(message) {
  const kind = kindOf(message);
  if (kind === "customer") return "customer";
  if (kind === "system") return `system:${message.seq}`;
  return `${kind}:${message.author?.name || ""}`;
}
