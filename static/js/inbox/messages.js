// One message as DOM: a customer, agent or internal-note bubble, or a system line. Every text
// goes in through textContent; links only for http(s); images inline from /attachments/<id>/.
import { avatar, h, icon } from "./dom.js";
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
export function messageElement(message, { contactName, pending = null }) {
  const kind = kindOf(message);
  const name = authorName(message, contactName);
  const created = message.created_at;
  if (kind === "system") {
    return h(
      "li",
      { class: "ib-msg ib-msg-system", dataset: { seq: message.seq ?? "" } },
      h("div", { class: "ib-system-line" }, linkify(message.body), created ? h("time", { datetime: created, title: fullDate(created), text: ` · ${timeOfDay(created)}` }) : null),
    );
  }
  const li = h("li", { class: `ib-msg ib-msg-${kind}`, dataset: { seq: message.seq ?? "", kind } });
  if (pending) li.dataset.clientId = pending.clientId;
  const head = h(
    "div",
    { class: "ib-msg-head" },
    h("span", { class: "ib-msg-author", text: name }),
    created ? h("time", { datetime: created, title: fullDate(created), text: timeOfDay(created) }) : null,
  );
  const bubble = h("div", { class: "ib-bubble" });
  if (kind === "note") {
    bubble.append(h("span", { class: "ib-note-label" }, icon("ibi-lock", "icon icon-sm"), "Internal note"));
  }
  if (message.body) bubble.append(h("div", { class: "ib-body" }, linkify(message.body)));
  const files = attachmentList(message.attachments);
  if (files) bubble.append(files);
  const spoken = kind === "note" ? `Internal note by ${name}` : name;
  bubble.setAttribute("aria-label", `${spoken}${created ? `, ${fullDate(created)}` : ""}`);
  bubble.setAttribute("role", "group");
  const row = h(
    "div",
    { class: "ib-msg-row" },
    avatar(name, { size: "avatar-sm ib-msg-avatar", key: kind === "customer" ? `c:${name}` : `a:${name}` }),
    bubble,
  );
  li.append(head, row, h("div", { class: "ib-msg-status", "aria-live": "off" }));
  return li;
}

// Who a message belongs to, for grouping consecutive bubbles under one header.
export function senderKey(message) {
  const kind = kindOf(message);
  if (kind === "customer") return "customer";
  if (kind === "system") return `system:${message.seq}`;
  return `${kind}:${message.author?.name || ""}`;
}
