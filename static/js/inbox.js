// The agent inbox: one list of tickets (chat and email alike), the open ticket with its
// conversations, and the customer panel, kept live by the agent socket (docs/chat-protocol.md)
// and caught up over HTTP after every reconnect.
import { api, ApiError, resultsOf, withQuery } from "./inbox/api.js";
import { Composer } from "./inbox/composer.js";
import { renderCustomer, tickLocalTimes } from "./inbox/customer.js";
import { $, h, icon, isTyping, toast } from "./inbox/dom.js";
import { setAgentTimeZone, whenLabel } from "./inbox/format.js";
import { TicketListView } from "./inbox/list.js";
import { plainSubject } from "./inbox/email.js";
import { authorName } from "./inbox/messages.js";
import { askNotificationPermission, chime, notificationsState, setTitleCount, showNotification } from "./inbox/notify.js";
import { AgentSocket } from "./inbox/socket.js";
import { ThreadView } from "./inbox/thread.js";
import { TicketHeader } from "./inbox/ticket.js";
import {
  DEFAULT_FILTERS, apiParams, filtersAreDefault, filtersFromQuery, filtersToQuery, isActive, sortCompare, ticketMatches,
} from "./inbox/tickets.js";

const config = JSON.parse(document.getElementById("inbox-config").textContent);
const me = config.agent;
const urls = config.urls;
setAgentTimeZone(me.timezone);

const ACK_WAIT_MS = 8000; // then the same client_message_id goes over HTTP (stored once either way)
const TYPING_SHOWN_MS = 6000;
const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 350;

const ticketUrl = (id, rest = "") => `${urls.tickets}${id}/${rest}`;
const conversationUrl = (id, rest = "") => `${urls.conversations}${id}/${rest}`;
const ticketPath = (id) => urls.ticketPage.replace(/0\/$/, `${id}/`);
// Links keep the filters, so a ticket opened in a new tab comes with the same list.
const hrefFor = (id) => ticketPath(id) + filtersToQuery(state.filters);

// ---- State ---------------------------------------------------------------------------------
const state = {
  filters: filtersFromQuery(window.location.search),
  tickets: new Map(), // id -> summary: everything we know of
  listed: new Set(), // ids the list holds (pages fetched, or arrived live and matching)
  list: { loading: true, error: null, next: null, loadingMore: false, generation: 0, boundary: null },
  agents: new Map(),
  tags: new Set(),
  open: null, // the open ticket: {id, ticket, conversations, selectedId, loading, others}
  conv: null, // the shown conversation of the open ticket: its thread
  conversations: new Map(), // conversation id -> summary (the open ticket's, and any seen live)
  pendings: new Map(), // client_message_id -> our message on its way
  typing: new Map(), // conversation id -> Map(who -> {name, timer})
};

// ---- Elements and views --------------------------------------------------------------------
const root = $("#inbox");
const listEl = $("#ib-ticket-list");
const listEmpty = $("#ib-list-empty");
const listLoading = $("#ib-list-loading");
const listError = $("#ib-list-error");
const listMore = $("#ib-list-more");
const threadRoot = $("#ib-thread");
const placeholder = $("#ib-thread-placeholder");
const threadState = $("#ib-thread-state");
const customerRoot = $("#ib-customer-body");
const composeNotes = $("#ib-compose-notes");
const searchInput = $("#ib-q");
const live = $("#ib-live");

const listView = new TicketListView(listEl, { hrefFor, me, onOpen: (id) => openTicket(id) });
const header = new TicketHeader(threadRoot, {
  me,
  transitions: config.transitions,
  hrefFor: (id) => hrefFor(id),
  onPatch: (id, body, done) => patchTicket(id, body, done),
  onSearch: (params) => searchTickets(params),
  onMerge: (pair) => mergeTickets(pair),
  onOpenTicket: (id) => openTicket(id),
  onSelectConversation: (id) => showConversation(id),
  ticketNumber: (id) => ticketNumber(id),
});
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
const socket = new AgentSocket(urls.socket);

// ---- The list ------------------------------------------------------------------------------
function matches(ticket) {
  return ticketMatches(ticket, state.filters, me);
}

// With more pages to fetch, a ticket that sorts after the last one fetched belongs to a later
// page: it shows when that page comes, not at the end of this one.
function withinLoaded(ticket) {
  const { next, boundary } = state.list;
  if (!next || !boundary) return true;
  return sortCompare(state.filters.sort)(ticket, boundary) <= 0;
}

function listedTickets() {
  const items = [];
  for (const id of state.listed) {
    const ticket = state.tickets.get(id);
    if (ticket && matches(ticket) && withinLoaded(ticket)) items.push(ticket);
  }
  return items.sort(sortCompare(state.filters.sort));
}

