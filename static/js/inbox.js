// The agent inbox: conversation list, open conversation and customer panel, kept live by the
// agent socket (docs/chat-protocol.md) and caught up over HTTP after every reconnect.
import { Actions } from "./inbox/actions.js";
import { api, ApiError, resultsOf, withQuery } from "./inbox/api.js";
import { Composer } from "./inbox/composer.js";
import { renderCustomer, tickLocalTimes } from "./inbox/customer.js";
import { $, h, isTyping, toast } from "./inbox/dom.js";
import { setAgentTimeZone, whenLabel } from "./inbox/format.js";
import { ConversationListView } from "./inbox/list.js";
import { authorName } from "./inbox/messages.js";
import { askNotificationPermission, chime, notificationsState, setTitleCount, showNotification } from "./inbox/notify.js";
import { AgentSocket } from "./inbox/socket.js";
import { ThreadView } from "./inbox/thread.js";

const config = JSON.parse(document.getElementById("inbox-config").textContent);
const me = config.agent;
const urls = config.urls;
setAgentTimeZone(me.timezone);

const ACK_WAIT_MS = 8000; // then the same client_message_id goes over HTTP (stored once either way)
const TYPING_SHOWN_MS = 6000;
const VIEWS = ["mine", "unassigned", "all"];
const STATUSES = ["open", "pending", "snoozed", "resolved"];
const STATUS_LABELS = { open: "Open", pending: "Pending", snoozed: "Snoozed", resolved: "Resolved" };

const conversationUrl = (id, rest = "") => `${urls.conversations}${id}/${rest}`;
const hrefFor = (id) => urls.conversationPage.replace(/0\/$/, `${id}/`);

// ---- State ---------------------------------------------------------------------------------
const stored = (() => {
  try {
    return JSON.parse(localStorage.getItem("inbox.filters") || "{}");
  } catch {
    return {};
  }
})();
const state = {
  filters: {
    view: VIEWS.includes(stored.view) ? stored.view : "all",
    status: STATUSES.includes(stored.status) ? stored.status : "open",
  },
  conversations: new Map(), // id -> summary: everything we know, the list shows what matches
  list: { loading: true, error: null, nextOffset: null, loadingMore: false, generation: 0 },
  counts: null,
  agents: new Map(),
  open: null,
  pendings: new Map(), // client_message_id -> our message on its way
  typing: new Map(), // conversation id -> Map(who -> {name, timer})
};

// ---- Elements and views --------------------------------------------------------------------
const root = $("#inbox");
const listEl = $("#ib-conv-list");
const listEmpty = $("#ib-list-empty");
const listLoading = $("#ib-list-loading");
const listError = $("#ib-list-error");
const listMore = $("#ib-list-more");
const threadRoot = $("#ib-thread");
const placeholder = $("#ib-thread-placeholder");
const threadState = $("#ib-thread-state");
const customerRoot = $("#ib-customer-body");
const live = $("#ib-live");

const listView = new ConversationListView(listEl, { hrefFor, me, onOpen: (id, options) => openConversation(id, options) });
const thread = new ThreadView(threadRoot, {
  onRetry: (clientId) => retryPending(clientId),
  onLoadOlder: (force) => loadOlder(force),
});
const composer = new Composer($("#ib-composer"), {
  cannedUrl: urls.cannedResponses,
  uploadUrl: urls.upload,
  onSend: (draft) => send(draft),
  onTyping: (conversationId, isTyping) => socket.send({ type: "typing", conversation_id: conversationId, is_typing: isTyping }),
});
const actions = new Actions(threadRoot, { me, onPatch: (id, body, done) => patchConversation(id, body, done) });
const socket = new AgentSocket(urls.socket);

// ---- Conversation list ---------------------------------------------------------------------
function matchesFilters(summary) {
  const { view, status } = state.filters;
  if (summary.status !== status) return false;
  if (view === "mine") return summary.assignee?.id === me.id;
  if (view === "unassigned") return !summary.assignee;
  return true;
}

