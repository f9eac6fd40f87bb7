// JSON over HTTP with the session cookie and the CSRF header. Errors carry the API's message.

export class ApiError extends Error {
  constructor(status, body) {
    const err = body && typeof body === "object" ? body.error : null;
    super(err?.message || (status === 0 ? "You seem to be offline." : `The server answered ${status}.`));
    this.status = status;
    this.code = err?.code || (status === 0 ? "network" : "http_error");
    this.details = err?.details || {};
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  // The app shell puts the token in htmx's headers; use it when the cookie is HttpOnly.
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

async function request(method, url, { json, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin", signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const api = {
  get: (url, options) => request("GET", url, options),
  post: (url, json, options) => request("POST", url, { ...options, json }),
  patch: (url, json, options) => request("PATCH", url, { ...options, json }),
  upload: (url, form, options) => request("POST", url, { ...options, form }),
};

export function withQuery(url, params) {
  const u = new URL(url, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") u.searchParams.set(key, value);
  }
  return u.pathname + u.search;
}

// List endpoints page like {count, next, results}; some answer a bare array.
export function resultsOf(data, key = "results") {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  if (data && Array.isArray(data.results)) return data.results;
  return [];
}
