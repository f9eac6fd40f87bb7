// The conversation as a list of DOM nodes: day separators, grouped bubbles, attachments, "Seen".
// Nodes are kept by key and rebuilt only when what they show changed, so images already fetched
// (as blobs, with the visitor token in a header) are not fetched again on every frame.
import { dayKey, fill, formatBytes, formatDay, formatTime, initials, richText } from "./format.js";

const GROUP_GAP_MS = 5 * 60 * 1000;

const FILE_ICON =
  "M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5M9 13h6M9 17h4";

export function svgIcon(d) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.8");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

/**
 * ctx: {list, state, config, strings, lang, onRetry(cid), onDiscard(cid), onImageLoaded(),
 * onDownloadFailed()}. Returns {render()}.
 */
export function createThread(ctx) {
  const { state, config } = ctx;
  const S = ctx.strings;
  const LANG = ctx.lang;

  const nodes = new Map(); // key → {sig, node}

  function authorName(m) {
    if (m.sender_kind === "customer") return S.you;
    return m.author?.name || S.agent_fallback;
  }

  function buildItems() {
    const list = [...state.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => ({ m, status: "sent" }));
    for (const p of state.pending.values()) {
      list.push({
        m: {
          seq: null,
          client_message_id: p.cid,
          sender_kind: "customer",
          author: { name: "" },
          body: p.body,
          created_at: p.createdAt,
          attachments: p.attachments,
        },
        status: p.status,
        error: p.error,
        cid: p.cid,
      });
    }
    let lastCustomerSeq = 0;
    for (const { m } of list) if (m.sender_kind === "customer" && m.seq) lastCustomerSeq = m.seq;

    const items = [];
    if (!state.olderAvailable) items.push({ key: "greeting", kind: "greeting", sig: config.settings.greeting });
    let previousDay = null;
    list.forEach((item, index) => {
      const m = item.m;
      const when = new Date(m.created_at || Date.now());
      const day = dayKey(when);
      if (day !== previousDay) {
        items.push({ key: `day-${day}`, kind: "day", when, sig: formatDay(when, LANG) });
        previousDay = day;
      }
      const sameGroup = (a, b) =>
        a &&
        b &&
        a.m.sender_kind === b.m.sender_kind &&
        authorName(a.m) === authorName(b.m) &&
        dayKey(new Date(a.m.created_at)) === dayKey(new Date(b.m.created_at)) &&
        Math.abs(new Date(b.m.created_at) - new Date(a.m.created_at)) < GROUP_GAP_MS;
      const groupStart = !sameGroup(list[index - 1], item);
      const groupEnd = !sameGroup(item, list[index + 1]);
      const seen = m.seq && m.seq === lastCustomerSeq && state.agentReadSeq >= m.seq;
      const key = item.cid ? `c-${item.cid}` : `s-${m.seq}`;
      const sig = JSON.stringify([item.status, item.error || "", groupStart, groupEnd, seen, m.id, m.body]);
      items.push({ key, kind: "message", item, groupStart, groupEnd, seen, sig });
    });
    return items;
  }

  function avatarNode(name, url, brand = false) {
    const avatar = document.createElement("span");
    avatar.className = brand ? "avatar avatar--brand" : "avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = initials(name);
    if (url) {
      const img = document.createElement("img");
      img.alt = "";
      img.addEventListener("load", () => {
        avatar.textContent = "";
        avatar.append(img);
      });
      img.src = url;
    }
    return avatar;
  }

  function greetingNode() {
    const li = document.createElement("li");
    li.className = "msg msg--agent msg--greeting group-start";
    const author = document.createElement("div");
    author.className = "msg-author";
    author.append(avatarNode(config.workspace.name, config.workspace.logoUrl, true));
    const name = document.createElement("span");
    name.textContent = config.workspace.name;
    author.append(name);
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = config.settings.greeting;
    li.append(author, bubble);
    return li;
  }

  function dayNode(text) {
    const li = document.createElement("li");
    li.className = "day";
    li.textContent = text;
    return li;
  }

  function messageNode(entry) {
    const { item, groupStart, groupEnd, seen } = entry;
    const m = item.m;
    const mine = m.sender_kind === "customer";
    const li = document.createElement("li");
    if (m.sender_kind === "system") {
      li.className = "note";
      li.textContent = m.body;
      return li;
    }
    li.className = [
      "msg",
      mine ? "msg--customer" : "msg--agent",
      groupStart ? "group-start" : "",
      item.status === "failed" ? "msg--failed" : "",
      item.status === "sending" || item.status === "waiting" ? "msg--pending" : "",
    ]
      .filter(Boolean)
      .join(" ");

    if (mine) {
      const who = document.createElement("span");
      who.className = "sr-only";
      who.textContent = `${S.you}:`;
      li.append(who);
    } else if (groupStart) {
      const author = document.createElement("div");
      author.className = "msg-author";
      author.append(avatarNode(authorName(m), m.author?.avatar_url));
      const name = document.createElement("span");
      name.textContent = authorName(m);
      author.append(name);
      li.append(author);
    }

    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (m.body) bubble.append(richText(m.body));
    li.append(bubble);

    if (m.attachments?.length) {
      const atts = document.createElement("div");
      atts.className = "atts";
      for (const attachment of m.attachments) atts.append(attachmentNode(attachment));
      li.append(atts);
    }

    const showMeta = groupEnd || item.status === "failed" || seen;
    if (showMeta) {
      const meta = document.createElement("div");
      meta.className = "msg-meta";
      if (item.status === "sending" || item.status === "waiting") {
        meta.append(S.sending);
      } else if (item.status === "failed") {
        const failed = document.createElement("span");
        failed.className = "failed";
        failed.textContent = item.error ? `${S.not_sent} · ${item.error}` : S.not_sent;
        const retry = document.createElement("button");
        retry.type = "button";
        retry.textContent = S.retry;
        retry.addEventListener("click", () => ctx.onRetry(item.cid));
        const discard = document.createElement("button");
        discard.type = "button";
        discard.textContent = S.discard;
        discard.addEventListener("click", () => ctx.onDiscard(item.cid));
        meta.append(failed, retry, discard);
      } else {
        const time = document.createElement("time");
        const when = new Date(m.created_at);
        time.dateTime = when.toISOString();
        time.textContent = formatTime(when, LANG);
        meta.append(time);
        if (seen) {
          const mark = document.createElement("span");
          mark.className = "seen";
          mark.textContent = `· ${S.seen}`;
          meta.append(mark);
        }
      }
      li.append(meta);
    }
    return li;
  }

  function renderMessages() {
    const items = buildItems();
    const keep = new Set();
    let cursor = ctx.list.firstChild;
    for (const entry of items) {
      keep.add(entry.key);
      let cached = nodes.get(entry.key);
      if (!cached || cached.sig !== entry.sig) {
        const node =
          entry.kind === "greeting" ? greetingNode() : entry.kind === "day" ? dayNode(entry.sig) : messageNode(entry);
        if (cached) {
          if (cursor === cached.node) cursor = cursor.nextSibling;
          cached.node.remove();
        }
        cached = { sig: entry.sig, node };
        nodes.set(entry.key, cached);
      }
      if (cached.node !== cursor) ctx.list.insertBefore(cached.node, cursor);
      else cursor = cursor.nextSibling;
    }
    for (const [key, cached] of nodes) {
      if (!keep.has(key)) {
        cached.node.remove();
        nodes.delete(key);
      }
    }
  }

    // ---- attachments
  const blobs = new Map(); // attachment id → Promise<object URL>

  function attachmentBlob(attachment) {
    if (!blobs.has(attachment.id)) {
      const promise = fetch(attachment.url, {
        headers: { "X-Visitor-Token": state.token || "" },
        credentials: "omit", // the visitor's token decides, never an agent session in this browser
      }).then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.blob();
      });
      const url = promise.then((blob) => URL.createObjectURL(blob));
      url.catch(() => blobs.delete(attachment.id));
      blobs.set(attachment.id, url);
    }
    return blobs.get(attachment.id);
  }

  function attachmentNode(attachment) {
    const name = String(attachment.name || "file");
    if (String(attachment.content_type).startsWith("image/")) {
      const link = document.createElement("a");
      link.className = "att-image is-loading";
      link.target = "_blank";
      link.rel = "noopener";
      link.setAttribute("aria-label", fill(S.attachment_label, { name }));
      const img = document.createElement("img");
      img.alt = name;
      link.append(img);
      attachmentBlob(attachment)
        .then((url) => {
          img.addEventListener("load", () => {
            link.classList.remove("is-loading");
            ctx.onImageLoaded();
          });
          img.src = url;
          link.href = url;
        })
        .catch(() => {
          link.classList.remove("is-loading");
          link.classList.add("is-broken");
          link.textContent = S.image_failed;
        });
      return link;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "att-file";
    button.setAttribute("aria-label", fill(S.download, { name }));
    const text = document.createElement("span");
    text.className = "att-file-text";
    const title = document.createElement("span");
    title.className = "att-file-name";
    title.textContent = name;
    const size = document.createElement("span");
    size.className = "att-file-size";
    size.textContent = formatBytes(Number(attachment.size) || 0, LANG);
    text.append(title, size);
    button.append(svgIcon(FILE_ICON), text);
    button.addEventListener("click", () => {
      attachmentBlob(attachment)
        .then((url) => {
          const a = document.createElement("a");
          a.href = url;
          a.download = name;
          document.body.append(a);
          a.click();
          a.remove();
        })
        .catch(() => ctx.onDownloadFailed());
    });
    return button;
  }

  return { render: renderMessages };
}
