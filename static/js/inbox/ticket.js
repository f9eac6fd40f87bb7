// The open ticket's header: number and subject, status (only the moves the server allows),
// on hold until a time, priority, assignee, tags, "Merge into…", the merged / follow-up banners
// and the switcher between its conversations. Each change is one PATCH of the ticket; the
// socket's ticket.updated then tells every agent, this one included.
import { $, h, icon, toast } from "./dom.js";
import { agentTimeZone, fullDate, snoozePresets, whenLabel, zonedDate } from "./format.js";
import { CHANNEL_ICONS, CHANNEL_LABELS, STATUS_LABELS, ticketTitle } from "./tickets.js";

const HOLD_MAX_DAYS = 90;
const TAG_RE = /^[\p{L}\p{N}_\-.:/]+$/u;

function closeMenu(menu, { focus = true } = {}) {
  const panel = menu.querySelector(".menu-panel");
  const trigger = menu.querySelector("[data-menu-trigger]");
  if (panel) panel.hidden = true;
  trigger?.setAttribute("aria-expanded", "false");
  if (focus) trigger?.focus();
}

// "YYYY-MM-DDTHH:MM" of a moment in the agent's time zone, for <input type=datetime-local>.
function localInputValue(date) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: agentTimeZone(), hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type)?.value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

function shortDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: agentTimeZone() }).format(date);
}

// "Chat · 3 Mar", "Email · Re: Order 4411": one tab per conversation of the ticket.
export function conversationLabel(conversation, { ticketSubject = "" } = {}) {
  const channel = CHANNEL_LABELS[conversation.channel] || conversation.channel;
  if (conversation.channel === "email") {
    const subject = conversation.subject || ticketSubject;
    if (subject) return `${channel} · ${subject}`;
  }
  return `${channel} · ${shortDate(conversation.created_at)}`;
}