function renderList() {
  const items = [...state.conversations.values()].filter(matchesFilters);
  listView.render(items);
  const { loading, error } = state.list;
  listLoading.hidden = !(loading && !items.length);
  listError.hidden = !error || Boolean(items.length);
  listEmpty.hidden = loading || Boolean(error) || items.length > 0;
  if (!listEmpty.hidden) {
    const { view, status } = state.filters;
    const what = { mine: "assigned to you", unassigned: "waiting for someone to pick them up", all: "" }[view];
    const title = {
      open: view === "mine" ? "Nothing assigned to you" : view === "unassigned" ? "Every conversation has an owner" : "You're all caught up",
      pending: "No pending conversations",
      snoozed: "No snoozed conversations",
      resolved: "No resolved conversations yet",
    }[status];
    $("h3", listEmpty).textContent = title;
    $("p", listEmpty).textContent = status === "open"
      ? `No open conversations ${what}`.trim() + ". New chats from your store appear here as they arrive."
      : `Conversations that are ${status}${what ? ` and ${what}` : ""} show up here.`;
  }
  listMore.hidden = state.list.nextOffset === null || !items.length;
  listMore.disabled = state.list.loadingMore;
  updateTitle();
}

function renderFilters() {
  for (const button of document.querySelectorAll(".ib-view[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === state.filters.view));
  }
  $("#ib-status").value = state.filters.status;
  for (const el of document.querySelectorAll("[data-count]")) {
    const n = state.counts?.[el.dataset.count];
    el.textContent = n === undefined || n === null ? "" : n > 999 ? "999+" : String(n);
  }
}

async function loadList({ more = false } = {}) {
  const generation = more ? state.list.generation : ++state.list.generation;
  const offset = more ? state.list.nextOffset : 0;
  if (more) state.list.loadingMore = true;
  else Object.assign(state.list, { loading: true, error: null });
  renderList();
  try {
    const data = await api.get(withQuery(urls.conversations, { view: state.filters.view, status: state.filters.status, limit: 50, offset }));
    if (generation !== state.list.generation) return;
    const results = resultsOf(data);
    if (!more) {
      // The fresh page replaces what the list showed (the open conversation stays known).
      for (const [id, s] of state.conversations) if (matchesFilters(s) && id !== state.open?.id) state.conversations.delete(id);
    }
    for (const summary of results) state.conversations.set(summary.id, summary);
    const hasNext = data && !Array.isArray(data) && data.next;
    state.list.nextOffset = hasNext ? offset + results.length : null;
    state.list.error = null;
  } catch (error) {
    if (generation !== state.list.generation) return;
    state.list.error = error;
    $("p", listError).textContent = error.message;
  } finally {
    if (generation === state.list.generation) {
      state.list.loading = false;
      state.list.loadingMore = false;
      renderList();
    }
  }
}

let countsTimer = null;
function scheduleCounts(delay = 400) {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(loadCounts, delay);
}
async function loadCounts() {
  try {
    state.counts = await api.get(withQuery(`${urls.conversations}counts/`, { status: state.filters.status }));
  } catch {
    state.counts = null;
  }
  renderFilters();
}

function setFilters(change) {
  Object.assign(state.filters, change);
  try {
    localStorage.setItem("inbox.filters", JSON.stringify(state.filters));
  } catch {
    /* private mode */
  }
  state.counts = null;
  renderFilters();
  loadList();
  loadCounts();
}

function upsertSummary(summary) {
  if (!summary || typeof summary.id !== "number") return;
  const known = state.conversations.get(summary.id);
  state.conversations.set(summary.id, { ...known, ...summary });
  renderList();
  scheduleCounts();
  if (state.open?.id === summary.id) {
    state.open.summary = { ...state.open.summary, ...summary };
    renderHeader();
    renderThread();
    // The visitor left an email or signed in: the customer panel shows more than the summary.
    const shown = state.open.detail?.contact;
    const now = summary.contact;
    if (shown && now && (shown.name !== now.name || shown.email !== now.email || shown.verified !== now.verified)) {
      refreshOpenDetail();
    }
  }
}

function updateTitle() {
  let unread = 0;
  for (const s of state.conversations.values()) if (s.status !== "resolved") unread += Number(s.agent_unread_count) || 0;
  setTitleCount(unread);
}

// ---- Open conversation ---------------------------------------------------------------------
function openState(id) {
  return {
    id,
    summary: state.conversations.get(id) || null,
    detail: null,
    messages: new Map(), // seq -> message: a replayed or repeated message lands on its own key
    olderAvailable: false,
    loadingOlder: false,
    olderError: false,
    unreadAfter: null,
    loading: true,
    catchingUp: false,
  };
}

async function openConversation(id, { push = true, focusComposer = false } = {}) {
  if (!Number.isInteger(id) || id <= 0) return;
  if (state.open?.id === id) {
    root.dataset.pane = "thread";
    if (focusComposer) composer.focus();
    return;
  }
  const o = openState(id);
  state.open = o;
  if (push) history.pushState({ conversation: id }, "", hrefFor(id));
  listView.select(id);
  root.dataset.pane = "thread";
  placeholder.hidden = true;
  threadRoot.hidden = false;
  thread.reset();
  composer.setConversation(id);
  renderHeader();
  renderTyping();
  setThreadState("loading");
  customerRoot.replaceChildren(h("div", { class: "ib-cp-loading" }, h("span", { class: "ib-spinner" }), " Loading customer…"));
  try {
    const [detail, page] = await Promise.all([api.get(conversationUrl(id)), api.get(conversationUrl(id, "messages/"))]);
    if (state.open !== o) return;
    o.detail = detail;
    o.summary = { ...o.summary, ...summaryOf(detail) };
    const { messages, older } = pageOf(page);
    o.unreadAfter = (o.summary.agent_unread_count || 0) > 0 ? o.summary.agent_last_read_seq ?? null : null;
    addMessages(messages, { render: false });
    o.olderAvailable = older;
    o.loading = false;
    setThreadState(null);
    renderHeader();
    renderThread();
    thread.scrollToBottom();
    // The divider is where the agent left off: start there when it's above the fold.
    const divider = threadRoot.querySelector(".ib-divider-new");
    const scroller = $("#ib-messages");
    if (divider && divider.getBoundingClientRect().top < scroller.getBoundingClientRect().top) {
      divider.scrollIntoView({ block: "start" });
      thread.pinned = false;
    }
    renderCustomer(customerRoot, detail, { prechatLabels: config.prechatLabels, hrefFor });
    markRead();
    if (focusComposer) composer.focus();
    fillViewport();
    // Something was stored between the two reads and its broadcast is gone: fetch it.
    const latest = state.conversations.get(id)?.last_seq ?? o.summary.last_seq;
    if (latest > maxSeq(o)) catchUp();
  } catch (error) {
    if (state.open !== o) return;
    o.loading = false;
    setThreadState(error instanceof ApiError && error.status === 404 ? "missing" : "error", error.message);
    customerRoot.replaceChildren();
  }
}

function closeConversation({ push = true } = {}) {
  if (push) history.pushState({}, "", urls.inbox);
  state.open = null;
  listView.select(null);
  composer.setConversation(null);
  threadRoot.hidden = true;
  placeholder.hidden = false;
  setThreadState(null);
  customerRoot.replaceChildren();
  root.dataset.pane = "list";
}

// The detail carries the summary's fields plus the contact's; keep the summary's shape.
function summaryOf(detail) {
  const contact = detail.contact || {};
  return {
    ...detail,
    contact: { id: contact.id, name: contact.name, email: contact.email, verified: contact.verified ?? contact.identity_verified },
  };
}

function pageOf(data) {
  const messages = resultsOf(data, "messages");
  const paged = data && !Array.isArray(data);
  return {
    messages,
    older: paged ? Boolean(data.older_available) : false,
    newer: paged ? Boolean(data.newer_available) : false,
  };
}

function setThreadState(kind, message = "") {
  const box = threadState;
  box.hidden = !kind;
  $("#ib-thread-body").hidden = Boolean(kind);
  if (!kind) return;
  if (kind === "loading") {
    box.replaceChildren(h("div", { class: "empty" }, h("span", { class: "ib-spinner ib-spinner-lg", "aria-hidden": "true" }), h("p", { text: "Loading conversation…" })));
    return;
  }
  const back = h("a", { class: "btn", href: urls.inbox }, "Back to the inbox");
  back.addEventListener("click", (event) => {
    event.preventDefault();
    closeConversation();
  });
  const retry = h("button", { type: "button", class: "btn btn-primary" }, "Try again");
  retry.addEventListener("click", () => {
    const id = state.open?.id;
    state.open = null;
    if (id) openConversation(id, { push: false });
  });
  box.replaceChildren(
    kind === "missing"
      ? h("div", { class: "empty" }, h("h3", { text: "Conversation not found" }), h("p", { text: "It may have been deleted, or the link is wrong." }), back)
      : h("div", { class: "empty" }, h("h3", { text: "This conversation could not be loaded" }), h("p", { text: message }), h("div", { class: "notice-actions ib-center" }, retry, back)),
  );
}

function maxSeq(o = state.open) {
  let max = 0;
  if (o) for (const seq of o.messages.keys()) if (seq > max) max = seq;
  return max;
}
function minSeq(o = state.open) {
  let min = Infinity;
  if (o) for (const seq of o.messages.keys()) if (seq < min) min = seq;
  return min === Infinity ? null : min;
}

function addMessages(messages, { render = true } = {}) {
  const o = state.open;
  if (!o) return;
  for (const message of messages) {
    if (!message || typeof message.seq !== "number") continue;
    if (message.conversation_id !== undefined && message.conversation_id !== o.id) continue;
    o.messages.set(message.seq, message);
    if (message.client_message_id && state.pendings.has(message.client_message_id)) {
      clearTimeout(state.pendings.get(message.client_message_id).timer);
      state.pendings.delete(message.client_message_id);
    }
  }
  if (render) renderThread();
}

function renderThread() {
  const o = state.open;
  if (!o || o.loading) return;
  const messages = [...o.messages.values()].sort((a, b) => a.seq - b.seq);
  const pendings = [...state.pendings.values()].filter((p) => p.conversationId === o.id);
  const wasAtBottom = thread.atBottom();
  thread.render({
    messages,
    pendings,
    contactName: contactName(o),
    visitorLastReadSeq: Number(o.summary?.visitor_last_read_seq) || 0,
    unreadAfter: o.unreadAfter,
    olderAvailable: o.olderAvailable,
    loadingOlder: o.loadingOlder,
    olderError: o.olderError,
    startedAt: o.summary?.created_at,
  });
  if (wasAtBottom) thread.scrollToBottom();
}

function contactName(o = state.open) {
  const c = o?.summary?.contact || o?.detail?.contact;
  return c?.name || c?.email || (c?.id ? `Visitor ${c.id}` : "Customer");
}

function renderHeader() {
  const o = state.open;
  if (!o) return;
  const s = o.summary;
  $("#ib-thread-name").textContent = s ? contactName(o) : "Loading…";
  const sub = $("#ib-thread-sub");
  if (!s) {
    sub.replaceChildren();
    return;
  }
  const parts = [h("span", { class: `ib-status ib-status-${s.status}`, text: STATUS_LABELS[s.status] || s.status })];
  if (s.status === "snoozed" && s.snoozed_until) parts.push(h("span", { text: `until ${whenLabel(s.snoozed_until)}` }));
  if (s.contact?.email && s.contact.email !== contactName(o)) parts.push(h("span", { class: "ib-sub-email", text: s.contact.email }));
  sub.replaceChildren(...parts);
  actions.update(s);
  const banner = $("#ib-snooze-banner");
  banner.hidden = s.status !== "snoozed";
  if (!banner.hidden) $("span", banner).textContent = `Snoozed until ${whenLabel(s.snoozed_until)}. It comes back to Open then, or as soon as the customer writes.`;
}

async function loadOlder(force = false) {
  const o = state.open;
  if (!o || o.loading || !o.olderAvailable || o.loadingOlder || (o.olderError && !force)) return;
  const before = minSeq(o);
  if (before === null) return;
  o.loadingOlder = true;
  o.olderError = false;
  thread.keepPositionWhile(renderThread);
  try {
    const page = pageOf(await api.get(withQuery(conversationUrl(o.id, "messages/"), { before_seq: before })));
    if (state.open !== o) return;
    o.olderAvailable = page.older;
    o.loadingOlder = false;
    thread.keepPositionWhile(() => addMessages(page.messages));
  } catch {
    if (state.open !== o) return;
    o.loadingOlder = false;
    o.olderError = true;
    thread.keepPositionWhile(renderThread);
  }
  fillViewport();
}

// A short first page on a tall screen leaves nothing to scroll; fetch more until it can.
function fillViewport() {
  const o = state.open;
  const scroller = $("#ib-messages");
  if (o && o.olderAvailable && !o.loadingOlder && scroller.scrollHeight <= scroller.clientHeight + 40) {
    loadOlder();
  }
}

// Everything after the newest seq we hold: after a reconnect, or when a seq was skipped.
async function catchUp() {
  const o = state.open;
  if (!o || o.loading || o.catchingUp) return;
  o.catchingUp = true;
  try {
    for (let round = 0; round < 20; round += 1) {
      const after = maxSeq(o);
      const page = pageOf(await api.get(withQuery(conversationUrl(o.id, "messages/"), { after_seq: after })));
      if (state.open !== o) return;
      addMessages(page.messages);
      if (!page.newer || maxSeq(o) === after) break;
    }
  } catch {
    /* the next reconnect or event tries again */
  } finally {
    o.catchingUp = false;
  }
}

async function refreshOpenDetail() {
  const o = state.open;
  if (!o || o.loading) return;
  try {
    const detail = await api.get(conversationUrl(o.id));
    if (state.open !== o) return;
    o.detail = detail;
    upsertSummary(summaryOf(detail));
    renderCustomer(customerRoot, detail, { prechatLabels: config.prechatLabels, hrefFor });
  } catch {
    /* keep what we have */
  }
}

// ---- Read position -------------------------------------------------------------------------
let readTimer = null;
function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(async () => {
    const o = state.open;
    if (!o || o.loading || document.visibilityState !== "visible") return;
    const seq = maxSeq(o);
    const s = o.summary;
    if (!seq || !s || (seq <= (s.agent_last_read_seq || 0) && !s.agent_unread_count)) return;
    if (o.readSent === seq) return;
    o.readSent = seq;
    // Shown as read at once; the server's conversation.updated confirms it.
    upsertSummary({ ...state.conversations.get(o.id), ...s, id: o.id, agent_unread_count: 0, agent_last_read_seq: Math.max(seq, s.agent_last_read_seq || 0) });
    try {
      upsertSummary(await api.post(conversationUrl(o.id, "read/"), { seq }));
    } catch {
      o.readSent = null;
    }
  }, 300);
}

