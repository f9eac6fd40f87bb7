// The chat frame: the shopper's side of the visitor socket (docs/chat-protocol.md).
//
// Runs in an iframe on the store (or alone, opened directly). It keeps the visitor token in this
// origin's localStorage, never in a URL; it re-fetches the history on every load through `auth`;
// sends go to an outbox first and are retried with the same client_message_id until acked, so a
// dropped connection or a reload loses nothing and doubles nothing. Every text from a visitor, an
// agent or the merchant is inserted with textContent (links are built as <a> elements).
import { Connection } from "./connection.js";
import { fill, formatBytes, formatDuration, formatReplyAt } from "./format.js";
import { createStore } from "./storage.js";
import { createThread, svgIcon } from "./thread.js";

const NS = "helpdesk-widget";
const KEY_TOKEN = "helpdesk-widget:token";
const KEY_VERIFIED = "helpdesk-widget:verified";
const KEY_OUTBOX = "helpdesk-widget:outbox";
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_IDLE_MS = 4000;
const AGENT_TYPING_TIMEOUT_MS = 8000;
const FILES_MAX = 10;
const FILE_EXTENSIONS = /\.(png|jpe?g|gif|webp|pdf)$/i;

const config = JSON.parse(document.getElementById("widget-config").textContent);
const S = config.strings;
const LANG = config.lang;
const $ = (id) => document.getElementById(id);
const el = {
  widget: $("widget"),
  status: $("status"),
  statusText: $("status-text"),
  close: $("close"),
  banner: $("banner"),
  bannerText: $("banner-text"),
  reconnect: $("reconnect"),
  scroller: $("scroller"),
  older: $("older"),
  messages: $("messages"),
  typing: $("typing"),
  typingText: $("typing-text"),
  resolved: $("resolved"),
  offline: $("offline"),
  replyTime: $("reply-time"),
  emailForm: $("email-form"),
  emailInput: $("email-input"),
  emailError: $("email-error"),
  emailSaved: $("email-saved"),
  prechat: $("prechat"),
  prechatFields: $("prechat-fields"),
  prechatError: $("prechat-error"),
  prechatSubmit: $("prechat-submit"),
  alert: $("alert"),
  alertText: $("alert-text"),
  composer: $("composer"),
  files: $("files"),
  input: $("input"),
  attach: $("attach"),
  fileInput: $("file-input"),
  send: $("send"),
  unavailable: $("unavailable"),
  unavailableText: $("unavailable-text"),
  drop: $("drop"),
  live: $("live"),
};

document.documentElement.style.setProperty("--brand", config.settings.brandColor);
document.documentElement.style.setProperty("--on-brand", config.settings.onBrandColor);

// ---------------------------------------------------------------- storage
const STORED_KEYS = [KEY_TOKEN, KEY_VERIFIED, KEY_OUTBOX];
const store = createStore({
  keys: STORED_KEYS,
  onParentWrite: (key, value) => toParent({ type: "storage", key, value }),
});

