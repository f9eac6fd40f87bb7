// Where the frame keeps the visitor token and unsent messages between page views.
//
// Its own localStorage first. Browsers that block storage in third-party frames (private
// windows, strict tracking protection) deny it; then the loader keeps these few keys in the store
// page's storage for the frame and hands them back with `init` (postMessage, exact origins).
// Without either, the chat still works for this page view; it just won't survive a reload.

function probe() {
  try {
    const key = "helpdesk-widget:probe";
    window.localStorage.setItem(key, "1");
    window.localStorage.removeItem(key);
    return window.localStorage;
  } catch {
    return null;
  }
}

/** keys: the only keys kept; onParentWrite(key, value|null): ask the loader to keep one. */
export function createStore({ keys, onParentWrite }) {
  const own = probe();
  const kept = new Map();
  return {
    get(key) {
      if (own) {
        try {
          return own.getItem(key);
        } catch {
          return null;
        }
      }
      return kept.get(key) ?? null;
    },
    set(key, value) {
      const empty = value === null || value === "";
      if (own) {
        try {
          if (empty) own.removeItem(key);
          else own.setItem(key, value);
        } catch {
          /* full or revoked */
        }
        return;
      }
      if (empty) kept.delete(key);
      else kept.set(key, value);
      onParentWrite(key, empty ? null : value);
    },
    /** What the loader kept for us (ignored when our own storage works). */
    adopt(saved) {
      if (own || !saved || typeof saved !== "object") return;
      for (const key of keys) if (typeof saved[key] === "string") kept.set(key, saved[key]);
    },
  };
}