// ---- Sending -------------------------------------------------------------------------------
function clientMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `a-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function send({ conversationId, body, isInternal, attachments }) {
  const clientId = clientMessageId();
  const pending = {
    clientId,
    conversationId,
    state: "sending",
    error: "",
    timer: null,
    frame: {
      type: "message.send",
      conversation_id: conversationId,
      client_message_id: clientId,
      body,
      is_internal: isInternal,
      attachments: attachments.map((a) => a.id),
    },
    message: {
      sender_kind: "agent",
      is_internal: isInternal,
      author: { name: me.name },
      body,
      created_at: new Date().toISOString(),
      attachments,
    },
  };
  state.pendings.set(clientId, pending);
  transmit(pending);
  renderThread();
  thread.scrollToBottom();
}

function transmit(pending) {
  clearTimeout(pending.timer);
  pending.state = "sending";
  pending.error = "";
  socket.send(pending.frame);
  // No ack in time (socket down, or a server without message.send): the same id over HTTP.
  pending.timer = setTimeout(() => sendOverHttp(pending), ACK_WAIT_MS);
}

async function sendOverHttp(pending) {
  if (!state.pendings.has(pending.clientId) || pending.state === "sent") return;
  const { frame } = pending;
  try {
    const stored = await api.post(conversationUrl(pending.conversationId, "messages/"), {
      body: frame.body,
      client_message_id: frame.client_message_id,
      is_internal: frame.is_internal,
      attachments: frame.attachments,
    });
    const message = stored?.message || stored;
    if (message && typeof message.seq === "number" && state.open?.id === pending.conversationId) addMessages([message]);
    else state.pendings.delete(pending.clientId);
    if (stored?.conversation) upsertSummary(stored.conversation);
  } catch (error) {
    if (!state.pendings.has(pending.clientId)) return;
    if (error.status === 0 || error.status >= 500 || error.status === 404) {
      // Offline or the server is struggling: it goes again when the socket is back.
      pending.state = "waiting";
      pending.error = "";
    } else {
      pending.state = "failed";
      pending.error = error.message;
    }
  }
  renderThread();
}

function retryPending(clientId) {
  const pending = state.pendings.get(clientId);
  if (!pending) return;
  transmit(pending);
  renderThread();
}

// ---- Socket events -------------------------------------------------------------------------
socket.addEventListener("frame", (event) => {
  const frame = event.detail;
  switch (frame.type) {
    case "message":
      onMessage(frame);
      break;
    case "conversation.updated":
      onConversationUpdated(frame.conversation);
      break;
    case "typing":
      onTyping(frame);
      break;
    case "ack":
      onAck(frame);
      break;
    case "error":
      onError(frame);
      break;
    case "agent.status":
      onAgentStatus(frame.agent);
      break;
    case "hello":
      if (frame.agent) onAgentStatus(frame.agent);
      break;
    default:
      break;
  }
});

function onMessage({ conversation_id: id, message, conversation }) {
  if (conversation) upsertSummary(conversation);
  if (!message) return;
  const o = state.open;
  const isCustomer = message.sender_kind === "customer";
  if (isCustomer) clearTyping(id, "visitor");
  else if (message.sender_kind === "agent") clearTyping(id, `agent:${message.author?.name}`);
  if (o && o.id === id && o.loading) {
    // Arrived while the first page loads: kept (by seq, so never twice) and shown with it.
    addMessages([message], { render: false });
  } else if (o && o.id === id) {
    const gap = message.seq > maxSeq(o) + 1 && o.messages.size > 0;
    const atBottom = thread.atBottom();
    addMessages([message]);
    if (gap) catchUp();
    if (isCustomer) {
      if (!atBottom) thread.showJump();
      announce(`${authorName(message, contactName(o))}: ${message.body || "sent a file"}`);
      markRead();
    }
  }
  if (isCustomer && document.visibilityState === "hidden") {
    const name = conversation?.contact?.name || authorName(message, "Customer");
    chime();
    showNotification({
      title: `${name} · ${document.title.replace(/^\(\d+\+?\) /, "")}`,
      body: message.body || (message.attachments?.length ? "Sent a file" : "New message"),
      tag: `conversation-${id}`,
      onClick: () => openConversation(id),
    });
  }
}

function onConversationUpdated(summary) {
  if (!summary) return;
  upsertSummary(summary);
  const o = state.open;
  if (o && o.id === summary.id && !o.loading && summary.last_seq > maxSeq(o)) {
    // Usually the message event is on its way; fetch only if it doesn't come.
    setTimeout(() => {
      if (state.open === o && summary.last_seq > maxSeq(o)) catchUp();
    }, 1500);
  }
}

function onAck(frame) {
  const pending = state.pendings.get(frame.client_message_id);
  if (!pending) return;
  clearTimeout(pending.timer);
  pending.state = "sent";
  const o = state.open;
  if (o && o.id === pending.conversationId && o.messages.has(frame.seq)) {
    state.pendings.delete(pending.clientId);
  } else {
    // The broadcast of the stored message normally follows; if not, read it back.
    pending.timer = setTimeout(() => {
      if (state.pendings.has(pending.clientId)) {
        if (state.open?.id === pending.conversationId) catchUp();
        else state.pendings.delete(pending.clientId);
      }
    }, 2500);
  }
  renderThread();
}

function onError(frame) {
  if (frame.client_message_id && state.pendings.has(frame.client_message_id)) {
    const pending = state.pendings.get(frame.client_message_id);
    clearTimeout(pending.timer);
    pending.state = "failed";
    pending.error = frame.code === "rate_limited" && frame.retry_after
      ? `Sending too fast; try again in ${frame.retry_after} s.`
      : frame.message || "Not sent.";
    renderThread();
    return;
  }
  if (frame.code === "unknown_type") {
    // A server without message.send: don't wait for the ack timer.
    for (const pending of state.pendings.values()) if (pending.state === "sending") sendOverHttp(pending);
  }
}

function onAgentStatus(agent) {
  if (!agent || typeof agent.id !== "number") return;
  const known = state.agents.get(agent.id);
  if (known) state.agents.set(agent.id, { ...known, ...agent });
  actions.setAgents([...state.agents.values()]);
  if (agent.id === me.id && agent.status) showOwnStatus(agent.status);
}

function onTyping({ conversation_id: id, is_typing: typing, who }) {
  if (typeof id !== "number") return;
  let key;
  let name;
  if (who === "visitor") {
    key = "visitor";
    name = state.conversations.get(id)?.contact?.name || (state.open?.id === id ? contactName() : "The customer");
  } else if (who && typeof who === "object") {
    if (who.id === me.id) return;
    key = `agent:${who.name}`;
    name = who.name || "A teammate";
  } else return;
  if (!typing) return clearTyping(id, key);
  const map = state.typing.get(id) || new Map();
  clearTimeout(map.get(key)?.timer);
  map.set(key, { name, timer: setTimeout(() => clearTyping(id, key), TYPING_SHOWN_MS) });
  state.typing.set(id, map);
  renderTyping();
}

function clearTyping(id, key) {
  const map = state.typing.get(id);
  if (!map?.has(key)) return;
  clearTimeout(map.get(key).timer);
  map.delete(key);
  renderTyping();
}

function renderTyping() {
  const map = state.open ? state.typing.get(state.open.id) : null;
  thread.setTyping(map ? [...map.values()].map((t) => t.name) : []);
}

function announce(text) {
  live.textContent = "";
  setTimeout(() => {
    live.textContent = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  }, 50);
}

// ---- Connection ----------------------------------------------------------------------------
const connEl = $("#ib-conn");
const banner = $("#ib-list-banner");
let bannerTimer = null;
socket.addEventListener("state", ({ detail }) => {
  const { state: s } = detail;
  connEl.dataset.state = s;
  const text = { connecting: "Connecting…", open: "Live", waiting: "Reconnecting…", signed_out: "Signed out" }[s] || s;
  $(".ib-conn-text", connEl).textContent = text;
  connEl.title = s === "open" ? "Connected: new messages appear as they arrive" : text;
  clearTimeout(bannerTimer);
  if (s === "open" || s === "connecting") {
    banner.hidden = true;
  } else if (s === "signed_out") {
    showBanner("Your session has ended.", "Sign in again", () => window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`));
  } else {
    // Short blips don't deserve a banner.
    bannerTimer = setTimeout(() => showBanner("Connection lost. New messages will appear when it's back.", "Retry now", () => socket.reconnectNow()), 2500);
  }
});

