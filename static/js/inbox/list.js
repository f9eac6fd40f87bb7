// The ticket list: one link per ticket (so it can open in a new tab), in the order the filters
// ask for; j / k and the arrow keys move between items, Enter opens one.
import { avatar, h, icon } from "./dom.js";
import { fullDate, relativeTime } from "./format.js";
import { CHANNEL_ICONS, CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS, ticketTitle } from "./tickets.js";

const TAGS_SHOWN = 2;

function channelIcons(ticket) {
  const channels = (ticket.channels || []).filter((c) => CHANNEL_ICONS[c]);
  return h(
    "span",
    { class: "ib-channels" },
    channels.map((c) => h("span", { class: `ib-channel ib-channel-${c}`, title: CHANNEL_LABELS[c] }, icon(CHANNEL_ICONS[c], "icon icon-sm"), h("span", { class: "sr-only", text: `${CHANNEL_LABELS[c]} ` }))),
  );
}

function titleLine(ticket) {
  const el = h("span", { class: "ib-conv-preview ib-ticket-subject" });
  if (!ticket.subject && !ticket.last_message_preview) {
    el.classList.add("is-empty");
    el.textContent = "No messages yet";
    return el;
  }
  if (!ticket.subject && ticket.last_message_sender_kind === "agent") {
    el.append(h("span", { class: "ib-conv-you", "aria-hidden": "true", text: "↩ " }), h("span", { class: "sr-only", text: "Reply: " }));
  }
  el.append(ticketTitle(ticket));
  return el;
}

function itemElement(ticket, { href, selected, me }) {
  const name = ticket.requester?.name || `Visitor ${ticket.requester?.id ?? ""}`.trim();
  const unread = Number(ticket.unread_count) || 0;
  const assignee = ticket.assignee;
  const time = h("time", { class: "ib-conv-time", datetime: ticket.last_activity_at, title: fullDate(ticket.last_activity_at), text: relativeTime(ticket.last_activity_at) });
  const tags = ticket.tags || [];
  const meta = [
    h("span", { class: `ib-status ib-status-${ticket.status}`, text: STATUS_LABELS[ticket.status] || ticket.status }),
    ticket.priority && ticket.priority !== "normal"
      ? h("span", { class: `ib-priority ib-priority-${ticket.priority}`, text: PRIORITY_LABELS[ticket.priority] || ticket.priority })
      : null,
    tags.slice(0, TAGS_SHOWN).map((tag) => h("span", { class: "ib-tag", text: tag })),
    tags.length > TAGS_SHOWN ? h("span", { class: "ib-tag-more", title: tags.slice(TAGS_SHOWN).join(", "), text: `+${tags.length - TAGS_SHOWN}` }) : null,
  ];
  const owner = assignee
    ? h("span", { class: "ib-owner", title: `Assigned to ${assignee.id === me.id ? "you" : assignee.name}` },
      avatar(assignee.name, { size: "ib-avatar-xs", key: `a:${assignee.name}` }),
      h("span", { class: "sr-only", text: `Assigned to ${assignee.id === me.id ? "you" : assignee.name}` }))
    : h("span", { class: "ib-owner is-none", title: "Unassigned", text: "Unassigned" });
  const link = h(
    "a",
    {
      class: `ib-conv ib-ticket${unread ? " is-unread" : ""}`,
      href,
      "aria-current": selected ? "true" : null,
      dataset: { id: ticket.id, number: ticket.number },
    },
    h(
      "span",
      { class: "ib-conv-main" },
      h(
        "span",
        { class: "ib-conv-top" },
        channelIcons(ticket),
        h("span", { class: "ib-ticket-no", text: `#${ticket.number}` }),
        h("span", { class: "ib-conv-name", text: name }),
        time,
      ),
      h(
        "span",
        { class: "ib-conv-mid" },
        titleLine(ticket),
        unread
          ? h("span", { class: "ib-unread" }, h("span", { "aria-hidden": "true", text: unread > 99 ? "99+" : String(unread) }), h("span", { class: "sr-only", text: `, ${unread} unread` }))
          : null,
      ),
      h("span", { class: "ib-conv-meta" }, h("span", { class: "ib-meta-left" }, meta), owner),
    ),
  );
  return h("li", { dataset: { id: ticket.id } }, link);
}

export class TicketListView {
  constructor(root, { hrefFor, me, onOpen }) {
    this.root = root;
    this.hrefFor = hrefFor;
    this.me = me;
    this.onOpen = onOpen;
    this.items = []; // tickets in display order
    this.selectedId = null;
    root.addEventListener("click", (event) => {
      const link = event.target.closest("a.ib-conv");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.onOpen(Number(link.dataset.id));
    });
    root.addEventListener("keydown", (event) => {
      const link = event.target.closest("a.ib-conv");
      if (!link) return;
      const keys = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };
      if (!(event.key in keys)) return;
      event.preventDefault();
      this.focusRelative(link, keys[event.key]);
    });
  }

  links() {
    return [...this.root.querySelectorAll("a.ib-conv")];
  }

  focusRelative(link, step) {
    const links = this.links();
    let index = links.indexOf(link);
    if (step === -Infinity) index = 0;
    else if (step === Infinity) index = links.length - 1;
    else index = Math.min(links.length - 1, Math.max(0, index + step));
    links[index]?.focus();
    links[index]?.scrollIntoView({ block: "nearest" });
  }

  // j / k from anywhere but a text field: from the focused item, else from the open ticket.
  move(step) {
    const links = this.links();
    if (!links.length) return;
    const focused = document.activeElement?.closest?.("a.ib-conv");
    const from = focused && this.root.contains(focused)
      ? focused
      : links.find((l) => Number(l.dataset.id) === this.selectedId);
    if (!from) {
      const first = links[step > 0 ? 0 : links.length - 1];
      first.focus();
      first.scrollIntoView({ block: "nearest" });
      return;
    }
    this.focusRelative(from, step);
  }

  render(items) {
    this.items = items;
    const focusedId = document.activeElement?.closest?.("a.ib-conv")?.dataset.id;
    const nodes = items.map((ticket) =>
      itemElement(ticket, { href: this.hrefFor(ticket.id), selected: ticket.id === this.selectedId, me: this.me }),
    );
    this.root.replaceChildren(...nodes);
    if (focusedId) this.root.querySelector(`a.ib-conv[data-id="${CSS.escape(focusedId)}"]`)?.focus({ preventScroll: true });
  }

  select(id) {
    this.selectedId = id;
    for (const link of this.links()) {
      if (Number(link.dataset.id) === id) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
  }

  refreshTimes() {
    const now = new Date();
    for (const time of this.root.querySelectorAll("time.ib-conv-time")) {
      time.textContent = relativeTime(time.getAttribute("datetime"), now);
    }
  }
}
