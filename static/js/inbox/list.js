// The conversation list: one link per conversation (so it can open in a new tab), kept in
// "newest activity first" order as summaries arrive; arrow keys move between items.
import { avatar, h, icon } from "./dom.js";
import { fullDate, relativeTime, whenLabel } from "./format.js";

export function byActivity(a, b) {
  const diff = new Date(b.last_activity_at) - new Date(a.last_activity_at);
  return diff || b.id - a.id;
}

function preview(summary, me) {
  const text = summary.last_message_preview || "";
  if (!text) return h("span", { class: "ib-conv-preview is-empty", text: "No messages yet" });
  const el = h("span", { class: "ib-conv-preview" });
  if (summary.last_message_sender_kind === "agent") {
    el.append(h("span", { class: "ib-conv-you", "aria-hidden": "true", text: "↩ " }), h("span", { class: "sr-only", text: "Reply: " }));
  }
  el.append(text);
  return el;
}

function itemElement(summary, { href, selected, me }) {
  const name = summary.contact?.name || `Visitor ${summary.contact?.id ?? ""}`.trim();
  const unread = Number(summary.agent_unread_count) || 0;
  const assignee = summary.assignee;
  const time = h("time", { class: "ib-conv-time", datetime: summary.last_activity_at, title: fullDate(summary.last_activity_at), text: relativeTime(summary.last_activity_at) });
  const meta = [];
  if (summary.status === "snoozed" && summary.snoozed_until) {
    meta.push(h("span", { class: "ib-conv-tag" }, icon("ibi-clock", "icon icon-sm"), `Until ${whenLabel(summary.snoozed_until)}`));
  }
  if (assignee) {
    meta.push(h("span", { class: "ib-conv-assignee", text: assignee.id === me.id ? "You" : assignee.name }));
  } else {
    meta.push(h("span", { class: "ib-conv-assignee is-none", text: "Unassigned" }));
  }
  const link = h(
    "a",
    {
      class: `ib-conv${unread ? " is-unread" : ""}`,
      href,
      "aria-current": selected ? "true" : null,
      dataset: { id: summary.id },
    },
    avatar(name, { key: `c:${name}` }),
    h(
      "span",
      { class: "ib-conv-main" },
      h("span", { class: "ib-conv-top" }, h("span", { class: "ib-conv-name", text: name }), time),
      h(
        "span",
        { class: "ib-conv-mid" },
        preview(summary, me),
        unread
          ? h("span", { class: "ib-unread" }, h("span", { "aria-hidden": "true", text: unread > 99 ? "99+" : String(unread) }), h("span", { class: "sr-only", text: `, ${unread} unread` }))
          : null,
      ),
      h("span", { class: "ib-conv-meta" }, meta),
    ),
  );
  return h("li", { dataset: { id: summary.id } }, link);
}

export class ConversationListView {
  constructor(root, { hrefFor, me, onOpen }) {
    this.root = root;
    this.hrefFor = hrefFor;
    this.me = me;
    this.onOpen = onOpen;
    this.items = []; // summaries in display order
    this.selectedId = null;
    root.addEventListener("click", (event) => {
      const link = event.target.closest("a.ib-conv");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.onOpen(Number(link.dataset.id), { focusComposer: false });
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

  focusRelative(link, step) {
    const links = [...this.root.querySelectorAll("a.ib-conv")];
    let index = links.indexOf(link);
    if (step === -Infinity) index = 0;
    else if (step === Infinity) index = links.length - 1;
    else index = Math.min(links.length - 1, Math.max(0, index + step));
    links[index]?.focus();
  }

  render(items) {
    this.items = [...items].sort(byActivity);
    const focusedId = document.activeElement?.closest?.("a.ib-conv")?.dataset.id;
    const nodes = this.items.map((summary) =>
      itemElement(summary, { href: this.hrefFor(summary.id), selected: summary.id === this.selectedId, me: this.me }),
    );
    this.root.replaceChildren(...nodes);
    if (focusedId) this.root.querySelector(`a.ib-conv[data-id="${CSS.escape(focusedId)}"]`)?.focus({ preventScroll: true });
  }

  select(id) {
    this.selectedId = id;
    for (const link of this.root.querySelectorAll("a.ib-conv")) {
      if (Number(link.dataset.id) === id) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
  }

  // j / k: the next or previous conversation after the open one.
  neighbour(step) {
    if (!this.items.length) return null;
    const index = this.items.findIndex((s) => s.id === this.selectedId);
    if (index === -1) return this.items[step > 0 ? 0 : this.items.length - 1].id;
    const next = this.items[index + step];
    return next ? next.id : null;
  }

  refreshTimes() {
    const now = new Date();
    for (const time of this.root.querySelectorAll("time.ib-conv-time")) {
      time.textContent = relativeTime(time.getAttribute("datetime"), now);
    }
  }
}