function showBanner(text, action, onClick) {
  const button = h("button", { type: "button", class: "btn-link" }, action);
  button.addEventListener("click", onClick);
  banner.replaceChildren(h("span", { text }), button);
  banner.hidden = false;
}

socket.addEventListener("open", ({ detail }) => {
  if (detail.reconnected) {
    // What happened while we were away: the list, the counts, the open conversation.
    loadList();
    loadCounts();
    catchUp();
    refreshOpenDetail();
  }
  for (const pending of state.pendings.values()) {
    if (pending.state === "sending" || pending.state === "waiting") transmit(pending);
  }
  renderThread();
});

// ---- The agent's own status (the header menu), without a page load -------------------------
function showOwnStatus(status) {
  for (const dot of document.querySelectorAll(".topbar .menu-trigger .presence")) {
    dot.className = `presence presence-${status}`;
    dot.title = status.charAt(0).toUpperCase() + status.slice(1);
  }
  for (const button of document.querySelectorAll(".menu-status button[name=status]")) {
    const on = button.value === status;
    button.setAttribute("aria-checked", String(on));
    button.classList.toggle("is-current", on);
  }
}
document.querySelector(".menu-status")?.addEventListener("submit", (event) => {
  const status = event.submitter?.value;
  if (!status || !socket.isOpen) return; // the form posts as usual
  event.preventDefault();
  socket.send({ type: "status", status });
  showOwnStatus(status);
  const menu = event.target.closest("[data-menu]");
  menu?.querySelector(".menu-panel")?.setAttribute("hidden", "");
  menu?.querySelector("[data-menu-trigger]")?.setAttribute("aria-expanded", "false");
});