export class TicketHeader {
  constructor(root, { me, transitions, hrefFor, onPatch, onSearch, onMerge, onOpenTicket, onSelectConversation, ticketNumber }) {
    this.hrefFor = hrefFor;
    this.me = me;
    this.transitions = transitions || {};
    this.onPatch = onPatch;
    this.onSearch = onSearch;
    this.onMerge = onMerge;
    this.onOpenTicket = onOpenTicket;
    this.onSelectConversation = onSelectConversation;
    this.ticketNumber = ticketNumber;
    this.ticket = null;
    this.agents = [];
    this.numberEl = $("#ib-ticket-number", root);
    this.subject = $("#ib-subject", root);
    this.sub = $("#ib-thread-sub", root);
    this.status = $("#ib-status", root);
    this.priority = $("#ib-priority", root);
    this.assignee = $("#ib-assignee", root);
    this.holdMenu = $("#ib-hold", root);
    this.holdPanel = $("#ib-hold-panel", root);
    this.mergeButton = $("#ib-merge", root);
    this.tagList = $("#ib-tag-list", root);
    this.tagInput = $("#ib-tag-input", root);
    this.tagError = $("#ib-tag-error", root);
    this.tagSuggestions = document.getElementById("ib-tag-suggestions");
    this.banners = $("#ib-ticket-banners", root);
    this.tabs = $("#ib-conv-tabs", root);
    this.holdDialog = document.getElementById("ib-snooze-dialog");
    this.mergeDialog = document.getElementById("ib-merge-dialog");
    this.bannerKey = "";

    this.wireSubject();
    this.status.addEventListener("change", () => {
      const value = this.status.value;
      this.patch({ status: value }, `Status: ${STATUS_LABELS[value] || value}.`, () => { this.status.value = this.ticket.status; });
    });
    this.priority.addEventListener("change", () => {
      const value = this.priority.value;
      this.patch({ priority: value }, `Priority: ${value}.`, () => { this.priority.value = this.ticket.priority; });
    });
    this.assignee.addEventListener("change", () => {
      const value = this.assignee.value;
      const id = value ? Number(value) : null;
      const agent = this.agents.find((a) => a.id === id);
      const text = id === null ? "Ticket unassigned." : `Assigned to ${id === this.me.id ? "you" : agent?.name || "them"}.`;
      this.patch({ assignee_id: id }, text, () => { this.assignee.value = this.ticket.assignee ? String(this.ticket.assignee.id) : ""; });
    });
    this.holdMenu.querySelector("[data-menu-trigger]").addEventListener("click", () => this.renderHold(), true);
    this.wireHoldDialog();
    this.wireTags();
    this.wireMerge();
    this.tabs.addEventListener("click", (event) => {
      const tab = event.target.closest("[role=tab]");
      if (tab) this.onSelectConversation(Number(tab.dataset.conversationId));
    });
    this.tabs.addEventListener("keydown", (event) => {
      const tabs = [...this.tabs.querySelectorAll("[role=tab]")];
      const index = tabs.indexOf(event.target.closest("[role=tab]"));
      if (index === -1 || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
      event.preventDefault();
      const next = tabs[(index + (event.key === "ArrowRight" ? 1 : -1) + tabs.length) % tabs.length];
      next.focus();
      this.onSelectConversation(Number(next.dataset.conversationId));
    });
  }

  // ---- Showing the ticket ----
  setAgents(agents) {
    this.agents = agents.filter((a) => a.is_active !== false);
    if (this.ticket) this.renderAssignee();
  }

  setTagSuggestions(tags) {
    this.tagSuggestions.replaceChildren(...tags.map((tag) => h("option", { value: tag })));
  }

  render(ticket) {
    this.ticket = ticket;
    if (!ticket) return;
    const merged = Boolean(ticket.merged_into);
    const closed = ticket.status === "closed";
    this.numberEl.textContent = `#${ticket.number}`;
    if (document.activeElement !== this.subject) this.subject.value = ticket.subject || "";
    this.subject.readOnly = merged;
    this.subject.placeholder = merged ? "" : "Add a subject";

    const allowed = new Set(this.transitions[ticket.status] || []);
    for (const option of this.status.options) {
      option.disabled = option.value !== ticket.status && !allowed.has(option.value);
    }
    this.status.value = ticket.status;
    // Closed is final; a merged ticket is changed through the one it went into.
    this.status.disabled = closed || merged;
    this.status.title = closed ? "Closed tickets can't change status. A new customer message opens a follow-up ticket." : "";
    this.holdMenu.hidden = closed || merged || !(allowed.has("on_hold") || ticket.status === "on_hold");
    this.priority.value = ticket.priority;
    this.priority.disabled = merged;
    this.renderAssignee();
    this.assignee.disabled = merged;
    this.mergeButton.disabled = merged || closed;
    this.renderTags();
    this.tagInput.disabled = merged;
    this.renderSub();
    this.renderBanners();
  }

  renderSub() {
    const t = this.ticket;
    const requester = t.requester || {};
    const channels = (t.channels || []).map((c) => h("span", { class: "ib-sub-channel" }, icon(CHANNEL_ICONS[c] || "ibi-chat", "icon icon-sm"), CHANNEL_LABELS[c] || c));
    this.sub.replaceChildren(
      h("span", { class: `ib-status ib-status-${t.status}`, text: STATUS_LABELS[t.status] || t.status }),
      h("span", { class: "ib-sub-name", text: requester.name || "Customer" }),
      requester.email && requester.email !== requester.name ? h("span", { class: "ib-sub-email", text: requester.email }) : null,
      ...channels,
    );
  }

  renderAssignee() {
    const current = this.ticket?.assignee;
    const options = [h("option", { value: "", text: "Unassigned" })];
    const known = new Set();
    const ordered = [...this.agents].sort((a, b) => (a.id === this.me.id ? -1 : b.id === this.me.id ? 1 : a.name.localeCompare(b.name)));
    for (const agent of ordered) {
      known.add(agent.id);
      options.push(h("option", { value: String(agent.id), text: agent.id === this.me.id ? `${agent.name} (you)` : agent.name }));
    }
    // Assigned to someone the agents list doesn't hold (yet): still shown as assigned.
    if (current && !known.has(current.id)) options.push(h("option", { value: String(current.id), text: current.name }));
    this.assignee.replaceChildren(...options);
    this.assignee.value = current ? String(current.id) : "";
  }

  renderBanners() {
    const t = this.ticket;
    const refs = (list) => (Array.isArray(list) ? list.filter((r) => r && typeof r.id === "number") : []);
    const mergedHere = refs(t.merged_tickets);
    const followUps = refs(t.follow_ups);
    const key = JSON.stringify([t.id, t.merged_into, t.follow_up_of, mergedHere.map((r) => r.id), followUps.map((r) => r.id)]);
    if (key === this.bannerKey) return;
    this.bannerKey = key;
    const anchor = (id, number) => {
      const a = h("a", { href: this.hrefFor(id), dataset: { ticketId: id }, text: number ? `#${number}` : "…" });
      a.addEventListener("click", (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        this.onOpenTicket(id);
      });
      // Only the id is known for the merge and follow-up links; the number is looked up.
      if (!number) {
        this.ticketNumber(id).then((n) => { a.textContent = `#${n}`; }).catch(() => { a.textContent = "another ticket"; });
      }
      return a;
    };
    const banner = (cls, iconName, ...content) => h("div", { class: `ib-ticket-banner ${cls}`, role: "note" }, icon(iconName, "icon icon-sm"), h("span", {}, ...content));
    const joined = (list) => list.flatMap((r, i) => (i ? [", ", anchor(r.id, r.number)] : [anchor(r.id, r.number)]));
    const banners = [];
    if (t.merged_into) banners.push(banner("is-merged", "ibi-merge", "Merged into ", anchor(t.merged_into), ". Reply and change it there."));
    if (t.follow_up_of) banners.push(banner("is-follow-up", "ibi-link", "Follow-up of ", anchor(t.follow_up_of), ", which was closed."));
    if (mergedHere.length) banners.push(banner("is-merged-here", "ibi-merge", mergedHere.length > 1 ? "Tickets merged into this one: " : "Ticket merged into this one: ", ...joined(mergedHere)));
    if (followUps.length) banners.push(banner("is-follow-ups", "ibi-link", followUps.length > 1 ? "Follow-ups: " : "Follow-up: ", ...joined(followUps)));
    this.banners.replaceChildren(...banners);
  }

  renderTabs(conversations, selectedId) {
    const list = conversations || [];
    this.tabs.hidden = list.length < 2;
    if (list.length < 2) {
      this.tabs.replaceChildren();
      return;
    }
    this.tabs.replaceChildren(
      ...list.map((c) => {
        const selected = c.id === selectedId;
        const unread = Number(c.agent_unread_count) || 0;
        return h(
          "button",
          { type: "button", role: "tab", id: `ib-tab-${c.id}`, class: "ib-conv-tab", "aria-selected": String(selected), tabindex: selected ? "0" : "-1", dataset: { conversationId: c.id }, title: fullDate(c.created_at) },
          icon(CHANNEL_ICONS[c.channel] || "ibi-chat", "icon icon-sm"),
          h("span", { class: "ib-conv-tab-text", text: conversationLabel(c, { ticketSubject: this.ticket?.subject }) }),
          unread ? h("span", { class: "ib-unread ib-unread-sm", "aria-label": `${unread} unread`, text: String(unread) }) : null,
        );
      }),
    );
  }

  // ---- Editing ----
  // One PATCH; a refusal puts the control back and says why.
  async patch(body, done, revert) {
    if (!this.ticket) return false;
    try {
      await this.onPatch(this.ticket.id, body, done);
      return true;
    } catch (error) {
      revert?.();
      toast(error.message || "That didn't work. Try again.", "error");
      return false;
    }
  }

  wireSubject() {
    const save = () => {
      if (!this.ticket || this.subject.readOnly) return;
      const value = this.subject.value.replace(/\s+/g, " ").trim();
      if (value === (this.ticket.subject || "")) {
        this.subject.value = value;
        return;
      }
      this.patch({ subject: value }, "Subject saved.", () => { this.subject.value = this.ticket.subject || ""; });
    };
    this.subject.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.subject.blur();
      } else if (event.key === "Escape") {
        this.subject.value = this.ticket?.subject || "";
        this.subject.blur();
      }
    });
    this.subject.addEventListener("blur", save);
  }

  renderHold() {
    const hold = (until) => this.patch({ status: "on_hold", on_hold_until: until.toISOString() }, `On hold until ${whenLabel(until)}.`);
    const items = snoozePresets().map((preset) => this.menuItem(preset.label, () => hold(preset.until), whenLabel(preset.until)));
    items.push(this.menuItem("Pick a date and time…", () => {
      const input = $("#ib-snooze-at", this.holdDialog);
      input.value = localInputValue(snoozePresets()[1].until);
      input.min = localInputValue(new Date());
      this.holdDialog.showModal();
      input.focus();
    }));
    this.holdPanel.replaceChildren(
      h("div", { class: "menu-label", text: "On hold until" }),
      ...items,
      h("div", { class: "ib-menu-foot", text: `Times in ${agentTimeZone()}` }),
    );
  }

  menuItem(label, onChoose, detail = "") {
    const button = h(
      "button",
      { type: "button", role: "menuitem", class: "menu-item" },
      h("span", { class: "ib-item-label", text: label }),
      detail ? h("span", { class: "ib-item-detail", text: detail }) : null,
    );
    button.addEventListener("click", (event) => {
      closeMenu(event.currentTarget.closest("[data-menu]"));
      onChoose();
    });
    return button;
  }

  wireHoldDialog() {
    const dialog = this.holdDialog;
    const input = $("#ib-snooze-at", dialog);
    const error = $("#ib-snooze-error", dialog);
    $("#ib-snooze-zone", dialog).textContent = agentTimeZone();
    $("[data-close]", dialog).addEventListener("click", () => dialog.close());
    $("form", dialog).addEventListener("submit", (event) => {
      event.preventDefault();
      const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(input.value);
      if (!match) {
        error.textContent = "Choose a date and time.";
        return;
      }
      const [, year, month, day, hour, minute] = match.map(Number);
      const until = zonedDate({ year, month, day, hour, minute });
      const now = Date.now();
      if (until.getTime() <= now + 60_000) {
        error.textContent = "Choose a time in the future.";
        return;
      }
      if (until.getTime() > now + HOLD_MAX_DAYS * 86400_000) {
        error.textContent = `A ticket can be on hold for at most ${HOLD_MAX_DAYS} days.`;
        return;
      }
      dialog.close();
      this.patch({ status: "on_hold", on_hold_until: until.toISOString() }, `On hold until ${whenLabel(until)}.`);
    });
    dialog.addEventListener("close", () => { error.textContent = ""; });
  }

  // ---- Tags ----
  renderTags() {
    const tags = this.ticket?.tags || [];
    const editable = !this.ticket?.merged_into;
    this.tagList.replaceChildren(
      ...tags.map((tag) => {
        const chip = h("li", { class: "ib-tag-chip" }, h("span", { class: "ib-tag-text", text: tag }));
        if (editable) {
          const remove = h("button", { type: "button", class: "ib-tag-x", "aria-label": `Remove tag ${tag}`, title: "Remove" }, "×");
          remove.addEventListener("click", () => this.setTags(tags.filter((t) => t !== tag), `Tag “${tag}” removed.`));
          chip.append(remove);
        }
        return chip;
      }),
    );
  }

  showTagError(text) {
    this.tagError.textContent = text;
    this.tagError.hidden = !text;
  }

  // Tag errors show under the editor, where the agent is typing, rather than as a toast.
  async setTags(tags, done) {
    this.showTagError("");
    if (!this.ticket) return false;
    try {
      await this.onPatch(this.ticket.id, { tags }, done);
      return true;
    } catch (error) {
      const field = error.details?.tags;
      const detail = Array.isArray(field) ? field[0]?.message || field[0] : null;
      this.showTagError(typeof detail === "string" ? detail : error.message || "The tags could not be saved.");
      return false;
    }
  }

  wireTags() {
    this.tagInput.addEventListener("keydown", async (event) => {
      if (event.key === "Backspace" && !this.tagInput.value && this.ticket?.tags?.length) {
        const last = this.ticket.tags.at(-1);
        event.preventDefault();
        this.setTags(this.ticket.tags.slice(0, -1), `Tag “${last}” removed.`);
        return;
      }
      if (event.key !== "Enter" && event.key !== ",") return;
      event.preventDefault();
      const tag = this.tagInput.value.trim().toLowerCase();
      if (!tag || !this.ticket) return;
      if (!TAG_RE.test(tag)) {
        this.showTagError("A tag is one word: letters, digits or - _ . : /");
        return;
      }
      if ((this.ticket.tags || []).includes(tag)) {
        this.tagInput.value = "";
        return;
      }
      const ok = await this.setTags([...(this.ticket.tags || []), tag], `Tag “${tag}” added.`);
      if (ok) this.tagInput.value = "";
    });
    this.tagInput.addEventListener("input", () => this.showTagError(""));
  }

  // ---- Merge ----
  wireMerge() {
    const dialog = this.mergeDialog;
    const query = $("#ib-merge-q", dialog);
    const results = $("#ib-merge-results", dialog);
    const summary = $("#ib-merge-summary", dialog);
    const error = $("#ib-merge-error", dialog);
    const submit = $("#ib-merge-submit", dialog);
    let target = null;
    let timer = null;
    let generation = 0;
    // A search box with text in it takes Escape to clear itself; here Escape closes the dialog.
    query.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        dialog.close();
      }
    });

    const choose = (ticket) => {
      target = ticket;
      const source = this.ticket;
      summary.hidden = !ticket;
      submit.disabled = !ticket;
      submit.textContent = ticket ? `Merge into #${ticket.number}` : "Merge";
      if (ticket) {
        summary.textContent = `#${source.number} will be closed and its conversations will move to #${ticket.number}. Both histories note the merge. This can't be undone.`;
      }
    };
    const show = (tickets, { heading }) => {
      const source = this.ticket;
      const options = tickets.filter((t) => t.id !== source.id && !t.merged_into && t.status !== "closed");
      results.replaceChildren(
        h("p", { class: "ib-merge-heading", text: heading }),
        ...(options.length
          ? options.map((t) => {
              const radio = h("input", { type: "radio", name: "ib-merge-target", value: String(t.id) });
              radio.addEventListener("change", () => choose(t));
              return h(
                "label",
                { class: "ib-merge-option" },
                radio,
                h("span", { class: "ib-merge-no", text: `#${t.number}` }),
                h("span", { class: "ib-merge-text" }, h("span", { class: "ib-merge-subject", text: ticketTitle(t) }), h("span", { class: "ib-merge-meta", text: `${t.requester?.name || ""} · ${STATUS_LABELS[t.status] || t.status}` })),
              );
            })
          : [h("p", { class: "muted small", text: "No ticket to merge into found." })]),
      );
      if (target && !options.some((t) => t.id === target.id)) choose(null);
    };
    const search = async () => {
      const mine = ++generation;
      const term = query.value.trim();
      error.textContent = "";
      try {
        const source = this.ticket;
        const tickets = term
          ? await this.onSearch({ q: term.replace(/^#(?=\d+$)/, ""), status: "any", limit: 20 })
          : await this.onSearch({ requester: source.requester?.id, status: "any", limit: 20 });
        if (mine !== generation) return;
        show(tickets, { heading: term ? "Matching tickets" : `Other tickets of ${source.requester?.name || "this customer"}` });
      } catch (err) {
        if (mine === generation) error.textContent = err.message || "Tickets could not be searched.";
      }
    };
    this.mergeButton.addEventListener("click", () => {
      if (!this.ticket) return;
      $("#ib-merge-title", dialog).textContent = `Merge #${this.ticket.number} into another ticket`;
      query.value = "";
      results.replaceChildren(h("p", { class: "muted small", text: "Loading…" }));
      choose(null);
      error.textContent = "";
      dialog.showModal();
      query.focus();
      search();
    });
    query.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
    query.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        search();
      }
    });
    $("[data-close]", dialog).addEventListener("click", () => dialog.close());
    $("#ib-merge-form", dialog).addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!target || !this.ticket) return;
      submit.disabled = true;
      error.textContent = "";
      try {
        await this.onMerge({ source: this.ticket, target });
        dialog.close();
      } catch (err) {
        error.textContent = err.message || "The tickets could not be merged.";
      } finally {
        submit.disabled = !target;
      }
    });
  }
}