function randomId(prefix) {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // available without a secure context, unlike randomUUID
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function loadOutbox() {
  try {
    const saved = JSON.parse(store.get(KEY_OUTBOX) || "[]");
    if (!Array.isArray(saved)) return [];
    return saved.filter((p) => p && typeof p.cid === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(p.cid));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- state
const state = {
  token: null,
  tokenVerified: false,
  identity: null,
  page: { url: "", title: "", referrer: "" },
  inFrame: window.parent !== window,
  parentOrigin: null,
  initialised: false,
  open: false,
  ready: false,
  everConnected: false,
  generation: 0, // +1 per successful auth; a pending send is transmitted once per generation
  unavailable: null,
  visitor: null,
  conversation: null,
  online: null,
  replyTimeMinutes: config.settings.replyTimeMinutes,
  messages: new Map(), // seq → message payload
  pending: new Map(), // client_message_id → {cid, body, attachments, status, error, createdAt}
  olderAvailable: false,
  loadingOlder: false,
  agentReadSeq: 0,
  visitorReadSeq: 0,
  agentTyping: null,
  files: [],
  prechatDone: false,
  awaiting: null, // "prechat" | "email": which form the next error or answer belongs to
  queued: [], // frames to send once authenticated (start, email)
  sessionWaiters: [],
  emailSaved: "",
  stickToBottom: true,
  lastUnread: -1,
};
/** Token and unsent messages from the last page view (read once, when storage is known). */
function restoreSaved() {
  state.token = store.get(KEY_TOKEN);
  state.tokenVerified = store.get(KEY_VERIFIED) === "1";
  for (const p of loadOutbox()) {
    state.pending.set(p.cid, {
      cid: p.cid,
      body: String(p.body || ""),
      attachments: Array.isArray(p.attachments) ? p.attachments : [],
      createdAt: p.createdAt || new Date().toISOString(),
      status: "sending",
      error: "",
      generation: -1,
    });
  }
}

function saveOutbox() {
  const keep = [...state.pending.values()]
    .filter((p) => p.status !== "failed")
    .map(({ cid, body, attachments, createdAt }) => ({ cid, body, attachments, createdAt }));
  store.set(KEY_OUTBOX, keep.length ? JSON.stringify(keep) : null);
}

function saveToken(token, verified) {
  state.token = token;
  state.tokenVerified = Boolean(verified);
  store.set(KEY_TOKEN, token);
  store.set(KEY_VERIFIED, verified ? "1" : null);
}

function clearToken() {
  state.token = null;
  state.tokenVerified = false;
  store.set(KEY_TOKEN, null);
  store.set(KEY_VERIFIED, null);
}

const maxSeq = () => {
  let max = 0;
  for (const seq of state.messages.keys()) if (seq > max) max = seq;
  return max;
};
const minSeq = () => {
  let min = Infinity;
  for (const seq of state.messages.keys()) if (seq < min) min = seq;
  return min === Infinity ? 0 : min;
};

// ---------------------------------------------------------------- socket
const socketUrl = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${config.endpoints.socket}`;

const connection = new Connection({
  url: socketUrl,
  authFrame: () => ({
    type: "auth",
    token: state.token || null,
    identity: state.identity,
    last_seq: maxSeq(),
    page: state.page,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "",
    language: navigator.language || "",
  }),
  onFrame: (frame) => handlers[frame.type]?.(frame),
  onState: (connectionState) => {
    // Closed with 4403: the page is not an allowed store (the error frame may not have come).
    if (connectionState === "refused" && !state.unavailable) becomeUnavailable(S.site_not_allowed);
    else renderChrome();
  },
});

function sendWhenReady(frame) {
  if (!connection.send(frame)) {
    state.queued.push(frame);
    connection.start();
  }
}

function transmit(p) {
  p.generation = state.generation;
  const sent = connection.send({
    type: "message.send",
    client_message_id: p.cid,
    body: p.body,
    attachments: p.attachments.map((a) => a.id),
  });
  if (!sent) {
    p.generation = -1;
    connection.start();
  }
}

function flushOutbox() {
  for (const p of state.pending.values()) {
    if (p.status === "sending" && p.generation !== state.generation) transmit(p);
  }
}

function setConversation(conversation) {
  const previous = state.conversation;
  if (previous && conversation && previous.id !== conversation.id) {
    // Another conversation than the one on screen (e.g. after signing in): start over.
    state.messages.clear();
    state.agentReadSeq = 0;
    state.visitorReadSeq = 0;
    state.olderAvailable = true;
  }
  state.conversation = conversation;
  if (conversation) {
    state.agentReadSeq = Math.max(state.agentReadSeq, conversation.agent_last_read_seq || 0);
    state.visitorReadSeq = Math.max(state.visitorReadSeq, conversation.visitor_last_read_seq || 0);
  }
  for (const waiter of state.sessionWaiters.splice(0)) {
    if (conversation) waiter.resolve();
    else state.sessionWaiters.push(waiter);
  }
}

function addMessages(list) {
  for (const m of list || []) {
    if (!m || typeof m.seq !== "number") continue;
    state.messages.set(m.seq, m);
    // An agent's reply means the team has read everything before it (the server moves its
    // read position the same way, without a separate event).
    if (m.sender_kind === "agent") state.agentReadSeq = Math.max(state.agentReadSeq, m.seq);
    if (m.client_message_id && state.pending.has(m.client_message_id)) {
      state.pending.delete(m.client_message_id);
    }
  }
  saveOutbox();
}

function tokenRefused() {
  clearToken();
  state.messages.clear();
  state.conversation = null;
  state.visitor = null;
  state.olderAvailable = false;
  connection.drop(); // reconnects and authenticates afresh, without the token
}

const handlers = {
  ready(f) {
    state.ready = true;
    state.everConnected = true;
    state.generation += 1;
    if (f.enabled === false) return becomeUnavailable(S.unavailable);
    if (f.token) saveToken(f.token, f.visitor?.verified);
    else if (state.token) clearToken(); // the token no longer names anyone
    state.visitor = f.visitor || null;
    state.online = Boolean(f.online);
    if (typeof f.reply_time_minutes === "number") state.replyTimeMinutes = f.reply_time_minutes;
    setConversation(f.conversation || null);
    if (f.conversation && state.awaiting === "prechat") {
      // The visitor turned out to have a conversation already (or the form's `start` went
      // through just before the connection dropped): the form is done.
      state.awaiting = null;
      state.prechatDone = true;
    }
    // A form sent on a connection that dropped before its answer: send it again (both are
    // idempotent on the server).
    const queuedTypes = new Set(state.queued.map((q) => q.type));
    if (state.awaiting === "prechat" && !queuedTypes.has("start")) {
      state.queued.push({ type: "start", prechat: state.prechatAnswers });
    } else if (state.awaiting === "email" && !queuedTypes.has("email")) {
      state.queued.push({ type: "email", email: state.pendingEmail });
    }
    for (const frame of state.queued.splice(0)) connection.send(frame);
    // Without a conversation no `messages` follows; with one, the outbox goes after it.
    if (!f.conversation) flushOutbox();
    render();
  },
  session(f) {
    if (f.token) saveToken(f.token, state.visitor?.verified);
    setConversation(f.conversation || null);
    if (state.awaiting === "prechat") {
      const answers = state.prechatAnswers || {};
      state.visitor = {
        ...(state.visitor || {}),
        name: answers.name || state.visitor?.name || "",
        email: answers.email || state.visitor?.email || "",
      };
      state.awaiting = null;
      state.prechatDone = true;
      el.prechatSubmit.disabled = false;
      render();
      focusComposer();
    }
    flushOutbox();
    render();
  },
  messages(f) {
    if (f.mode === "latest") {
      state.messages.clear();
      state.olderAvailable = Boolean(f.older_available);
    } else if (!state.messages.size) {
      state.olderAvailable = Boolean(f.older_available);
    }
    addMessages(f.messages);
    flushOutbox();
    state.stickToBottom = true;
    render();
    markRead();
  },
  history(f) {
    state.loadingOlder = false;
    state.olderAvailable = Boolean(f.older_available);
    const before = el.scroller.scrollHeight - el.scroller.scrollTop;
    addMessages(f.messages);
    render({ keepBottom: false });
    // Keep the message the visitor was looking at in place as older ones appear above it.
    el.scroller.scrollTop = el.scroller.scrollHeight - before;
  },
  message(f) {
    const m = f.message;
    if (!m) return;
    if (f.conversation) setConversation({ ...state.conversation, ...f.conversation });
    const isNew = !state.messages.has(m.seq);
    addMessages([m]);
    if (m.sender_kind !== "customer" && isNew) {
      state.agentTyping = null;
      announce(m);
    }
    render();
    markRead();
  },
  ack(f) {
    // A stored message can reopen the conversation; other tabs hear it from its `message`.
    if (f.conversation) setConversation({ ...state.conversation, ...f.conversation });
    const p = state.pending.get(f.client_message_id);
    if (!p) return;
    state.pending.delete(p.cid);
    if (!state.messages.has(f.seq)) {
      // The broadcast copy may come later (or never, for a retry of a stored message).
      state.messages.set(f.seq, {
        id: f.message_id,
        seq: f.seq,
        client_message_id: p.cid,
        sender_kind: "customer",
        author: { name: state.visitor?.name || "" },
        body: p.body,
        created_at: p.createdAt,
        attachments: p.attachments,
      });
    }
    saveOutbox();
    render();
  },
  typing(f) {
    clearTimeout(state.agentTypingTimer);
    state.agentTyping = f.is_typing ? f.agent?.name || S.agent_fallback : null;
    if (state.agentTyping) {
      state.agentTypingTimer = setTimeout(() => {
        state.agentTyping = null;
        render();
      }, AGENT_TYPING_TIMEOUT_MS);
    }
    render();
  },
  read(f) {
    state.agentReadSeq = Math.max(state.agentReadSeq, Number(f.agent_last_read_seq) || 0);
    render();
  },
  conversation(f) {
    if (f.conversation) setConversation({ ...state.conversation, ...f.conversation });
    render();
  },
  presence(f) {
    state.online = Boolean(f.online);
    render();
  },
  "email.saved"() {
    if (state.awaiting === "email") state.awaiting = null;
    state.emailSaved = state.pendingEmail || "";
    if (state.visitor) state.visitor = { ...state.visitor, email: state.emailSaved };
    render();
  },
  error(f) {
    onError(f);
  },
  pong() {},
};

const LOCAL_ERRORS = {
  too_long: () => fill(S.message_too_long, { max: config.limits.messageChars.toLocaleString(LANG) }),
  too_large: () => fill(S.message_too_long, { max: config.limits.messageChars.toLocaleString(LANG) }),
  file_too_large: () => fill(S.file_too_large, { size: formatBytes(config.limits.fileBytes, LANG) }),
  file_type: () => S.file_type,
  invalid_email: () => S.email_invalid,
  email_required: () => S.field_required,
  field_required: () => S.field_required,
  widget_disabled: () => S.unavailable,
  origin_not_allowed: () => S.site_not_allowed,
};

/** The server's own words in English (they say exactly what is wrong), else our translation. */
function errorText(code, serverMessage, fallback) {
  if (LANG === "en" && serverMessage) return serverMessage;
  const local = LOCAL_ERRORS[code];
  return local ? local() : fallback || serverMessage || S.send_failed;
}

function onError(f) {
  const pending = f.client_message_id ? state.pending.get(f.client_message_id) : null;
  switch (f.code) {
    case "rate_limited": {
      const seconds = Math.max(1, Math.ceil(Number(f.retry_after) || 5));
      showAlert(S.rate_limited, seconds);
      if (pending) {
        pending.status = "waiting";
        setTimeout(() => {
          if (state.pending.get(pending.cid) !== pending || pending.status !== "waiting") return;
          pending.status = "sending";
          transmit(pending);
          render();
        }, seconds * 1000 + 250);
      }
      break;
    }
    case "not_authenticated":
      tokenRefused();
      break;
    case "identity_rejected":
      // For the store's developer: the signed identity was ignored, the chat goes on anonymously.
      console.warn(`Helpdesk chat: the shopper identity was not accepted (${f.message}).`);
      break;
    case "origin_not_allowed":
      becomeUnavailable(S.site_not_allowed);
      break;
    case "widget_disabled":
      becomeUnavailable(S.unavailable);
      break;
    default: {
      const text = errorText(f.code, f.message, S.send_failed);
      if (pending) {
        pending.status = "failed";
        pending.error = text;
        saveOutbox();
      } else if (state.awaiting === "prechat") {
        state.awaiting = null;
        el.prechatError.textContent = text;
        el.prechatError.hidden = false;
        el.prechatSubmit.disabled = false;
      } else if (state.awaiting === "email") {
        state.awaiting = null;
        el.emailError.textContent = text;
        el.emailError.hidden = false;
        el.emailInput.setAttribute("aria-invalid", "true");
      } else if (state.sessionWaiters.length) {
        for (const waiter of state.sessionWaiters.splice(0)) waiter.reject({ message: text });
      } else if (["bad_json", "bad_message", "unknown_type"].includes(f.code)) {
        console.warn(`Helpdesk chat: ${f.code}: ${f.message}`);
      } else {
        showAlert(text);
      }
    }
  }
  render();
}

function becomeUnavailable(text) {
  state.unavailable = text;
  connection.stop("refused");
  render();
}

// ---------------------------------------------------------------- reading and unread
const visible = () => document.visibilityState === "visible";

function markRead() {
  if (!state.open || !visible() || !state.conversation) return;
  const seq = maxSeq();
  if (seq <= state.visitorReadSeq) return;
  if (connection.send({ type: "read", seq })) state.visitorReadSeq = seq;
  postUnread();
}

function unreadMessages() {
  return [...state.messages.values()].filter(
    (m) => m.sender_kind !== "customer" && m.sender_kind !== "system" && m.seq > state.visitorReadSeq,
  );
}

function previewText(m) {
  const text = String(m.body || "").trim();
  if (text) return text.length > 160 ? `${text.slice(0, 160)}…` : text;
  return (m.attachments || []).map((a) => `📎 ${a.name}`).join(", ");
}

function postUnread() {
  const unread = unreadMessages();
  const count = state.open && visible() ? 0 : unread.length;
  if (count === state.lastUnread) return;
  state.lastUnread = count;
  const last = unread[unread.length - 1];
  toParent({
    type: "unread",
    count,
    preview: last ? { name: last.author?.name || S.agent_fallback, text: previewText(last) } : null,
  });
}

function announce(m) {
  // Cleared first so the same text twice is still read out.
  el.live.textContent = "";
  const name = m.author?.name || S.agent_fallback;
  setTimeout(() => {
    el.live.textContent = fill(S.new_message_from, { name, text: previewText(m) });
  }, 50);
}

// ---------------------------------------------------------------- rendering: the thread
const thread = createThread({
  list: el.messages,
  state,
  config,
  strings: S,
  lang: LANG,
  onRetry: (cid) => retrySend(cid),
  onDiscard: (cid) => {
    state.pending.delete(cid);
    saveOutbox();
    render();
    el.input.focus();
  },
  onImageLoaded: () => {
    if (state.stickToBottom) scrollToBottom();
  },
  onDownloadFailed: () => showAlert(S.upload_failed),
});

// ---------------------------------------------------------------- rendering: the rest
function prechatFieldSpecs() {
  const specs = [];
  const visitor = state.visitor || {};
  if (config.settings.askName && !visitor.name) {
    specs.push({ key: "name", label: S.name_label, required: false, type: "text", autocomplete: "name" });
  }
  if (config.settings.askEmail !== "off" && !visitor.email) {
    specs.push({
      key: "email",
      label: S.email_label,
      required: config.settings.askEmail === "required",
      type: "email",
      autocomplete: "email",
    });
  }
  for (const field of config.settings.customFields) {
    specs.push({ key: `field:${field.key}`, label: field.label, required: field.required, type: "text" });
  }
  return specs;
}

function knownToHaveNoConversation() {
  if (state.ready) return !state.conversation;
  return !state.token && !state.identity;
}

function needsPrechat() {
  return knownToHaveNoConversation() && !state.prechatDone && prechatFieldSpecs().length > 0;
}

let prechatBuiltFor = "";
function renderPrechat(show) {
  el.prechat.hidden = !show;
  if (!show) return;
  const specs = prechatFieldSpecs();
  const signature = JSON.stringify(specs.map((s) => s.key));
  if (signature === prechatBuiltFor) return;
  prechatBuiltFor = signature;
  el.prechatFields.replaceChildren();
  for (const spec of specs) {
    const id = `pc-${spec.key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const wrap = document.createElement("div");
    wrap.className = "field";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = spec.label;
    if (!spec.required) {
      const optional = document.createElement("span");
      optional.className = "optional";
      optional.textContent = ` (${S.optional})`;
      label.append(optional);
    }
    const input = document.createElement("input");
    input.id = id;
    input.type = spec.type;
    input.name = spec.key;
    input.maxLength = spec.type === "email" ? 254 : spec.key === "name" ? 200 : 500;
    input.required = spec.required;
    if (spec.autocomplete) input.autocomplete = spec.autocomplete;
    const error = document.createElement("p");
    error.className = "field-error";
    error.id = `${id}-error`;
    error.hidden = true;
    input.setAttribute("aria-describedby", error.id);
    wrap.append(label, input, error);
    el.prechatFields.append(wrap);
  }
}

function renderOffline() {
  const show = state.ready && state.online === false && !state.unavailable;
  el.offline.hidden = !show;
  if (!show) return;
  const minutes = state.replyTimeMinutes;
  el.replyTime.textContent = fill(S.reply_time, {
    duration: formatDuration(minutes, LANG),
    time: formatReplyAt(minutes, LANG),
  });
  const email = state.emailSaved || state.visitor?.email || "";
  el.emailForm.hidden = Boolean(email) || needsPrechat();
  // Once they have written, tell them where the answer will go.
  const confirm = Boolean(email) && (Boolean(state.emailSaved) || Boolean(state.conversation));
  el.emailSaved.hidden = !confirm;
  if (confirm) el.emailSaved.textContent = fill(S.email_saved, { email });
}

function renderChrome() {
  const conn = connection.state;
  el.widget.dataset.connection = conn;
  // Header status line.
  el.status.hidden = conn === "idle" && !state.ready;
  el.widget.classList.toggle("is-online", Boolean(state.online) && conn === "open");
  el.statusText.textContent = !state.ready
    ? S.connecting
    : state.online
      ? S.online
      : S.offline;
  // The banner only after the first connection was lost, or a first one keeps failing.
  const lost = conn === "reconnecting";
  el.banner.hidden = !lost || Boolean(state.unavailable);
  el.bannerText.textContent = S.connection_lost;
}

function renderFiles() {
  el.files.replaceChildren();
  el.files.hidden = state.files.length === 0;
  for (const entry of state.files) {
    const li = document.createElement("li");
    li.className = entry.status === "error" ? "file-chip is-error" : "file-chip";
    const name = document.createElement("span");
    name.className = "file-chip-name";
    name.textContent = entry.name;
    li.append(name);
    if (entry.status === "uploading") {
      const busy = document.createElement("span");
      busy.className = "file-chip-state";
      busy.textContent = S.uploading;
      li.append(busy);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.setAttribute("aria-label", fill(S.remove_file, { name: entry.name }));
    remove.append(svgIcon("M6 6l12 12M18 6L6 18"));
    remove.addEventListener("click", () => {
      state.files = state.files.filter((f) => f !== entry);
      renderFiles();
      el.input.focus();
    });
    li.append(remove);
    el.files.append(li);
  }
  updateSendButton();
}

function updateSendButton() {
  const uploading = state.files.some((f) => f.status === "uploading");
  const ready = state.files.some((f) => f.status === "done");
  el.send.disabled = uploading || (!el.input.value.trim() && !ready) || Boolean(state.unavailable);
}

function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
}

function render({ keepBottom = true } = {}) {
  const stick = keepBottom && state.stickToBottom;
  if (state.unavailable) {
    el.unavailableText.textContent = state.unavailable;
    el.unavailable.hidden = false;
    el.scroller.hidden = true;
    el.composer.hidden = true;
    el.alert.hidden = true;
    renderChrome();
    return;
  }
  thread.render();
  const prechat = needsPrechat();
  renderPrechat(prechat);
  renderOffline();
  el.composer.hidden = prechat;
  el.older.hidden = !state.loadingOlder;
  el.typing.hidden = !state.agentTyping;
  if (state.agentTyping) el.typingText.textContent = fill(S.typing, { name: state.agentTyping });
  el.resolved.hidden = state.conversation?.status !== "resolved";
  renderChrome();
  updateSendButton();
  if (stick) scrollToBottom();
  postUnread();
  maybeLoadOlder();
}

function maybeLoadOlder() {
  const nearTop = el.scroller.scrollTop < 80;
  if (!nearTop || !state.olderAvailable || state.loadingOlder || !state.messages.size) return;
  if (!connection.send({ type: "history", before_seq: minSeq() })) return;
  state.loadingOlder = true;
  el.older.hidden = false;
}

// ---------------------------------------------------------------- alerts
let alertTimer = null;
function showAlert(template, seconds = 0) {
  clearInterval(alertTimer);
  let left = seconds;
  const paint = () => {
    el.alertText.textContent = fill(template, { seconds: left });
  };
  paint();
  el.alert.hidden = false;
  if (seconds > 0) {
    alertTimer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(alertTimer);
        el.alert.hidden = true;
      } else paint();
    }, 1000);
  } else {
    alertTimer = setTimeout(() => {
      el.alert.hidden = true;
    }, 8000);
  }
}

