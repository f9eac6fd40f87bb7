// "Merge with another contact…" from the customer panel: find the other record of the same
// person (a chat visitor who also wrote by email, say), choose which of the two stays, read in
// plain words what will happen, and merge (POST /api/v1/contacts/{kept}/merge/). Names and
// addresses are customer-supplied: they only ever go in as text nodes.
import { api, resultsOf, withQuery } from "./api.js";
import { $, $$, h, icon } from "./dom.js";

const SEARCH_DELAY_MS = 250;
const SHOWN_MAX = 20;
const OTHER_TICKETS_MAX = 10;
const FOCUSABLE = "input:not([disabled]):not([type=hidden]), button:not([disabled]), [tabindex]:not([tabindex='-1'])";

export function contactName(contact) {
  return contact?.name || contact?.email || `Visitor ${contact?.id ?? ""}`.trim();
}

// "Ana Silva (ana@example.com)", or only the name when there is no other address to tell.
export function contactLabel(contact) {
  const name = contactName(contact);
  return contact?.email && contact.email !== name ? `${name} (${contact.email})` : name;
}

export function mergeSummary({ kept, merged }) {
  return `${contactLabel(merged)} and all their conversations and tickets will be merged into ${contactLabel(kept)}. This can't be undone.`;
}

function urls() {
  const dialog = document.getElementById("ib-contact-merge-dialog");
  return { contacts: dialog.dataset.contactsUrl, tickets: dialog.dataset.ticketsUrl };
}

// After a merge the requester of the shown ticket may have changed (the other contact was
// kept) and their other tickets are now those of both: read both again. The contact merge
// moves requesters without a ticket.updated frame, so nothing else would tell us.
export async function reloadAfterMerge({ contactId, ticketId }) {
  const { tickets } = urls();
  const [ticket, others] = await Promise.all([
    ticketId ? api.get(`${tickets}${ticketId}/`) : null,
    api.get(withQuery(tickets, { requester: contactId, status: "any", limit: OTHER_TICKETS_MAX + 1 })),
  ]);
  let summary = null;
  if (ticket && typeof ticket.id === "number") {
    const { conversations, ...rest } = ticket;
    summary = rest;
  }
  return { ticket: summary, otherTickets: resultsOf(others).filter((t) => t.id !== ticketId).slice(0, OTHER_TICKETS_MAX) };
}

class ContactMergeDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.form = $("#ib-cmerge-form", dialog);
    this.title = $("#ib-cmerge-title", dialog);
    this.query = $("#ib-cmerge-q", dialog);
    this.results = $("#ib-cmerge-results", dialog);
    this.status = $("#ib-cmerge-status", dialog);
    this.keep = $("#ib-cmerge-keep", dialog);
    this.summary = $("#ib-cmerge-summary", dialog);
    this.error = $("#ib-cmerge-error", dialog);
    this.submit = $("#ib-cmerge-submit", dialog);
    this.current = null; // the contact the panel shows
    this.other = null; // the one picked in the results
    this.onMerged = null;
    this.busy = false;
    this.timer = null;
    this.generation = 0;
    this.searched = null; // the term the shown results are for
    this.wire();
  }

  open(contact, { onMerged }) {
    this.current = contact;
    this.onMerged = onMerged;
    this.title.textContent = `Merge ${contactName(contact)} with another contact`;
    this.query.value = "";
    this.searched = null;
    this.choose(null);
    this.setBusy(false);
    this.error.textContent = "";
    this.prompt();
    this.dialog.showModal();
    this.query.focus();
  }

  prompt() {
    ++this.generation;
    clearTimeout(this.timer);
    this.results.setAttribute("aria-busy", "false");
    this.results.replaceChildren(h("p", { class: "muted small", text: "Type part of a name or an email address." }));
    this.status.textContent = "";
  }

  keptAndMerged() {
    const keepOther = $("input[name=ib-cmerge-keep]:checked", this.keep)?.value === "other";
    return keepOther ? { kept: this.other, merged: this.current } : { kept: this.current, merged: this.other };
  }

  choose(contact) {
    this.other = contact;
    this.keep.hidden = !contact;
    this.summary.hidden = !contact;
    if (!contact) {
      $("input[value=this]", this.keep).checked = true;
      this.summary.textContent = "";
      this.submit.disabled = true;
      return;
    }
    $("[data-keep-label=this]", this.keep).textContent = contactLabel(this.current);
    $("[data-keep-label=other]", this.keep).textContent = contactLabel(contact);
    this.describe();
    this.submit.disabled = this.busy;
  }

  describe() {
    if (!this.other) return;
    this.summary.textContent = mergeSummary(this.keptAndMerged());
  }

  setBusy(busy) {
    this.busy = busy;
    this.submit.disabled = busy || !this.other;
    this.submit.textContent = busy ? "Merging…" : "Merge contacts";
    this.form.setAttribute("aria-busy", String(busy));
  }

  async search() {
    clearTimeout(this.timer);
    const term = this.query.value.trim();
    if (!term) {
      this.searched = null;
      this.choose(null);
      this.prompt();
      return;
    }
    const mine = ++this.generation;
    this.searched = term;
    this.error.textContent = "";
    this.results.setAttribute("aria-busy", "true");
    try {
      // One more than shown: the current contact may be among them.
      const data = await api.get(withQuery(urls().contacts, { q: term, limit: SHOWN_MAX + 1 }));
      if (mine !== this.generation) return;
      const others = resultsOf(data).filter((c) => c.id !== this.current.id);
      this.show(others.slice(0, SHOWN_MAX), { more: others.length > SHOWN_MAX || Boolean(data?.next) });
    } catch (err) {
      if (mine !== this.generation) return;
      this.results.replaceChildren();
      this.error.textContent = err.message || "Contacts could not be searched.";
    } finally {
      if (mine === this.generation) this.results.setAttribute("aria-busy", "false");
    }
  }

  show(contacts, { more }) {
    const options = contacts.map((contact) => {
      const radio = h("input", { type: "radio", name: "ib-cmerge-other", value: String(contact.id) });
      radio.checked = this.other?.id === contact.id;
      radio.addEventListener("change", () => this.choose(contact));
      return h(
        "label",
        { class: "ib-merge-option ib-cmerge-option" },
        radio,
        h(
          "span",
          { class: "ib-merge-text" },
          h("span", { class: "ib-merge-subject ib-cmerge-name", text: contactName(contact) }),
          contact.email && contact.email !== contactName(contact) ? h("span", { class: "ib-merge-meta ib-cmerge-email", text: contact.email }) : null,
        ),
        contact.verified ? h("span", { class: "badge badge-success ib-verified", title: "The store signed this customer's identity" }, icon("ibi-verified", "icon icon-sm"), "Verified") : null,
      );
    });
    this.results.replaceChildren(
      ...(options.length ? options : [h("p", { class: "muted small", text: "No other contact matches." })]),
      ...(more ? [h("p", { class: "muted small", text: `Showing the first ${SHOWN_MAX}. Type more to narrow the search.` })] : []),
    );
    this.status.textContent = options.length ? `${options.length}${more ? "+" : ""} contacts found.` : "No other contact matches.";
    if (this.other && !contacts.some((c) => c.id === this.other.id)) this.choose(null);
  }

  async confirm() {
    if (!this.other || this.busy) return;
    const { kept, merged } = this.keptAndMerged();
    this.setBusy(true);
    this.error.textContent = "";
    try {
      const result = await api.post(`${urls().contacts}${kept.id}/merge/`, { source_id: merged.id });
      const { conversations, ...contact } = result || {};
      this.dialog.close();
      this.onMerged?.({ contact: contact.id ? contact : kept, merged });
    } catch (err) {
      // Shown where the agent is looking; nothing was merged.
      this.error.textContent = err.message || "The contacts could not be merged.";
    } finally {
      this.setBusy(false);
    }
  }

  wire() {
    const { dialog, form, query } = this;
    query.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(), SEARCH_DELAY_MS);
    });
    this.keep.addEventListener("change", () => this.describe());
    // Enter in the search box searches (unless the results are already for what it says and one
    // is picked); anywhere else in the dialog it confirms. Buttons keep their own Enter.
    form.addEventListener("keydown", (event) => {
      // A search box with text in it would take Escape to clear itself: here it closes the
      // dialog, and only the dialog (the inbox closes the customer drawer on an Escape that
      // finds no dialog open).
      if (event.key === "Escape" && event.target === query) {
        event.preventDefault();
        event.stopPropagation();
        dialog.close();
        return;
      }
      if (event.key === "ArrowDown" && event.target === query) {
        const first = $("input[type=radio]", this.results);
        if (first) {
          event.preventDefault();
          first.focus();
        }
        return;
      }
      if (event.key !== "Enter" || event.isComposing || event.target.closest("button")) return;
      event.preventDefault();
      // A result reached with the arrow key and not picked yet: Enter picks it, and the next
      // Enter (with the summary to read) merges.
      if (event.target.name === "ib-cmerge-other" && !event.target.checked) {
        event.target.checked = true;
        event.target.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
      if (event.target === query && (query.value.trim() !== this.searched || !this.other)) this.search();
      else this.confirm();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.confirm();
    });
    $("[data-close]", dialog).addEventListener("click", () => dialog.close());
    // The modal already makes the page behind it inert; Tab also wraps inside the dialog
    // instead of leaving for the browser's toolbar.
    dialog.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      const focusable = $$(FOCUSABLE, dialog).filter((el) => el.offsetParent !== null && !el.closest("[hidden]"));
      if (!focusable.length) return;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    // On narrow screens the customer panel is a drawer that closes on a click outside it; a
    // click in this dialog (opened from the drawer) must not count as one.
    dialog.addEventListener("click", (event) => event.stopPropagation());
    dialog.addEventListener("close", () => {
      clearTimeout(this.timer);
      ++this.generation;
      this.error.textContent = "";
    });
  }
}

let shared = null;

// Opens the dialog for `contact`; `onMerged({contact, merged})` gets the kept contact (as the
// API returns it) and the one that was folded into it and deleted.
export function openContactMerge(contact, { onMerged }) {
  if (!shared) {
    const dialog = document.getElementById("ib-contact-merge-dialog");
    if (!dialog) return;
    shared = new ContactMergeDialog(dialog);
  }
  shared.open(contact, { onMerged });
}