// ---- Agents (assignment menu) --------------------------------------------------------------
async function loadAgents() {
  try {
    const data = await api.get(withQuery(urls.agents, { limit: 200 }));
    state.agents = new Map(resultsOf(data).filter((a) => a.is_active !== false).map((a) => [a.id, a]));
    actions.setAgents([...state.agents.values()]);
  } catch {
    /* the menu says so */
  }
}

async function patchConversation(id, body, done) {
  try {
    const result = await api.patch(conversationUrl(id), body);
    // The answer is the conversation's summary; the socket's conversation.updated says the same.
    if (result && typeof result.id === "number") upsertSummary(summaryOf(result));
    scheduleCounts(0);
    if (done) announceAndToast(done);
  } catch (error) {
    toast(error.message || "That didn't work. Try again.", "error");
  }
}

function announceAndToast(text) {
  toast(text, "success");
}

// ---- Page wiring ---------------------------------------------------------------------------
for (const button of document.querySelectorAll(".ib-view[data-view]")) {
  button.addEventListener("click", () => setFilters({ view: button.dataset.view }));
}
$("#ib-status").addEventListener("change", (event) => setFilters({ status: event.target.value }));
listMore.addEventListener("click", () => loadList({ more: true }));
$("#ib-list-retry").addEventListener("click", () => loadList());
$("#ib-list-scroll").addEventListener("scroll", (event) => {
  const el = event.currentTarget;
  if (state.list.nextOffset !== null && !state.list.loadingMore && el.scrollHeight - el.scrollTop - el.clientHeight < 200) {
    loadList({ more: true });
  }
}, { passive: true });