// ---------------------------------------------------------------- sending
function sendMessage() {
  const body = el.input.value.trim();
  const ready = state.files.filter((f) => f.status === "done");
  if (state.files.some((f) => f.status === "uploading")) return;
  if (!body && !ready.length) return;
  if (body.length > config.limits.messageChars) {
    showAlert(fill(S.message_too_long, { max: config.limits.messageChars.toLocaleString(LANG) }));
    return;
  }
  const p = {
    cid: randomId("v-"),
    body,
    attachments: ready.map((f) => f.attachment),
    createdAt: new Date().toISOString(),
    status: "sending",
    error: "",
    generation: -1,
  };
  state.pending.set(p.cid, p);
  saveOutbox();
  el.input.value = "";
  autosize();
  state.files = state.files.filter((f) => f.status === "error");
  renderFiles();
  stopTyping();
  state.stickToBottom = true;
  transmit(p);
  render();
}

function retrySend(cid) {
  const p = state.pending.get(cid);
  if (!p) return;
  p.status = "sending";
  p.error = "";
  p.generation = -1;
  saveOutbox();
  transmit(p);
  render();
}

let typingSentAt = 0;
let typingTimer = null;
function onTyping() {
  if (!state.conversation) return;
  clearTimeout(typingTimer);
  if (!el.input.value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (now - typingSentAt > TYPING_SEND_EVERY_MS) {
    if (connection.send({ type: "typing", is_typing: true })) typingSentAt = now;
  }
  typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(typingTimer);
  if (typingSentAt) connection.send({ type: "typing", is_typing: false });
  typingSentAt = 0;
}

function autosize() {
  el.input.style.height = "auto";
  el.input.style.height = `${Math.min(el.input.scrollHeight, 132)}px`;
}

/** Resolves once the visitor has a conversation (uploads need one); starts it if needed. */
function ensureConversation() {
  if (state.conversation && state.token) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject({ message: S.upload_failed }), 15_000);
    state.sessionWaiters.push({
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    if (state.ready && !state.conversation) sendWhenReady({ type: "start", prechat: null });
    else if (!state.ready) {
      // After `ready` tells whether a conversation exists, start one if it doesn't.
      state.queued.push({ type: "start", prechat: null });
      connection.start();
    }
  });
}