function renderList() {
  const items = listedTickets();
  listView.render(items);
  const { loading, error } = state.list;
  listLoading.hidden = !(loading && !items.length);
  listError.hidden = !error || Boolean(items.length);
  listEmpty.hidden = loading || Boolean(error) || items.length > 0;
  if (!listEmpty.hidden) {
    const plain = filtersAreDefault(state.filters);
    $("h3", listEmpty).textContent = plain ? "You're all caught up" : "No tickets match these filters";
    $("p", listEmpty).textContent = plain
      ? "No active tickets. New chats and emails appear here as they arrive."
      : "Change or clear the filters to see more tickets.";
    $("#ib-clear-filters").hidden = plain;
  }
  listMore.hidden = !state.list.next || !items.length;
  listMore.disabled = state.list.loadingMore;
  updateTitle();
}

function renderFilters() {
  const f = state.filters;
  for (const button of document.querySelectorAll(".ib-view[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === f.view));
  }
  for (const select of document.querySelectorAll("select[data-filter]")) {
    const key = select.dataset.filter;
    const value = f[key] || "";
    // A value from the address that the options don't hold yet (a tag, an agent) is kept.
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(h("option", { value, text: key === "tag" ? value : `#${value}` }));
    }
    select.value = value;
    select.classList.toggle("is-set", value !== (DEFAULT_FILTERS[key] || ""));
  }
  if (document.activeElement !== searchInput) searchInput.value = f.q;
}

function syncAddress({ push = false } = {}) {
  const path = state.open ? ticketPath(state.open.id) : urls.inbox;
  const url = path + filtersToQuery(state.filters);
  if (url === window.location.pathname + window.location.search) return;
  const entry = { ticket: state.open?.id ?? null };
  if (push) history.pushState(entry, "", url);
  else history.replaceState(entry, "", url);
}

function setFilters(change) {
  const next = { ...state.filters, ...change };
  if (JSON.stringify(next) === JSON.stringify(state.filters)) return;
  state.filters = next;
  renderFilters();
  syncAddress();
  // The links in the list carry the filters.
  loadList();
}