$("#ib-back").addEventListener("click", () => {
  root.dataset.pane = "list";
  listEl.querySelector('a[aria-current="true"]')?.focus();
});
const customerToggle = $("#ib-customer-toggle");
customerToggle.addEventListener("click", () => {
  const open = root.dataset.customer !== "open";
  root.dataset.customer = open ? "open" : "closed";
  customerToggle.setAttribute("aria-expanded", String(open));
  if (open) $("#ib-customer").focus();
});
function closeCustomerDrawer() {
  root.dataset.customer = "closed";
  customerToggle.setAttribute("aria-expanded", "false");
  customerToggle.focus();
}
$("#ib-customer-close").addEventListener("click", closeCustomerDrawer);
// The drawer (narrow screens) closes with Escape or a click beside it, like the sidebar.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && root.dataset.customer === "open" && !document.querySelector("dialog[open]")) {
    closeCustomerDrawer();
  }
});
document.addEventListener("click", (event) => {
  if (root.dataset.customer === "open" && !event.target.closest("#ib-customer, #ib-customer-toggle")
      && getComputedStyle($("#ib-customer")).position === "fixed") {
    closeCustomerDrawer();
  }
});

// Previous conversations in the customer panel open in place.
customerRoot.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-conversation-id]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  openConversation(Number(link.dataset.conversationId));
});