function acceptable(file) {
  const type = file.type || "";
  return config.limits.fileTypes.includes(type) || (!type && FILE_EXTENSIONS.test(file.name));
}

function addFiles(list) {
  for (const file of Array.from(list || [])) {
    if (state.files.length >= FILES_MAX) break;
    if (!acceptable(file)) {
      showAlert(S.file_type);
      continue;
    }
    if (file.size > config.limits.fileBytes) {
      showAlert(fill(S.file_too_large, { size: formatBytes(config.limits.fileBytes, LANG) }));
      continue;
    }
    const entry = { file, name: file.name || "file", status: "uploading", attachment: null };
    state.files.push(entry);
    upload(entry);
  }
  renderFiles();
}

async function upload(entry) {
  try {
    await ensureConversation();
    const form = new FormData();
    form.append("file", entry.file, entry.name);
    const response = await fetch(config.endpoints.upload, {
      method: "POST",
      headers: { "X-Visitor-Token": state.token || "" },
      body: form,
      credentials: "omit",
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data?.error || {};
      if (response.status === 401) tokenRefused();
      throw { code: error.code, message: error.message, retryAfter: error.retry_after };
    }
    entry.attachment = data;
    entry.status = "done";
  } catch (error) {
    entry.status = "error";
    if (error?.code === "rate_limited") {
      showAlert(S.rate_limited, Math.max(1, Math.ceil(Number(error.retryAfter) || 5)));
    } else {
      showAlert(errorText(error?.code, error?.message, S.upload_failed));
    }
  }
  if (state.files.includes(entry)) renderFiles();
}

// ---------------------------------------------------------------- forms
function submitPrechat(event) {
  event.preventDefault();
  el.prechatError.hidden = true;
  const prechat = { name: "", email: "", fields: {} };
  let firstInvalid = null;
  for (const input of el.prechatFields.querySelectorAll("input")) {
    const value = input.value.trim();
    const error = document.getElementById(`${input.id}-error`);
    let message = "";
    if (input.required && !value) message = S.field_required;
    else if (input.type === "email" && value && !input.checkValidity()) message = S.email_invalid;
    error.textContent = message;
    error.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
    if (message && !firstInvalid) firstInvalid = input;
    if (input.name === "name") prechat.name = value;
    else if (input.name === "email") prechat.email = value;
    else if (value) prechat.fields[input.name.slice("field:".length)] = value;
  }
  if (firstInvalid) {
    firstInvalid.focus();
    return;
  }
  state.awaiting = "prechat";
  state.prechatAnswers = prechat;
  el.prechatSubmit.disabled = true;
  sendWhenReady({ type: "start", prechat });
}

function submitEmail(event) {
  event.preventDefault();
  const value = el.emailInput.value.trim();
  if (!value || !el.emailInput.checkValidity()) {
    el.emailError.textContent = S.email_invalid;
    el.emailError.hidden = false;
    el.emailInput.setAttribute("aria-invalid", "true");
    el.emailInput.focus();
    return;
  }
  el.emailError.hidden = true;
  el.emailInput.setAttribute("aria-invalid", "false");
  state.awaiting = "email";
  state.pendingEmail = value;
  sendWhenReady({ type: "email", email: value });
}

// ---------------------------------------------------------------- the loader (parent page)
function toParent(message) {
  if (state.inFrame && state.parentOrigin) {
    window.parent.postMessage({ ...message, ns: NS }, state.parentOrigin);
  }
}

const coarsePointer = window.matchMedia("(pointer: coarse)");
function focusComposer() {
  if (!state.open) return;
  // On phones, focusing the text box pops the keyboard over the conversation; land on the
  // conversation instead and let the shopper tap the box.
  if (coarsePointer.matches) {
    el.scroller.focus({ preventScroll: true });
    return;
  }
  if (!el.prechat.hidden) el.prechat.querySelector("input")?.focus({ preventScroll: true });
  else if (!el.composer.hidden) el.input.focus({ preventScroll: true });
}

function setOpen(open, focus) {
  state.open = open;
  if (open) {
    connection.start();
    render();
    markRead();
    if (focus) focusComposer();
  } else {
    stopTyping();
    postUnread();
  }
}

function clip(value, limit) {
  return typeof value === "string" ? value.slice(0, limit) : "";
}

function onParentMessage(event) {
  if (!state.inFrame || event.source !== window.parent) return;
  const data = event.data;
  if (!data || typeof data !== "object" || data.ns !== NS) return;
  if (state.parentOrigin && event.origin !== state.parentOrigin) return;
  if (data.type === "init" && !state.initialised) {
    state.initialised = true;
    state.parentOrigin = event.origin;
    store.adopt(data.storage);
    restoreSaved();
    const page = data.page || {};
    state.page = { url: clip(page.url, 2000), title: clip(page.title, 300), referrer: clip(page.referrer, 2000) };
    state.identity = data.identity && typeof data.identity === "object" ? data.identity : null;
    // A token of a signed-in shopper, on a page where nobody is signed in any more (they
    // signed out, or someone else uses this computer): don't show them that history.
    if (!state.identity && state.tokenVerified) {
      clearToken();
      state.pending.clear();
      saveOutbox();
    }
    state.open = Boolean(data.open);
    // Connect now only if there is something to show (history, unread replies); a shopper who
    // never opens the chat costs no socket.
    if (state.token || state.identity || state.open || state.pending.size) connection.start();
    render();
    state.lastUnread = -1;
    postUnread();
  } else if (data.type === "open") {
    setOpen(true, Boolean(data.focus));
  } else if (data.type === "close") {
    setOpen(false);
  }
}

// ---------------------------------------------------------------- events
el.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
});
el.input.addEventListener("keydown", (event) => {
  // Enter sends, Shift+Enter is a new line; never while an IME is composing (Japanese, Chinese).
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    sendMessage();
  }
});
el.input.addEventListener("input", () => {
  autosize();
  updateSendButton();
  onTyping();
});
el.input.addEventListener("blur", stopTyping);
el.input.addEventListener("paste", (event) => {
  const files = event.clipboardData?.files;
  if (files && files.length) {
    event.preventDefault();
    addFiles(files);
  }
});
el.input.maxLength = config.limits.messageChars;
el.fileInput.accept = config.limits.fileTypes.join(",");
el.attach.addEventListener("click", () => el.fileInput.click());
el.fileInput.addEventListener("change", () => {
  addFiles(el.fileInput.files);
  el.fileInput.value = "";
  el.input.focus();
});
el.prechat.addEventListener("submit", submitPrechat);
el.emailForm.addEventListener("submit", submitEmail);
el.close.addEventListener("click", () => toParent({ type: "close" }));
el.reconnect.addEventListener("click", () => connection.reconnectNow());
el.scroller.addEventListener(
  "scroll",
  () => {
    const distance = el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight;
    state.stickToBottom = distance < 60;
    maybeLoadOlder();
  },
  { passive: true },
);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.inFrame) toParent({ type: "close" });
});
document.addEventListener("visibilitychange", () => {
  markRead();
  postUnread();
});

let dragDepth = 0;
const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
document.addEventListener("dragenter", (event) => {
  if (!carriesFiles(event) || el.composer.hidden) return;
  event.preventDefault();
  dragDepth += 1;
  el.drop.hidden = false;
});
document.addEventListener("dragover", (event) => {
  if (!carriesFiles(event) || el.composer.hidden) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
});
document.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) el.drop.hidden = true;
});
document.addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  el.drop.hidden = true;
  if (!el.composer.hidden) addFiles(event.dataTransfer.files);
});

// ---------------------------------------------------------------- start
if (state.inFrame) {
  window.addEventListener("message", onParentMessage);
  // Carries nothing, so any origin may hear it; the loader answers with `init` to our origin.
  window.parent.postMessage({ ns: NS, type: "ready" }, "*");
} else {
  // Opened directly (a merchant trying the link): the page is its own store.
  el.widget.classList.add("standalone");
  state.initialised = true;
  restoreSaved();
  state.open = true;
  state.page = { url: location.href, title: document.title, referrer: document.referrer };
  connection.start();
}
render();
focusComposer();
