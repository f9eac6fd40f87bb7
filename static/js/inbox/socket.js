// The agent socket (/ws/agent/): reconnects with backoff, pings so presence stays fresh and a
// dead connection is noticed, and reports its state for the connection indicator.

const PING_EVERY_MS = 25_000; // routing/presence.py keeps an agent "online" 75 s after a ping
const PONG_WAIT_MS = 10_000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const CLOSE_UNAUTHENTICATED = 4401;

export class AgentSocket extends EventTarget {
  constructor(path) {
    super();
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${window.location.host}${path}`;
    this.ws = null;
    this.state = "idle"; // connecting | open | waiting | signed_out
    this.attempt = 0;
    this.everOpened = false;
    this.retryAt = 0;
    this.timers = {};
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state === "waiting") this.reconnectNow();
    });
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN && this.state === "open";
  }

  connect() {
    clearTimeout(this.timers.retry);
    if (this.state === "signed_out") return;
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!data || typeof data.type !== "string") return;
      if (data.type === "hello") {
        // Only a hello proves the session was accepted; reset the backoff then.
        const reconnected = this.everOpened;
        this.everOpened = true;
        this.attempt = 0;
        this.setState("open");
        this.startPing();
        this.dispatchEvent(new CustomEvent("open", { detail: { reconnected, hello: data } }));
      }
      if (data.type === "pong") clearTimeout(this.timers.pong);
      this.dispatchEvent(new CustomEvent("frame", { detail: data }));
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      this.stopPing();
      this.ws = null;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.setState("signed_out");
        return;
      }
      this.scheduleRetry();
    });
  }

  scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.setState("waiting");
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.state === "waiting") this.connect();
  }

  send(frame) {
    if (!this.isOpen) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  startPing() {
    this.stopPing();
    this.timers.ping = setInterval(() => {
      if (!this.send({ type: "ping" })) return;
      clearTimeout(this.timers.pong);
      // No pong: the connection is dead even if the browser hasn't noticed (sleep, Wi-Fi change).
      this.timers.pong = setTimeout(() => this.ws?.close(4000, "no pong"), PONG_WAIT_MS);
    }, PING_EVERY_MS);
  }

  stopPing() {
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.pong);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, retryAt: this.retryAt } }));
  }
}
