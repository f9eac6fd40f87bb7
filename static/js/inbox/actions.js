// The conversation header's actions: assign (to me, to a teammate, to nobody), snooze (presets
// in the agent's time zone, or a chosen time), resolve / reopen. Each is one PATCH.
import { $, h } from "./dom.js";
import { agentTimeZone, snoozePresets, whenLabel, zonedDate } from "./format.js";

const SNOOZE_MAX_DAYS = 90;

function closeMenu(menu, { focus = true } = {}) {
  const panel = menu.querySelector(".menu-panel");
  const trigger = menu.querySelector("[data-menu-trigger]");
  if (panel) panel.hidden = true;
  trigger?.setAttribute("aria-expanded", "false");
  if (focus) trigger?.focus();
}

export class Actions {
  constructor(root, { me, onPatch }) {
    this.me = me;
    this.onPatch = onPatch;
    this.assignMenu = $("#ib-assign", root);
    this.assignLabel = $("#ib-assign-label", root);
    this.assignPanel = $("#ib-assign-panel", root);
    this.snoozeMenu = $("#ib-snooze", root);
    this.snoozePanel = $("#ib-snooze-panel", root);
    this.resolveButton = $("#ib-resolve", root);
    this.dialog = document.getElementById("ib-snooze-dialog");
    this.agents = [];
    this.summary = null;

    this.resolveButton.addEventListener("click", () => {
      if (!this.summary) return;
      const reopen = this.summary.status === "resolved";
      this.patch({ status: reopen ? "open" : "resolved" }, reopen ? "Conversation reopened." : "Conversation resolved.");
    });
    // Presets are computed when the menu opens, so "1 hour" means from now.
    this.snoozeMenu.querySelector("[data-menu-trigger]").addEventListener("click", () => this.renderSnooze(), true);
    this.assignMenu.querySelector("[data-menu-trigger]").addEventListener("click", () => this.renderAssign(), true);

    const form = $("form", this.dialog);
    const input = $("#ib-snooze-at", this.dialog);
    const error = $("#ib-snooze-error", this.dialog);
    $("#ib-snooze-zone", this.dialog).textContent = agentTimeZone();
    $("[data-close]", this.dialog).addEventListener("click", () => this.dialog.close());
    form.addEventListener("submit", (event) => {
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
      if (until.getTime() > now + SNOOZE_MAX_DAYS * 86400_000) {
        error.textContent = `You can snooze for at most ${SNOOZE_MAX_DAYS} days.`;
        return;
      }
      this.dialog.close();
      this.snooze(until);
    });
    this.dialog.addEventListener("close", () => {
      error.textContent = "";
    });
  }

  setAgents(agents) {
    this.agents = agents.filter((a) => a.is_active !== false);
  }

  update(summary) {
    this.summary = summary;
    const assignee = summary?.assignee;
    this.assignLabel.textContent = assignee ? (assignee.id === this.me.id ? "You" : assignee.name) : "Unassigned";
    const resolved = summary?.status === "resolved";
    this.resolveButton.classList.toggle("btn-primary", !resolved);
    this.resolveButton.querySelector("use").setAttribute("href", resolved ? "#ibi-reopen" : "#ibi-check");
    this.resolveButton.querySelector(".ib-btn-text").textContent = resolved ? "Reopen" : "Resolve";
  }

  async patch(body, done) {
    if (!this.summary) return;
    await this.onPatch(this.summary.id, body, done);
  }

  snooze(until) {
    this.patch({ status: "snoozed", snoozed_until: until.toISOString() }, `Snoozed until ${whenLabel(until)}.`);
  }

  item(label, onChoose, { detail = "", current = false, dot = null } = {}) {
    const button = h(
      "button",
      { type: "button", role: current === null ? "menuitem" : "menuitemradio", class: `menu-item${current ? " is-current" : ""}`, "aria-checked": current === null ? null : String(Boolean(current)) },
      dot ? h("span", { class: `presence presence-${dot}`, title: dot }) : null,
      h("span", { class: "ib-item-label", text: label }),
      detail ? h("span", { class: "ib-item-detail", text: detail }) : null,
    );
    button.addEventListener("click", (event) => {
      closeMenu(event.currentTarget.closest("[data-menu]"));
      onChoose();
    });
    return button;
  }

  renderAssign() {
    const current = this.summary?.assignee?.id ?? null;
    const items = [];
    if (current !== this.me.id) {
      items.push(this.item("Assign to me", () => this.patch({ assignee_id: this.me.id }, "Assigned to you."), { current: null }));
      items.push(h("div", { class: "menu-sep" }));
    }
    items.push(h("div", { class: "menu-label", text: "Team" }));
    if (!this.agents.length) items.push(h("div", { class: "menu-item muted", text: "Loading team…" }));
    for (const agent of this.agents) {
      const you = agent.id === this.me.id;
      items.push(
        this.item(you ? `${agent.name} (you)` : agent.name, () => this.patch({ assignee_id: agent.id }, `Assigned to ${you ? "you" : agent.name}.`), {
          current: agent.id === current,
          dot: agent.status || "offline",
        }),
      );
    }
    if (current !== null) {
      items.push(h("div", { class: "menu-sep" }));
      items.push(this.item("Unassign", () => this.patch({ assignee_id: null }, "Conversation unassigned."), { current: null }));
    }
    this.assignPanel.replaceChildren(...items);
  }

  renderSnooze() {
    const items = snoozePresets().map((preset) =>
      this.item(preset.label, () => this.snooze(preset.until), { detail: whenLabel(preset.until), current: null }),
    );
    items.push(
      this.item("Pick a date and time…", () => {
        const input = $("#ib-snooze-at", this.dialog);
        const tomorrow = snoozePresets()[1].until;
        input.value = localInputValue(tomorrow);
        input.min = localInputValue(new Date());
        this.dialog.showModal();
        input.focus();
      }, { current: null }),
    );
    if (this.summary?.status === "snoozed") {
      items.push(h("div", { class: "menu-sep" }));
      items.push(this.item("Unsnooze now", () => this.patch({ status: "open" }, "Conversation reopened."), { current: null }));
    }
    this.snoozePanel.replaceChildren(
      h("div", { class: "menu-label", text: "Snooze until" }),
      ...items,
      h("div", { class: "ib-menu-foot", text: `Times in ${agentTimeZone()}` }),
    );
  }
}

// "YYYY-MM-DDTHH:MM" of a moment in the agent's time zone, for <input type=datetime-local>.
function localInputValue(date) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: agentTimeZone(), hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type)?.value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}
