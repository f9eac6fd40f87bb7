// The reply box: Enter sends, Shift+Enter is a new line, Reply / Internal note, attachments
// (button, paste, drop), "/shortcut" saved replies, drafts kept per conversation, and the
// throttled "agent is typing" signal.
import { api, resultsOf, withQuery } from "./api.js";
import { $, h, icon } from "./dom.js";
import { fileSize } from "./format.js";

const TYPING_EVERY_MS = 3000;
const TYPING_IDLE_MS = 4000;
const MAX_FILE_BYTES = 10 * 1024 * 1024;
const ALLOWED_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"]);
const SHORTCUT_RE = /(?:^|\s)\/([\w-]{0,40})$/;

let uploadSeq = 0;

export class Composer {
  constructor(form, { cannedUrl, uploadUrl, onSend, onTyping }) {
    this.form = form;
    this.input = $("#ib-input", form);
    this.sendButton = $("#ib-send", form);
    this.fileInput = $("#ib-file", form);
    this.uploadsEl = $("#ib-uploads", form);
    this.errorEl = $("#ib-compose-error", form);
    this.popup = $("#ib-canned", form);
    this.cannedUrl = cannedUrl;
    this.uploadUrl = uploadUrl;
    this.onSend = onSend;
    this.onTyping = onTyping;
    this.conversationId = null;
    this.drafts = new Map();
    this.uploads = [];
    this.mode = "reply";
    this.typing = { active: false, sentAt: 0, idle: null };
    this.canned = { open: false, items: [], index: 0, query: null, start: 0, timer: null, cache: new Map(), dismissed: null };

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => this.keydown(event));
    this.input.addEventListener("input", () => {
      this.autosize();
      this.typed();
      this.detectShortcut();
      this.clearError();
    });
    this.input.addEventListener("click", () => this.detectShortcut());
    // Closed when focus leaves for good (not by a click on an option, nor a quick return).
    this.input.addEventListener("blur", () => setTimeout(() => {
      if (document.activeElement !== this.input) this.closeCanned();
    }, 150));
    for (const button of form.querySelectorAll(".ib-mode [data-mode]")) {
      button.addEventListener("click", () => {
        this.setMode(button.dataset.mode);
        this.input.focus();
      });
    }
    $("#ib-attach", form).addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      this.addFiles([...this.fileInput.files]);
      this.fileInput.value = "";
    });
    this.input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (files.length) {
        event.preventDefault();
        this.addFiles(files);
      }
    });
    form.addEventListener("dragover", (event) => {
      if ([...(event.dataTransfer?.types || [])].includes("Files")) {
        event.preventDefault();
        form.classList.add("is-dropping");
      }
    });
    form.addEventListener("dragleave", () => form.classList.remove("is-dropping"));
    form.addEventListener("drop", (event) => {
      form.classList.remove("is-dropping");
      const files = [...(event.dataTransfer?.files || [])];
      if (files.length) {
        event.preventDefault();
        this.addFiles(files);
      }
    });
    this.popup.addEventListener("mousedown", (event) => {
      const option = event.target.closest("[role=option][data-index]");
      if (!option) return;
      event.preventDefault();
      this.pickCanned(Number(option.dataset.index));
    });
  }

  // ---- Conversation switching and drafts ----
  setConversation(id) {
    if (this.conversationId !== null) {
      this.stopTyping();
      this.drafts.set(this.conversationId, { text: this.input.value, uploads: this.uploads, mode: this.mode });
    }
    this.conversationId = id;
    const draft = this.drafts.get(id);
    this.input.value = draft?.text || "";
    this.uploads = draft?.uploads || [];
    this.setMode(draft?.mode || "reply");
    this.closeCanned();
    this.clearError();
    this.renderUploads();
    this.autosize();
  }

  focus() {
    this.input.focus();
  }

  setMode(mode) {
    this.mode = mode === "note" ? "note" : "reply";
    if (this.mode === "note") this.stopTyping();
    this.form.dataset.mode = this.mode;
    for (const button of this.form.querySelectorAll(".ib-mode [data-mode]")) {
      button.setAttribute("aria-pressed", String(button.dataset.mode === this.mode));
    }
    this.input.placeholder = this.mode === "note"
      ? "Write an internal note. Only your team sees it."
      : "Write a reply. Type / for saved replies.";
    this.input.setAttribute("aria-label", this.mode === "note" ? "Internal note" : "Reply to the customer");
    this.sendButton.querySelector("span").textContent = this.mode === "note" ? "Add note" : "Send";
  }

  // ---- Sending ----
  keydown(event) {
    if (this.canned.open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        const count = this.canned.items.length;
        if (count) this.highlight((this.canned.index + step + count) % count);
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && this.canned.items.length && !event.shiftKey) {
        event.preventDefault();
        this.pickCanned(this.canned.index);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.closeCanned(true);
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      this.submit();
    }
  }

  submit() {
    if (this.conversationId === null) return;
    const body = this.input.value.trim();
    if (this.uploads.some((u) => u.state === "uploading")) {
      this.showError("Wait until the files have finished uploading.");
      return;
    }
    const attachments = this.uploads.filter((u) => u.state === "done").map((u) => u.attachment);
    if (!body && !attachments.length) return;
    if (body.length > 10000) {
      this.showError(`A message can be at most 10,000 characters (this one has ${body.length.toLocaleString()}).`);
      return;
    }
    this.stopTyping();
    this.onSend({ conversationId: this.conversationId, body, isInternal: this.mode === "note", attachments });
    this.input.value = "";
    this.uploads = [];
    this.drafts.delete(this.conversationId);
    this.renderUploads();
    this.autosize();
    this.closeCanned();
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 220)}px`;
  }

  showError(text) {
    this.errorEl.textContent = text;
    this.errorEl.hidden = false;
  }

  clearError() {
    this.errorEl.textContent = "";
    this.errorEl.hidden = true;
  }

  // ---- Typing signal (replies only: a note is not the customer's business) ----
  typed() {
    if (this.mode !== "reply" || this.conversationId === null) return;
    const now = Date.now();
    if (!this.input.value.trim()) {
      this.stopTyping();
      return;
    }
    if (!this.typing.active || now - this.typing.sentAt > TYPING_EVERY_MS) {
      this.typing.active = true;
      this.typing.sentAt = now;
      this.onTyping(this.conversationId, true);
    }
    clearTimeout(this.typing.idle);
    this.typing.idle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typing.idle);
    if (this.typing.active && this.conversationId !== null) this.onTyping(this.conversationId, false);
    this.typing.active = false;
  }

  // ---- Attachments ----
  addFiles(files) {
    if (this.conversationId === null) return;
    for (const file of files) {
      const upload = { key: ++uploadSeq, name: file.name || "file", size: file.size, state: "uploading", attachment: null, error: "" };
      if (file.size > MAX_FILE_BYTES) {
        Object.assign(upload, { state: "failed", error: "Larger than 10 MB" });
      } else if (file.type && !ALLOWED_TYPES.has(file.type)) {
        Object.assign(upload, { state: "failed", error: "Only images and PDF files" });
      }
      this.uploads.push(upload);
      if (upload.state === "uploading") this.upload(upload, file, this.conversationId);
    }
    this.renderUploads();
  }

  async upload(upload, file, conversationId) {
    const form = new FormData();
    form.append("conversation_id", String(conversationId));
    form.append("file", file, file.name);
    try {
      upload.attachment = await api.upload(this.uploadUrl, form);
      upload.state = "done";
    } catch (error) {
      upload.state = "failed";
      upload.error = error.message || "Upload failed";
    }
    this.renderUploads();
  }

  renderUploads() {
    const chips = this.uploads.map((u) => {
      const remove = h("button", { type: "button", class: "ib-chip-x", "aria-label": `Remove ${u.name}` }, icon("ibi-x", "icon icon-sm"));
      remove.addEventListener("click", () => {
        this.uploads = this.uploads.filter((x) => x !== u);
        this.renderUploads();
        this.input.focus();
      });
      return h(
        "li",
        { class: `ib-chip is-${u.state}` },
        u.state === "uploading" ? h("span", { class: "ib-spinner", "aria-hidden": "true" }) : icon("ibi-file", "icon icon-sm"),
        h("span", { class: "ib-chip-name", text: u.name }),
        h("span", { class: "ib-chip-size", text: u.state === "failed" ? u.error : u.state === "uploading" ? "Uploading…" : fileSize(u.size) }),
        remove,
      );
    });
    this.uploadsEl.replaceChildren(...chips);
    this.uploadsEl.hidden = !chips.length;
  }

  // ---- Saved replies ("/shortcut") ----
  detectShortcut() {
    const caret = this.input.selectionStart;
    if (caret !== this.input.selectionEnd) return this.closeCanned();
    const before = this.input.value.slice(0, caret);
    const match = before.match(SHORTCUT_RE);
    if (!match) {
      this.canned.dismissed = null;
      return this.closeCanned();
    }
    const query = match[1];
    this.canned.start = caret - query.length - 1;
    // Escape closed the list for this "/": stay closed until another one is typed.
    if (this.canned.dismissed === this.canned.start) return;
    if (query === this.canned.query && this.canned.open) return;
    this.canned.query = query;
    clearTimeout(this.canned.timer);
    this.canned.timer = setTimeout(() => this.fetchCanned(query), 120);
  }

  async fetchCanned(query) {
    let items = this.canned.cache.get(query);
    if (!items) {
      try {
        items = resultsOf(await api.get(withQuery(this.cannedUrl, { q: query })));
      } catch {
        items = null;
      }
      if (items) this.canned.cache.set(query, items);
    }
    if (this.canned.query !== query) return; // the agent typed on
    this.showCanned(items);
  }

  showCanned(items) {
    const popup = this.popup;
    this.canned.items = (items || []).slice(0, 8);
    this.canned.index = 0;
    if (items === null) return this.closeCanned();
    const options = this.canned.items.map((item, index) =>
      h(
        "li",
        { id: `ib-canned-${index}`, role: "option", "aria-selected": index === 0 ? "true" : "false", dataset: { index } },
        h("span", { class: "ib-canned-top" }, h("span", { class: "ib-canned-key", text: `/${item.shortcut}` }), h("span", { class: "ib-canned-title", text: item.title || "" })),
        h("span", { class: "ib-canned-body", text: item.body || "" }),
      ),
    );
    if (!options.length) {
      const text = this.canned.query ? `No saved reply matches “/${this.canned.query}”.` : "No saved replies yet. Admins add them in Settings.";
      options.push(h("li", { class: "ib-canned-none", role: "presentation", text }));
    }
    popup.replaceChildren(h("li", { class: "ib-canned-head", role: "presentation", text: "Saved replies · ↑↓ to choose, Enter to insert, Esc to close" }), ...options);
    popup.hidden = false;
    this.canned.open = true;
    this.input.setAttribute("aria-activedescendant", this.canned.items.length ? "ib-canned-0" : "");
  }

  highlight(index) {
    this.canned.index = index;
    for (const option of this.popup.querySelectorAll("[role=option]")) {
      const on = Number(option.dataset.index) === index;
      option.setAttribute("aria-selected", String(on));
      if (on) option.scrollIntoView({ block: "nearest" });
    }
    this.input.setAttribute("aria-activedescendant", `ib-canned-${index}`);
  }

  pickCanned(index) {
    const item = this.canned.items[index];
    if (!item) return;
    const value = this.input.value;
    const caret = this.input.selectionStart;
    const start = this.canned.start;
    const text = String(item.body || "");
    this.input.value = value.slice(0, start) + text + value.slice(caret);
    const at = start + text.length;
    this.input.setSelectionRange(at, at);
    this.closeCanned();
    this.autosize();
    this.typed();
    this.input.focus();
  }

  closeCanned(dismiss = false) {
    clearTimeout(this.canned.timer);
    if (dismiss) this.canned.dismissed = this.canned.start;
    this.canned.query = null;
    this.canned.open = false;
    this.popup.hidden = true;
    this.popup.replaceChildren();
    this.input.removeAttribute("aria-activedescendant");
  }
}
