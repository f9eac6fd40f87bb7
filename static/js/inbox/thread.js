// The open conversation's message column: bubbles keyed by seq (so a replayed message can never
// show twice), day separators, the unread divider, "Seen", older pages and the typing line.
import { $, h, icon } from "./dom.js";
import { dayKey, dayLabel, fullDate } from "./format.js";
import { kindOf, messageElement, senderKey } from "./messages.js";

const GROUP_GAP_MS = 5 * 60 * 1000;

// Put `nodes` in `parent` in this order, touching only what moved: a node taken out of the
// document and put back reloads any frame inside it (an email's HTML) and loses its scroll.
function placeInOrder(parent, nodes) {
  const wanted = new Set(nodes);
  let cursor = parent.firstChild;
  const skipUnwanted = () => {
    while (cursor && !wanted.has(cursor)) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
  };
  for (const node of nodes) {
    skipUnwanted();
    if (node === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(node, cursor);
  }
  skipUnwanted();
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

export class ThreadView {
  constructor(root, { onRetry, onLoadOlder }) {
    this.root = root;
    this.scroller = $("#ib-messages", root);
    this.list = $("#ib-message-list", root);
    this.older = $("#ib-older", root);
    this.jump = $("#ib-jump", root);
    this.typingEl = $("#ib-typing", root);
    this.onRetry = onRetry;
    this.onLoadOlder = onLoadOlder;
    this.cache = new Map();
    this.days = new Map();
    this.unreadDivider = h("li", { class: "ib-divider ib-divider-new", role: "separator" }, h("span", { text: "New messages" }));
    this.jump.addEventListener("click", () => this.scrollToBottom(true));
    this.scroller.addEventListener("scroll", () => {
      this.pinned = this.atBottom();
      if (this.pinned) this.jump.hidden = true;
      if (this.scroller.scrollTop < 150) this.onLoadOlder?.();
    }, { passive: true });
    // Images change the height after they load; stay pinned to the newest message if we were.
    this.list.addEventListener("load", () => {
      if (this.pinned) this.scrollToBottom();
    }, true);
  }

  reset() {
    this.cache.clear();
    this.days.clear();
    this.list.replaceChildren();
    this.jump.hidden = true;
    this.pinned = true;
    this.setTyping([]);
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 60;
  }

  scrollToBottom(smooth = false) {
    this.pinned = true;
    this.jump.hidden = true;
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior: smooth ? "smooth" : "auto" });
  }

  // Keep what the agent is reading in place while earlier messages are added above it.
  keepPositionWhile(fn) {
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    fn();
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
  }

  showJump() {
    this.jump.hidden = false;
  }

  // A stored message changed (an email's delivery state): drawn again on the next render.
  forget(seq) {
    this.cache.delete(`s:${seq}`);
  }

  render({ messages, pendings, contactName, ticketSubject = "", channel = "web", visitorLastReadSeq, unreadAfter, olderAvailable, loadingOlder, olderError, startedAt }) {
    this.renderOlder({ olderAvailable, loadingOlder, olderError, contactName, startedAt, empty: !messages.length && !pendings.length });
    const nodes = [];
    let prev = null;
    let prevDay = null;
    let unreadPlaced = false;
    const used = new Set();
    const place = (item, key, pending) => {
      const day = item.created_at ? dayKey(item.created_at) : prevDay;
      if (day && day !== prevDay) {
        nodes.push(this.daySeparator(day, item.created_at));
        prevDay = day;
        prev = null;
      }
      if (!pending && unreadAfter != null && !unreadPlaced && item.seq > unreadAfter && item.sender_kind === "customer") {
        nodes.push(this.unreadDivider);
        unreadPlaced = true;
        prev = null;
      }
      let el = this.cache.get(key);
      if (!el) {
        el = messageElement(item, { contactName, ticketSubject, pending });
        this.cache.set(key, el);
      }
      used.add(key);
      const gap = prev && item.created_at && prev.created_at
        ? new Date(item.created_at) - new Date(prev.created_at) : 0;
      const first = !prev || senderKey(prev) !== senderKey(item) || gap > GROUP_GAP_MS;
      el.classList.toggle("is-first", first);
      if (prev && nodes.length) nodes[nodes.length - 1].classList?.toggle("is-last", first);
      el.classList.add("is-last");
      nodes.push(el);
      prev = item;
      return el;
    };
    let lastAgentEl = null;
    let lastAgentSeq = 0;
    for (const message of messages) {
      const el = place(message, `s:${message.seq}`, null);
      this.status(el, null);
      if (kindOf(message) === "agent") {
        lastAgentEl = el;
        lastAgentSeq = message.seq;
      }
    }
    // Read receipts exist in chats; an email reply shows its delivery state instead.
    if (lastAgentEl && channel !== "email") {
      const seen = visitorLastReadSeq >= lastAgentSeq;
      this.status(lastAgentEl, seen ? "Seen" : "Sent", seen ? "is-seen" : "");
    }
    for (const p of pendings) {
      const el = place(p.message, `p:${p.clientId}`, p);
      el.classList.add("is-pending");
      el.classList.toggle("is-failed", p.state === "failed");
      if (p.state === "failed") {
        const retry = h("button", { type: "button", class: "btn-link ib-retry" }, "Retry");
        retry.addEventListener("click", () => this.onRetry?.(p.clientId));
        this.status(el, [h("span", { class: "ib-failed-text", text: p.error || "Not sent." }), " ", retry], "is-failed");
      } else {
        this.status(el, p.state === "sent" ? "Sent" : "Sending…");
      }
    }
    for (const key of [...this.cache.keys()]) if (!used.has(key)) this.cache.delete(key);
    placeInOrder(this.list, nodes);
  }

  status(el, content, cls = "") {
    const box = el.querySelector(":scope > .ib-msg-status");
    if (!box) return;
    box.className = `ib-msg-status ${cls}`.trim();
    if (content === null) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(...(Array.isArray(content) ? content : [content]));
    if (content === "Seen") box.prepend(icon("ibi-check", "icon icon-sm"));
  }

  daySeparator(day, createdAt) {
    let el = this.days.get(day);
    if (!el) {
      el = h("li", { class: "ib-divider", role: "separator" }, h("span", { text: dayLabel(createdAt) }));
      this.days.set(day, el);
    }
    return el;
  }

  renderOlder({ olderAvailable, loadingOlder, olderError, contactName, startedAt, empty }) {
    const box = this.older;
    if (loadingOlder) {
      box.replaceChildren(h("span", { class: "ib-spinner", "aria-hidden": "true" }), h("span", { text: "Loading earlier messages…" }));
    } else if (olderError) {
      const retry = h("button", { type: "button", class: "btn-link" }, "Try again");
      retry.addEventListener("click", () => this.onLoadOlder?.(true));
      box.replaceChildren(h("span", { text: "Earlier messages could not be loaded. " }), retry);
    } else if (olderAvailable) {
      const more = h("button", { type: "button", class: "btn btn-sm" }, "Load earlier messages");
      more.addEventListener("click", () => this.onLoadOlder?.(true));
      box.replaceChildren(more);
    } else if (empty) {
      box.replaceChildren(h("span", { text: "No messages yet." }));
    } else {
      box.replaceChildren(
        h("span", { text: `This is the start of your conversation with ${contactName}` }),
        startedAt ? h("time", { datetime: startedAt, text: ` · ${fullDate(startedAt)}` }) : null,
      );
    }
  }

  setTyping(names) {
    if (!names.length) {
      this.typingEl.replaceChildren();
      this.typingEl.hidden = true;
      return;
    }
    const who = names.length === 1 ? `${names[0]} is` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are`;
    this.typingEl.hidden = false;
    this.typingEl.replaceChildren(
      h("span", { class: "ib-typing-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
      h("span", { text: `${who} typing…` }),
    );
  }
}
