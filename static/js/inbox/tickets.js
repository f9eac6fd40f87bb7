// Tickets as the list sees them: the filters (kept in the address bar, so a reload keeps them),
// whether a ticket matches them (live updates join or leave the list), and the sort order.

export const STATUS_LABELS = { new: "New", open: "Open", pending: "Pending", on_hold: "On hold", solved: "Solved", closed: "Closed" };
export const PRIORITY_LABELS = { low: "Low", normal: "Normal", high: "High", urgent: "Urgent" };
export const CHANNEL_LABELS = { web: "Chat", email: "Email" };
export const CHANNEL_ICONS = { web: "ibi-chat", email: "ibi-mail" };

const ACTIVE = new Set(["new", "open", "pending", "on_hold"]);
const VIEWS = ["all", "mine", "unassigned"];
const STATUSES = ["active", "new", "open", "pending", "on_hold", "solved", "closed", "any"];
const CHANNELS = ["web", "email"];
const PRIORITIES = ["low", "normal", "high", "urgent"];
const SORTS = ["-last_activity_at", "last_activity_at"];

export const DEFAULT_FILTERS = Object.freeze({
  view: "all", status: "active", channel: "", priority: "", assignee: "", tag: "", q: "", sort: "-last_activity_at",
});

// What the address bar says, with anything unknown dropped (it is typed by people, too).
export function filtersFromQuery(search) {
  const params = new URLSearchParams(search);
  const pick = (key, allowed) => (allowed.includes(params.get(key)) ? params.get(key) : DEFAULT_FILTERS[key]);
  const assignee = params.get("assignee") || "";
  const tag = (params.get("tag") || "").trim().toLowerCase().slice(0, 50);
  return {
    view: pick("view", VIEWS),
    status: pick("status", STATUSES),
    channel: pick("channel", CHANNELS),
    priority: pick("priority", PRIORITIES),
    assignee: assignee === "none" || /^[1-9]\d{0,17}$/.test(assignee) ? assignee : "",
    tag,
    q: (params.get("q") || "").trim().slice(0, 200),
    sort: pick("sort", SORTS),
  };
}

// Only what differs from the defaults goes in the address, so /inbox/ stays /inbox/.
export function filtersToQuery(filters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value && value !== DEFAULT_FILTERS[key]) params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function filtersAreDefault(filters) {
  return Object.keys(DEFAULT_FILTERS).every((key) => (filters[key] || "") === DEFAULT_FILTERS[key]);
}

// The list endpoint's parameters for these filters.
export function apiParams(filters) {
  const params = { view: filters.view, status: filters.status, sort: filters.sort };
  for (const key of ["channel", "priority", "assignee", "tag", "q"]) if (filters[key]) params[key] = filters[key];
  return params;
}

// The same rules as the server's list (helpdesk/tickets/selectors.py), for tickets that change
// while the list is shown.
export function ticketMatches(ticket, filters, me) {
  if (!ticket || ticket.merged_into) return false;
  const { view, status, channel, priority, assignee, tag, q } = filters;
  if (view === "mine" && ticket.assignee?.id !== me.id) return false;
  if (view === "unassigned" && ticket.assignee) return false;
  if (status === "active" && !ACTIVE.has(ticket.status)) return false;
  if (status !== "active" && status !== "any" && ticket.status !== status) return false;
  if (channel && !(ticket.channels || []).includes(channel)) return false;
  if (priority && ticket.priority !== priority) return false;
  if (assignee === "none" && ticket.assignee) return false;
  if (assignee && assignee !== "none" && String(ticket.assignee?.id ?? "") !== assignee) return false;
  if (tag && !(ticket.tags || []).includes(tag)) return false;
  if (q) {
    const term = q.toLowerCase();
    const number = /^#?\d+$/.test(q) ? Number(q.replace("#", "")) : null;
    const subject = (ticket.subject || "").toLowerCase().includes(term);
    const email = (ticket.requester?.email || "").toLowerCase() === term;
    if (!subject && !email && ticket.number !== number) return false;
  }
  return true;
}

export function sortCompare(sort) {
  const field = sort.replace(/^-/, "");
  const desc = sort.startsWith("-");
  return (a, b) => {
    const diff = new Date(a[field]) - new Date(b[field]) || a.id - b.id;
    return desc ? -diff : diff;
  };
}

// What a ticket is called in the list and the tabs: its subject, else what was last said.
export function ticketTitle(ticket) {
  return ticket.subject || ticket.last_message_preview || "No messages yet";
}

export function isActive(status) {
  return ACTIVE.has(status);
}