async function loadList({ more = false } = {}) {
  if (more && (!state.list.next || state.list.loadingMore)) return;
  const generation = more ? state.list.generation : ++state.list.generation;
  const url = more ? sameOrigin(state.list.next) : withQuery(urls.tickets, { ...apiParams(state.filters), limit: PAGE_SIZE });
  if (more) state.list.loadingMore = true;
  // A fresh list forgets the old one's paging (its `next` belongs to other filters).
  else Object.assign(state.list, { loading: true, loadingMore: false, error: null, next: null, boundary: null });
  renderList();
  try {
    const data = await api.get(url);
    if (generation !== state.list.generation) return;
    const results = resultsOf(data);
    if (!more) state.listed = new Set();
    for (const ticket of results) {
      rememberTicket(ticket);
      state.listed.add(ticket.id);
    }
    state.list.next = data && !Array.isArray(data) && data.next ? data.next : null;
    if (results.length) state.list.boundary = { ...results[results.length - 1] };
    else if (!more) state.list.boundary = null;
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
  // A tall window with a short first page has nothing to scroll: fetch on until it has.
  const scroller = $("#ib-list-scroll");
  if (state.list.next && !state.list.error && scroller.scrollHeight <= scroller.clientHeight + 40) loadList({ more: true });
}

// `next` is an absolute URL on the same host; keep only its path so it never leaves the origin.
function sameOrigin(url) {
  const u = new URL(url, window.location.origin);
  return u.pathname + u.search;
}

function rememberTicket(ticket) {
  const known = state.tickets.get(ticket.id);
  const merged = { ...known, ...ticket };
  state.tickets.set(ticket.id, merged);
  for (const tag of merged.tags || []) state.tags.add(tag);
  return merged;
}

// A ticket changed (socket, or our own PATCH): the list, the header, the composer follow.
function upsertTicket(ticket) {
  if (!ticket || typeof ticket.id !== "number") return;
  const tagsBefore = state.tags.size;
  const merged = rememberTicket(ticket);
  if (matches(merged) && withinLoaded(merged)) state.listed.add(merged.id);
  renderList();
  if (state.tags.size !== tagsBefore) renderTagOptions();
  const o = state.open;
  if (o && o.id === merged.id) {
    const failingBefore = o.ticket?.requester?.email_failing;
    o.ticket = merged;
    header.render(merged);
    header.renderTabs(o.conversations, o.selectedId);
    renderComposeNotes();
    if (failingBefore !== merged.requester?.email_failing) renderCustomerPanel();
    renderThread();
  }
}

function updateTitle() {
  let unread = 0;
  for (const t of state.tickets.values()) if (isActive(t.status) && !t.merged_into) unread += Number(t.unread_count) || 0;
  setTitleCount(unread);
}

// ---- Agents and tags (assignee and tag choices) -------------------------------------------
async function loadAgents() {
  try {
    const data = await api.get(withQuery(urls.agents, { limit: 200 }));
    state.agents = new Map(resultsOf(data).filter((a) => a.is_active !== false).map((a) => [a.id, a]));
  } catch {
    return;
  }
  header.setAgents([...state.agents.values()]);
  const select = $("#ib-f-assignee");
  const agents = [...state.agents.values()].sort((a, b) => (a.id === me.id ? -1 : b.id === me.id ? 1 : a.name.localeCompare(b.name)));
  select.replaceChildren(
    h("option", { value: "", text: "Anyone" }),
    h("option", { value: "none", text: "Nobody" }),
    ...agents.map((a) => h("option", { value: String(a.id), text: a.id === me.id ? `${a.name} (you)` : a.name })),
  );
  renderFilters();
}

async function loadTags() {
  try {
    const data = await api.get(`${urls.tickets}tags/`);
    const list = Array.isArray(data) ? data : data?.tags || data?.results || [];
    for (const item of list) {
      const tag = typeof item === "string" ? item : item?.name || item?.tag;
      if (tag) state.tags.add(tag);
    }
  } catch {
    /* the tags on the tickets we hold still show */
  }
  renderTagOptions();
}

function renderTagOptions() {
  const tags = [...state.tags].sort();
  $("#ib-f-tag").replaceChildren(h("option", { value: "", text: "Tag" }), ...tags.map((tag) => h("option", { value: tag, text: tag })));
  header.setTagSuggestions(tags);
  renderFilters();
}

// ---- The open ticket -----------------------------------------------------------------------
async function openTicket(id, { push = true, conversationId = null } = {}) {
  if (!Number.isInteger(id) || id <= 0) return;
  if (state.open?.id === id && !state.open.failed) {
    root.dataset.pane = "thread";
    if (conversationId && conversationId !== state.open.selectedId) showConversation(conversationId);
    return;
  }
  const o = { id, ticket: state.tickets.get(id) || null, conversations: [], selectedId: null, loading: true, others: null };
  state.open = o;
  state.conv = null;
  if (push) syncAddress({ push: true });
  listView.select(id);
  root.dataset.pane = "thread";
  placeholder.hidden = true;
  threadRoot.hidden = false;
  thread.reset();
  composer.setConversation(null);
  header.renderTabs([], null);
  if (o.ticket) header.render(o.ticket);
  setThreadState("loading");
  customerRoot.replaceChildren(h("div", { class: "ib-cp-loading" }, h("span", { class: "ib-spinner" }), " Loading customer…"));
  try {
    const detail = await api.get(ticketUrl(id));
    if (state.open !== o) return;
    const { conversations = [], ...summary } = detail || {};
    o.ticket = rememberTicket(summary);
    o.conversations = sortConversations(conversations);
    for (const c of o.conversations) state.conversations.set(c.id, c);
    o.loading = false;
    header.render(o.ticket);
    renderList();
    const wanted = o.conversations.find((c) => c.id === conversationId) || newest(o.conversations);
    loadOtherTickets(o);
    loadConversationSubjects(o);
    if (!wanted) {
      setThreadState("empty");
      return;
    }
    await showConversation(wanted.id);
  } catch (error) {
    if (state.open !== o) return;
    o.loading = false;
    o.failed = true;
    setThreadState(error instanceof ApiError && error.status === 404 ? "missing" : "error", error.message);
    customerRoot.replaceChildren();
  }
}

function sortConversations(list) {
  return [...list].sort((a, b) => new Date(a.created_at) - new Date(b.created_at) || a.id - b.id);
}

// The conversation to show first: the one that moved last.
function newest(list) {
  return [...list].sort((a, b) => new Date(b.last_activity_at) - new Date(a.last_activity_at) || b.id - a.id)[0] || null;
}

function closeTicket({ push = true } = {}) {
  state.open = null;
  state.conv = null;
  if (push) syncAddress({ push: true });
  listView.select(null);
  composer.setConversation(null);
  threadRoot.hidden = true;
  placeholder.hidden = false;
  setThreadState(null);
  customerRoot.replaceChildren();
  root.dataset.pane = "list";
}

// Re-read the open ticket (a conversation joined or left it), keeping the shown conversation.
async function refreshOpenTicket() {
  const o = state.open;
  if (!o || o.loading) return;
  try {
    const detail = await api.get(ticketUrl(o.id));
    if (state.open !== o) return;
    const { conversations = [], ...summary } = detail || {};
    const named = new Map(o.conversations.map((c) => [c.id, c.subject]));
    o.conversations = sortConversations(conversations).map((c) => ({ subject: named.get(c.id), ...c }));
    for (const c of o.conversations) state.conversations.set(c.id, c);
    upsertTicket(summary);
    loadConversationSubjects(o);
    const still = o.conversations.some((c) => c.id === o.selectedId);
    if (!still) {
      const next = newest(o.conversations);
      if (next) showConversation(next.id);
      else setThreadState("empty");
    } else {
      header.renderTabs(o.conversations, o.selectedId);
    }
  } catch {
    /* keep what we have */
  }
}

// The tabs name an email conversation by its subject; conversations don't carry one, their
// mails do: one page of the ticket's newest messages tells it.
async function loadConversationSubjects(o) {
  const unnamed = o.conversations.filter((c) => c.channel === "email" && !c.subject);
  if (o.conversations.length < 2 || !unnamed.length) return;
  try {
    const data = await api.get(withQuery(ticketUrl(o.id, "messages/"), { limit: 50 }));
    if (state.open !== o) return;
    const subjects = new Map();
    // Oldest first: the first mail of a thread has its subject without the "Re:".
    for (const message of resultsOf(data, "messages")) {
      const subject = plainSubject(message?.email?.subject);
      if (subject && !subjects.has(message.conversation_id)) subjects.set(message.conversation_id, subject);
    }
    for (const c of unnamed) if (subjects.has(c.id)) c.subject = subjects.get(c.id);
    header.renderTabs(o.conversations, o.selectedId);
  } catch {
    /* the tabs keep their dates */
  }
}

async function loadOtherTickets(o) {
  const requester = o.ticket?.requester?.id;
  if (!requester) return;
  try {
    const data = await api.get(withQuery(urls.tickets, { requester, status: "any", limit: 10 }));
    if (state.open !== o) return;
    o.others = resultsOf(data).filter((t) => t.id !== o.id);
    for (const t of o.others) rememberTicket(t);
  } catch {
    o.others = [];
  }
  renderCustomerPanel();
}

function renderCustomerPanel() {
  const o = state.open;
  const c = state.conv;
  if (!o || !c?.detail) return;
  renderCustomer(customerRoot, c.detail, {
    prechatLabels: config.prechatLabels,
    hrefFor,
    ticket: o.ticket,
    otherTickets: o.others,
    // Requester changes send no ticket.updated: redraw the header and reload the list's names.
    onContactMerged: ({ ticket }) => {
      if (ticket) upsertTicket(ticket);
      loadList();
    },
  });
}

async function ticketNumber(id) {
  let ticket = state.tickets.get(id);
  if (!ticket) {
    const { conversations, ...summary } = (await api.get(ticketUrl(id))) || {};
    ticket = rememberTicket(summary);
  }
  return ticket.number;
}

async function searchTickets(params) {
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const data = await api.get(withQuery(urls.tickets, clean));
  return resultsOf(data).map(rememberTicket);
}

async function patchTicket(id, body, done) {
  const result = await api.patch(ticketUrl(id), body);
  // The answer is the ticket; the socket's ticket.updated says the same a moment later.
  if (result && typeof result.id === "number") {
    const { conversations, ...summary } = result;
    upsertTicket(summary);
  }
  if (done) toast(done, "success");
  return result;
}

async function mergeTickets({ source, target }) {
  const result = await api.post(ticketUrl(target.id, "merge/"), { source_id: source.id });
  if (result && typeof result.id === "number") {
    const { conversations, ...summary } = result;
    upsertTicket(summary);
  }
  upsertTicket({ ...state.tickets.get(source.id), id: source.id, merged_into: target.id, status: "closed" });
  toast(`#${source.number} was merged into #${target.number}.`, "success");
  await openTicket(target.id);
}

// ---- The shown conversation of the open ticket --------------------------------------------
function convState(id) {
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

async function showConversation(id) {
  const o = state.open;
  if (!o || !Number.isInteger(id)) return;
  if (state.conv?.id === id && !state.conv.failed) return;
  const c = convState(id);
  state.conv = c;
  o.selectedId = id;
  header.renderTabs(o.conversations, id);
  // With tabs, the thread is the selected tab's panel.
  const body = $("#ib-thread-body");
  if (o.conversations.length > 1) {
    body.setAttribute("role", "tabpanel");
    body.setAttribute("aria-labelledby", `ib-tab-${id}`);
  } else {
    body.removeAttribute("role");
    body.removeAttribute("aria-labelledby");
  }
  thread.reset();
  composer.setConversation(id);
  renderComposeNotes();
  renderTyping();
  setThreadState("loading");
  try {
    const [detail, page] = await Promise.all([api.get(conversationUrl(id)), api.get(conversationUrl(id, "messages/"))]);
    if (state.conv !== c) return;
    c.detail = detail;
    c.summary = { ...c.summary, ...summaryOf(detail) };
    state.conversations.set(id, c.summary);
    const { messages, older } = pageOf(page);
    c.unreadAfter = (c.summary.agent_unread_count || 0) > 0 ? c.summary.agent_last_read_seq ?? null : null;
    addMessages(messages, { render: false });
    c.olderAvailable = older;
    c.loading = false;
    setThreadState(null);
    renderThread();
    renderComposeNotes();
    thread.scrollToBottom();
    // The divider is where the agent left off: start there when it's above the fold.
    const divider = threadRoot.querySelector(".ib-divider-new");
    const scroller = $("#ib-messages");
    if (divider && divider.getBoundingClientRect().top < scroller.getBoundingClientRect().top) {
      divider.scrollIntoView({ block: "start" });
      thread.pinned = false;
    }
    renderCustomerPanel();
    markRead();
    fillViewport();
    // Something was stored between the two reads and its broadcast is gone: fetch it.
    const latest = state.conversations.get(id)?.last_seq ?? c.summary.last_seq;
    if (latest > maxSeq(c)) catchUp();
  } catch (error) {
    if (state.conv !== c) return;
    c.loading = false;
    c.failed = true;
    setThreadState(error instanceof ApiError && error.status === 404 ? "missing" : "error", error.message);
  }
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
    box.replaceChildren(h("div", { class: "empty" }, h("span", { class: "ib-spinner ib-spinner-lg", "aria-hidden": "true" }), h("p", { text: "Loading ticket…" })));
    return;
  }
  if (kind === "empty") {
    box.replaceChildren(h("div", { class: "empty" }, h("h3", { text: "No conversations" }), h("p", { text: "This ticket holds no conversation any more." })));
    return;
  }
  const back = h("a", { class: "btn", href: urls.inbox + filtersToQuery(state.filters) }, "Back to the inbox");
  back.addEventListener("click", (event) => {
    event.preventDefault();
    closeTicket();
  });
  const retry = h("button", { type: "button", class: "btn btn-primary" }, "Try again");
  retry.addEventListener("click", () => {
    const o = state.open;
    if (!o) return;
    // A failed ticket loads again whole; a failed conversation only itself.
    if (o.failed || !state.conv) openTicket(o.id, { push: false });
    else showConversation(state.conv.id);
  });
  box.replaceChildren(
    kind === "missing"
      ? h("div", { class: "empty" }, h("h3", { text: "Ticket not found" }), h("p", { text: "It may have been deleted, or the link is wrong." }), back)
      : h("div", { class: "empty" }, h("h3", { text: "This ticket could not be loaded" }), h("p", { text: message }), h("div", { class: "notice-actions ib-center" }, retry, back)),
  );
}

// Above the reply box: where an email reply goes, and whether that address bounces.
function renderComposeNotes() {
  const o = state.open;
  const c = state.conv;
  const notes = [];
  const summary = c ? state.conversations.get(c.id) || c.summary : null;
  const failing = o?.ticket?.requester?.email_failing;
  if (summary?.channel === "email") {
    const to = summary.contact?.email || o?.ticket?.requester?.email || "";
    notes.push(h("p", { class: "ib-compose-note ib-compose-email" }, icon("ibi-mail", "icon icon-sm"), h("span", { text: to ? `Reply by email to ${to}` : "Reply by email" })));
  }
  if (failing) {
    notes.push(h("p", { class: "ib-compose-note ib-compose-bounce", role: "note" }, icon("ibi-alert", "icon icon-sm"), h("span", { text: "Mail to this address bounced." })));
  }
  composeNotes.replaceChildren(...notes);
  composeNotes.hidden = !notes.length;
}

function maxSeq(c = state.conv) {
  let max = 0;
  if (c) for (const seq of c.messages.keys()) if (seq > max) max = seq;
  return max;
}
// The newest seq up to which we hold every message: agents see every seq (notes too), so a
// hole means something was missed (stored while the socket was down, say).
function contiguousTop(c = state.conv) {
  if (!c || !c.messages.size) return 0;
  const seqs = [...c.messages.keys()].sort((a, b) => a - b);
  let top = seqs[0];
  for (const seq of seqs) {
    if (seq > top + 1) break;
    top = seq;
  }
  return top;
}
function minSeq(c = state.conv) {
  let min = Infinity;
  if (c) for (const seq of c.messages.keys()) if (seq < min) min = seq;
  return min === Infinity ? null : min;
}

function addMessages(messages, { render = true } = {}) {
  const c = state.conv;
  if (!c) return;
  for (const message of messages) {
    if (!message || typeof message.seq !== "number") continue;
    if (message.conversation_id !== undefined && message.conversation_id !== c.id) continue;
    const known = c.messages.get(message.seq);
    // A message that comes again changed (an email's delivery state) is drawn again.
    if (known && JSON.stringify(known.email) !== JSON.stringify(message.email)) thread.forget(message.seq);
    c.messages.set(message.seq, message);
    if (message.client_message_id && state.pendings.has(message.client_message_id)) {
      clearTimeout(state.pendings.get(message.client_message_id).timer);
      state.pendings.delete(message.client_message_id);
    }
  }
  if (render) renderThread();
}

function renderThread() {
  const c = state.conv;
  if (!c || c.loading) return;
  const summary = state.conversations.get(c.id) || c.summary;
  const messages = [...c.messages.values()].sort((a, b) => a.seq - b.seq);
  const pendings = [...state.pendings.values()].filter((p) => p.conversationId === c.id);
  const wasAtBottom = thread.atBottom();
  thread.render({
    messages,
    pendings,
    contactName: contactName(),
    ticketSubject: state.open?.ticket?.subject || "",
    channel: summary?.channel || "web",
    visitorLastReadSeq: Number(summary?.visitor_last_read_seq) || 0,
    unreadAfter: c.unreadAfter,
    olderAvailable: c.olderAvailable,
    loadingOlder: c.loadingOlder,
    olderError: c.olderError,
    startedAt: summary?.created_at,
  });
  renderHoldBanner();
  if (wasAtBottom) thread.scrollToBottom();
}

function renderHoldBanner() {
  const summary = state.conv ? state.conversations.get(state.conv.id) : null;
  const banner = $("#ib-snooze-banner");
  const until = state.open?.ticket?.status === "on_hold" ? summary?.snoozed_until : null;
  banner.hidden = !until;
  if (until) $("span", banner).textContent = `On hold until ${whenLabel(until)}. It comes back to Open then.`;
}

function contactName() {
  const c = state.conv;
  const contact = (c && state.conversations.get(c.id)?.contact) || c?.detail?.contact || state.open?.ticket?.requester;
  return contact?.name || contact?.email || (contact?.id ? `Visitor ${contact.id}` : "Customer");
}

async function loadOlder(force = false) {
  const c = state.conv;
  if (!c || c.loading || !c.olderAvailable || c.loadingOlder || (c.olderError && !force)) return;
  const before = minSeq(c);
  if (before === null) return;
  c.loadingOlder = true;
  c.olderError = false;
  thread.keepPositionWhile(renderThread);
  try {
    const page = pageOf(await api.get(withQuery(conversationUrl(c.id, "messages/"), { before_seq: before })));
    if (state.conv !== c) return;
    c.olderAvailable = page.older;
    c.loadingOlder = false;
    thread.keepPositionWhile(() => addMessages(page.messages));
  } catch {
    if (state.conv !== c) return;
    c.loadingOlder = false;
    c.olderError = true;
    thread.keepPositionWhile(renderThread);
  }
  fillViewport();
}

// A short first page on a tall screen leaves nothing to scroll; fetch more until it can.
function fillViewport() {
  const c = state.conv;
  const scroller = $("#ib-messages");
  if (c && c.olderAvailable && !c.loadingOlder && scroller.scrollHeight <= scroller.clientHeight + 40) {
    loadOlder();
  }
}

// Everything after the newest seq we hold: after a reconnect, or when a seq was skipped.
async function catchUp() {
  const c = state.conv;
  if (!c || c.loading || c.catchingUp) return;
  c.catchingUp = true;
  try {
    for (let round = 0; round < 20; round += 1) {
      const after = contiguousTop(c);
      const page = pageOf(await api.get(withQuery(conversationUrl(c.id, "messages/"), { after_seq: after })));
      if (state.conv !== c) return;
      addMessages(page.messages);
      if (contiguousTop(c) === after || (!page.newer && contiguousTop(c) === maxSeq(c))) break;
    }
  } catch {
    /* the next reconnect or event tries again */
  } finally {
    c.catchingUp = false;
  }
}

async function refreshConversationDetail() {
  const c = state.conv;
  if (!c || c.loading) return;
  try {
    const detail = await api.get(conversationUrl(c.id));
    if (state.conv !== c) return;
    c.detail = detail;
    upsertConversation(summaryOf(detail));
    renderCustomerPanel();
  } catch {
    /* keep what we have */
  }
}

function upsertConversation(summary) {
  if (!summary || typeof summary.id !== "number") return;
  const known = state.conversations.get(summary.id);
  const merged = { ...known, ...summary };
  state.conversations.set(summary.id, merged);
  const o = state.open;
  if (o) {
    const index = o.conversations.findIndex((c) => c.id === summary.id);
    if (index !== -1) {
      o.conversations[index] = { ...o.conversations[index], ...merged };
      header.renderTabs(o.conversations, o.selectedId);
    }
  }
  const c = state.conv;
  if (c && c.id === summary.id) {
    c.summary = merged;
    renderThread();
    renderComposeNotes();
    // The visitor left an email or signed in: the customer panel shows more than the summary.
    const shown = c.detail?.contact;
    const now = summary.contact;
    if (shown && now && (shown.name !== now.name || shown.email !== now.email || shown.verified !== now.verified)) {
      refreshConversationDetail();
    }
  }
}

// ---- Read position -------------------------------------------------------------------------
let readTimer = null;
function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(async () => {
    const c = state.conv;
    if (!c || c.loading || document.visibilityState !== "visible") return;
    const seq = maxSeq(c);
    const s = state.conversations.get(c.id) || c.summary;
    if (!seq || !s || (seq <= (s.agent_last_read_seq || 0) && !s.agent_unread_count)) return;
    if (c.readSent === seq) return;
    c.readSent = seq;
    // Shown as read at once; the server's conversation.updated and ticket.updated confirm it.
    const unread = Number(s.agent_unread_count) || 0;
    upsertConversation({ ...s, agent_unread_count: 0, agent_last_read_seq: Math.max(seq, s.agent_last_read_seq || 0) });
    const ticket = state.open?.ticket;
    if (ticket && unread) upsertTicket({ ...ticket, unread_count: Math.max(0, (Number(ticket.unread_count) || 0) - unread) });
    try {
      upsertConversation(await api.post(conversationUrl(c.id, "read/"), { seq }));
    } catch {
      c.readSent = null;
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
    if (message && typeof message.seq === "number" && state.conv?.id === pending.conversationId) {
      addMessages([message]);
      // Messages stored before ours that we never heard of (the socket was down): fetch them.
      if (contiguousTop() < maxSeq()) catchUp();
    } else state.pendings.delete(pending.clientId);
    if (stored?.conversation) upsertConversation(stored.conversation);
    if (stored?.ticket) upsertTicket(stored.ticket);
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
    case "message.updated":
      onMessageUpdated(frame);
      break;
    case "conversation.updated":
      onConversationUpdated(frame.conversation);
      break;
    case "ticket.updated":
      upsertTicket(frame.ticket);
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

function onMessage({ conversation_id: id, message, conversation, ticket }) {
  if (conversation) upsertConversation(conversation);
  if (ticket) upsertTicket(ticket);
  const o = state.open;
  if (o && !o.loading && ticket) {
    const ours = o.conversations.some((c) => c.id === id);
    // A conversation joined the open ticket, or left it (a follow-up took it): read it again.
    if ((ticket.id === o.id && !ours) || (ticket.id !== o.id && ours)) refreshOpenTicket();
  }
  if (!message) return;
  const c = state.conv;
  const isCustomer = message.sender_kind === "customer";
  if (isCustomer) clearTyping(id, "visitor");
  else if (message.sender_kind === "agent") clearTyping(id, `agent:${message.author?.name}`);
  if (c && c.id === id && c.loading) {
    // Arrived while the first page loads: kept (by seq, so never twice) and shown with it.
    addMessages([message], { render: false });
  } else if (c && c.id === id) {
    const gap = message.seq > contiguousTop(c) + 1 && c.messages.size > 0;
    const atBottom = thread.atBottom();
    addMessages([message]);
    if (gap) catchUp();
    if (isCustomer) {
      if (!atBottom) thread.showJump();
      announce(`${authorName(message, contactName())}: ${message.body || "sent a file"}`);
      markRead();
    }
  }
  if (isCustomer && document.visibilityState === "hidden") {
    const name = ticket?.requester?.name || conversation?.contact?.name || authorName(message, "Customer");
    const ticketId = ticket?.id;
    chime();
    showNotification({
      title: `${name}${ticket ? ` · #${ticket.number}` : ""} · ${document.title.replace(/^\(\d+\+?\) /, "")}`,
      body: message.body || (message.attachments?.length ? "Sent a file" : "New message"),
      tag: ticketId ? `ticket-${ticketId}` : `conversation-${id}`,
      onClick: () => ticketId && openTicket(ticketId, { conversationId: id }),
    });
  }
}

// An email reply's delivery state moved on (queued → sent / failed): replace it in place.
function onMessageUpdated({ conversation_id: id, message }) {
  const c = state.conv;
  if (!c || c.id !== id || !message || typeof message.seq !== "number") return;
  if (!c.messages.has(message.seq) && !c.loading) return;
  thread.forget(message.seq);
  addMessages([{ ...message, conversation_id: id }], { render: !c.loading });
}

function onConversationUpdated(summary) {
  if (!summary) return;
  upsertConversation(summary);
  const c = state.conv;
  if (c && c.id === summary.id && !c.loading && summary.last_seq > maxSeq(c)) {
    // Usually the message event is on its way; fetch only if it doesn't come.
    setTimeout(() => {
      if (state.conv === c && summary.last_seq > maxSeq(c)) catchUp();
    }, 1500);
  }
}

function onAck(frame) {
  const pending = state.pendings.get(frame.client_message_id);
  if (!pending) return;
  clearTimeout(pending.timer);
  pending.state = "sent";
  const c = state.conv;
  if (c && c.id === pending.conversationId && c.messages.has(frame.seq)) {
    state.pendings.delete(pending.clientId);
  } else {
    // The broadcast of the stored message normally follows; if not, read it back.
    pending.timer = setTimeout(() => {
      if (state.pendings.has(pending.clientId)) {
        if (state.conv?.id === pending.conversationId) catchUp();
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
  if (agent.id === me.id && agent.status) showOwnStatus(agent.status);
}

function onTyping({ conversation_id: id, is_typing: typing, who }) {
  if (typeof id !== "number") return;
  let key;
  let name;
  if (who === "visitor") {
    key = "visitor";
    name = state.conversations.get(id)?.contact?.name || (state.conv?.id === id ? contactName() : "The customer");
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
  const map = state.conv ? state.typing.get(state.conv.id) : null;
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
    // What happened while we were away: the list, the open ticket and its conversation.
    loadList();
    refreshOpenTicket();
    catchUp();
    refreshConversationDetail();
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

// ---- Page wiring ---------------------------------------------------------------------------
for (const button of document.querySelectorAll(".ib-view[data-view]")) {
  button.addEventListener("click", () => setFilters({ view: button.dataset.view }));
}
for (const select of document.querySelectorAll("select[data-filter]")) {
  select.addEventListener("change", () => setFilters({ [select.dataset.filter]: select.value }));
}
let searchTimer = null;
searchInput.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setFilters({ q: searchInput.value.trim().slice(0, 200) }), SEARCH_DELAY_MS);
});
$("#ib-search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  setFilters({ q: searchInput.value.trim().slice(0, 200) });
});
searchInput.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    searchInput.blur();
  } else if (event.key === "ArrowDown") {
    event.preventDefault();
    listView.move(1);
  }
});
$("#ib-clear-filters").addEventListener("click", () => {
  searchInput.value = "";
  setFilters({ ...DEFAULT_FILTERS });
});
listMore.addEventListener("click", () => loadList({ more: true }));
$("#ib-list-retry").addEventListener("click", () => loadList());
$("#ib-list-scroll").addEventListener("scroll", (event) => {
  const el = event.currentTarget;
  if (state.list.next && !state.list.loadingMore && el.scrollHeight - el.scrollTop - el.clientHeight < 200) {
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

// The customer's other tickets open in place.
customerRoot.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-ticket-id]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  openTicket(Number(link.dataset.ticketId));
});

function ticketIdInPath() {
  const match = window.location.pathname.match(/\/tickets\/(\d+)\/?$/);
  return match ? Number(match[1]) : null;
}

window.addEventListener("popstate", () => {
  const filters = filtersFromQuery(window.location.search);
  if (JSON.stringify(filters) !== JSON.stringify(state.filters)) {
    state.filters = filters;
    renderFilters();
    loadList();
  }
  const id = ticketIdInPath();
  if (id) openTicket(id, { push: false });
  else closeTicket({ push: false });
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") markRead();
});
window.addEventListener("focus", markRead);

// j / k (or the arrows, outside text fields) move through the list, Enter opens, / searches,
// r and n jump to the reply box. Keys typed into a field are text, never shortcuts.
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey || isTyping(event.target)) return;
  if (document.querySelector("dialog[open], .menu-panel:not([hidden])")) return;
  const onPage = event.target === document.body || event.target === document.documentElement || listEl.contains(event.target);
  if (event.key === "j" || event.key === "k" || (onPage && (event.key === "ArrowDown" || event.key === "ArrowUp"))) {
    if (listEl.contains(event.target) && event.key.startsWith("Arrow")) return; // the list handles its own
    event.preventDefault();
    listView.move(event.key === "j" || event.key === "ArrowDown" ? 1 : -1);
  } else if (event.key === "/") {
    event.preventDefault();
    searchInput.focus();
    searchInput.select();
  } else if (event.key === "r" && state.conv) {
    event.preventDefault();
    composer.setMode("reply");
    composer.focus();
  } else if (event.key === "n" && state.conv) {
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
loadAgents();
loadTags();
if (config.openTicketId) {
  // /inbox/c/<id>/ redirects here with the conversation to show; the address keeps only filters.
  const wanted = Number(new URLSearchParams(window.location.search).get("conversation")) || null;
  state.open = null;
  history.replaceState({ ticket: config.openTicketId }, "", ticketPath(config.openTicketId) + filtersToQuery(state.filters));
  openTicket(config.openTicketId, { push: false, conversationId: wanted });
}
