// The visitor socket (/ws/widget/): opens, authenticates, keeps alive, and reconnects with
// backoff. It knows nothing of messages; the frame gives it the auth frame to send and gets every
// server frame back. States: "idle" → "connecting" → "open" (after `ready`) → "reconnecting" …,
// or "refused" (close 4403: this store may not use the chat; never retried).

const PING_EVERY_MS = 20_000;
const SILENCE_LIMIT_MS = 45_000; // no frame at all (not even pong) for this long: the link is dead
const BACKOFF_MAX_MS = 30_000;

export class Connection {
  constructor({ url, authFrame, onFrame, onState }) {
    this.url = url;
    this.authFrame = authFrame;
    this.onFrame = onFrame;
    this.onState = onState;
    this.ws = null;
    this.state = "idle";
    this.authed = false;
    this.attempt = 0;
    this.retryAfterMs = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.stopped = false;
    window.addEventListener("online", () => this.reconnectNow());
    // The network went away: the socket may take minutes to notice. Drop it now and come back
    // with last_seq when the network does.
    window.addEventListener("offline", () => this.drop());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state === "reconnecting") this.reconnectNow();
    });
  }

  get started() {
    return this.state !== "idle";
  }

  start() {
    if (this.state === "idle") this.open();
  }

  stop(state = "stopped") {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
    this.setState(state);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  open() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.authed = false;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      this.sendRaw(this.authFrame());
      this.startHeartbeat();
    };
    ws.onmessage = (event) => {
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      if (frame.type === "ready") {
        this.authed = true;
        this.attempt = 0;
        this.retryAfterMs = 0;
        this.setState("open");
      } else if (frame.type === "error" && frame.code === "rate_limited" && frame.retry_after) {
        this.retryAfterMs = Number(frame.retry_after) * 1000;
      }
      this.onFrame(frame);
    };
    ws.onerror = () => {
      /* onclose follows with the code */
    };
    ws.onclose = (event) => this.closed(ws, event.code);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.authed = false;
    this.stopHeartbeat();
    if (this.stopped) return;
    if (code === 4403) {
      this.stop("refused");
      return;
    }
    this.setState("reconnecting");
    this.scheduleRetry(code === 4429 ? Math.max(this.retryAfterMs, 5000) : 0);
  }

  scheduleRetry(minimumMs = 0) {
    const ceiling = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    // Full jitter, so a server restart isn't met by every visitor at the same instant.
    const wait = Math.max(minimumMs, ceiling / 2 + Math.random() * (ceiling / 2));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  /** Forget the current socket without waiting for the browser to notice it is dead. */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
    try {
      ws.close();
    } catch {
      /* already closed */
    }
    this.closed(ws, 1006);
  }

  reconnectNow() {
    if (this.stopped || this.state === "idle") return;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.attempt = Math.min(this.attempt, 1);
    clearTimeout(this.retryTimer);
    this.open();
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        this.drop();
        return;
      }
      this.sendRaw({ type: "ping" });
    }, PING_EVERY_MS);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  sendRaw(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Send once authenticated; false means "not now", and the caller keeps it for later. */
  send(frame) {
    return this.authed && this.sendRaw(frame);
  }
}