window.addEventListener("popstate", () => {
  const match = window.location.pathname.match(/\/c\/(\d+)\/?$/);
  if (match) openConversation(Number(match[1]), { push: false });
  else closeConversation({ push: false });
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") markRead();
});
window.addEventListener("focus", markRead);

// j / k (or the arrows in the list) move between conversations; r jumps to the reply box.
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey || isTyping(event.target)) return;
  if (document.querySelector("dialog[open], .menu-panel:not([hidden])")) return;
  if (event.key === "j" || event.key === "k") {
    const id = listView.neighbour(event.key === "j" ? 1 : -1);
    if (id !== null) {
      event.preventDefault();
      openConversation(id);
      listEl.querySelector(`a[data-id="${id}"]`)?.scrollIntoView({ block: "nearest" });
    }
  } else if (event.key === "r" && state.open) {
    event.preventDefault();
    composer.setMode("reply");
    composer.focus();
  } else if (event.key === "n" && state.open) {
    event.preventDefault();
    composer.setMode("note");
    composer.focus();
  }
});

// Notifications: asked for from a button, never on page load.
const notifyButton = $("#ib-notify");
function renderNotifyButton() {
  const permission = notificationsState();
  notifyButton.hidden = permission !== "default";
}
notifyButton.addEventListener("click", async () => {
  const result = await askNotificationPermission();
  renderNotifyButton();
  toast(result === "granted" ? "Notifications are on for new messages while this tab is in the background." : "Notifications stay off. You can change this in your browser's site settings.", result === "granted" ? "success" : "info");
});
renderNotifyButton();

// Relative times and the customer's clock move on by themselves.
setInterval(() => {
  listView.refreshTimes();
  tickLocalTimes(customerRoot);
}, 30_000);

// ---- Start ---------------------------------------------------------------------------------
renderFilters();
renderList();
socket.connect();
loadList();
loadCounts();
loadAgents();
if (config.openConversationId) {
  history.replaceState({ conversation: config.openConversationId }, "", hrefFor(config.openConversationId));
  openConversation(config.openConversationId, { push: false });
}
