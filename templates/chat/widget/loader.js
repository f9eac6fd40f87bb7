/* Helpdesk chat widget loader. Pasted on a store as <script src=".../widget.js" async></script>.
 *
 * Draws the launcher button inside a Shadow DOM (the store's CSS can't restyle it) and the
 * chat itself in an iframe served from the workspace host (the store's scripts can't read it).
 * It talks to the frame only with postMessage, to and from the workspace origin exactly.
 */
(function () {
  "use strict";
  var config = {{ config_json|safe }};
  var NS = "helpdesk-widget";
  var OPEN_KEY = "helpdesk-widget:open";

  if (window.__helpdeskWidgetLoaded) return; // the snippet pasted twice
  window.__helpdeskWidgetLoaded = true;

  // Where this script came from is the workspace origin (a custom domain or <slug>.<base>).
  var origin = config.origin;
  try {
    var current = document.currentScript;
    if (current && current.src) origin = new URL(current.src, location.href).origin;
  } catch (e) { /* keep the server's idea of the origin */ }

  var api = window.HelpdeskWidget && typeof window.HelpdeskWidget === "object" ? window.HelpdeskWidget : {};
  window.HelpdeskWidget = api;

  // Same rule as the server's: "shop.example" is that host, "*.shop.example" it and its
  // subdomains, any port; an empty list is every site. The workspace's own pages always work.
  function storeAllowed(host) {
    var list = config.allowedHosts || [];
    if (!list.length || host === new URL(origin).hostname) return true;
    return list.some(function (pattern) {
      if (pattern.indexOf("*.") === 0) {
        var base = pattern.slice(2);
        return host === base || host.slice(-(base.length + 1)) === "." + base;
      }
      return host === pattern;
    });
  }
  if (!storeAllowed(location.hostname.toLowerCase())) {
    if (window.console && console.warn) {
      console.warn("Helpdesk chat: " + location.hostname + " is not one of this workspace's allowed store domains, so the chat is not shown. Add it in Settings → Chat widget.");
    }
    api.open = api.close = api.toggle = function () {};
    return;
  }

  var strings = config.strings;
  var side = config.position === "left" ? "left" : "right";
  var isOpen = false;
  var frameReady = false;
  var unread = 0;
  var queued = null; // open()/close() called before the launcher exists
  var els = null;

  var SVG = "http://www.w3.org/2000/svg";
  function icon(cls, paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("stroke-linejoin", "round");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", cls);
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  function css() {
    var brand = config.brandColor, on = config.onBrandColor;
    return [
      ":host{all:initial}",
      "*{box-sizing:border-box}",
      ".launcher{all:unset;box-sizing:border-box;position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;background:" + brand + ";color:" + on + ";display:flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 6px 20px rgba(16,24,40,.22),0 2px 6px rgba(16,24,40,.12);transition:transform .16s ease,box-shadow .16s ease;-webkit-tap-highlight-color:transparent}",
      ".launcher:hover{transform:scale(1.06);box-shadow:0 10px 28px rgba(16,24,40,.26),0 2px 6px rgba(16,24,40,.12)}",
      ".launcher:active{transform:scale(.97)}",
      ".launcher:focus-visible{box-shadow:0 0 0 3px #fff,0 0 0 6px " + brand + ",0 6px 20px rgba(16,24,40,.22)}",
      ".launcher svg{position:absolute;width:28px;height:28px;transition:transform .2s ease,opacity .2s ease}",
      ".launcher .i-close{opacity:0;transform:rotate(-60deg) scale(.5)}",
      ".open .launcher .i-chat{opacity:0;transform:rotate(60deg) scale(.5)}",
      ".open .launcher .i-close{opacity:1;transform:none}",
      ".badge{position:absolute;top:-3px;" + side + ":-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#e11d48;color:#fff;font:700 12px/22px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;text-align:center;box-shadow:0 0 0 2px #fff}",
      ".badge[hidden],.preview[hidden]{display:none}",
      ".panel{position:fixed;bottom:92px;" + side + ":20px;z-index:2147483000;width:380px;height:min(660px,calc(100vh - 112px));min-height:360px;border-radius:16px;overflow:hidden;background:#fff;box-shadow:0 18px 50px rgba(16,24,40,.24),0 4px 12px rgba(16,24,40,.1);opacity:0;visibility:hidden;transform:translateY(14px) scale(.98);transform-origin:bottom " + side + ";transition:opacity .18s ease,transform .18s ease,visibility 0s linear .18s}",
      ".open .panel{opacity:1;visibility:visible;transform:none;transition:opacity .18s ease,transform .18s ease}",
      ".panel iframe{display:block;width:100%;height:100%;border:0;margin:0;padding:0;background:#fff;color-scheme:light}",
      ".preview{position:fixed;bottom:92px;" + side + ":20px;z-index:2147483000;width:300px;max-width:calc(100vw - 40px);background:#fff;color:#1c2433;border-radius:14px;box-shadow:0 12px 36px rgba(16,24,40,.2);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'PingFang SC','Noto Sans',sans-serif;direction:" + config.dir + "}",
      ".preview-open{all:unset;box-sizing:border-box;display:block;width:100%;padding:14px 40px 14px 16px;cursor:pointer;border-radius:14px}",
      ".preview-open:focus-visible{box-shadow:inset 0 0 0 2px " + brand + "}",
      ".preview-name{display:block;font-weight:600;font-size:13px;color:#667085;margin-bottom:2px}",
      ".preview-text{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden;overflow-wrap:anywhere}",
      ".preview-dismiss{all:unset;position:absolute;top:8px;" + (config.dir === "rtl" ? "left" : "right") + ":8px;width:26px;height:26px;border-radius:50%;display:flex;align-items:center;justify-content:center;color:#667085;cursor:pointer}",
      ".preview-dismiss:hover{background:#f2f4f7}",
      ".preview-dismiss:focus-visible{box-shadow:0 0 0 2px " + brand + "}",
      ".preview-dismiss svg{width:16px;height:16px}",
      "@media (max-width:480px),(max-height:520px){",
      ".panel{top:0;bottom:0;left:0;right:0;width:100%;height:100%;min-height:0;border-radius:0}",
      ".open .launcher{display:none}",
      ".launcher{bottom:16px;" + side + ":16px}",
      ".preview{bottom:88px;" + side + ":16px}",
      "}",
      "@media (prefers-reduced-motion:reduce){.launcher,.launcher svg,.panel{transition:none}}"
    ].join("\n");
  }

  function post(message) {
    if (!frameReady || !els) return;
    message.ns = NS;
    els.iframe.contentWindow.postMessage(message, origin);
  }

  // The store may set window.HelpdeskWidget = {identity: …} after this script ran (async).
  function currentIdentity() {
    var latest = window.HelpdeskWidget;
    var identity = (latest && latest.identity) || api.identity;
    return identity && typeof identity === "object" ? identity : null;
  }

  function pageInfo() {
    return { url: location.href, title: document.title || "", referrer: document.referrer || "" };
  }

  function updateLabel() {
    var label = isOpen ? strings.close : strings.open;
    if (!isOpen && unread > 0) label += ". " + strings.unread.replace("{count}", String(unread));
    els.launcher.setAttribute("aria-label", label);
    els.launcher.setAttribute("title", isOpen ? strings.close : strings.open);
  }

  function remember(open) {
    try { sessionStorage.setItem(OPEN_KEY, open ? "1" : ""); } catch (e) { /* storage blocked */ }
  }

  function setOpen(open, options) {
    options = options || {};
    if (!els) { queued = open; return; }
    if (open === isOpen) return;
    isOpen = open;
    els.wrap.className = open ? "open" : "";
    els.launcher.setAttribute("aria-expanded", String(open));
    if (open) els.preview.hidden = true;
    els.badge.hidden = unread === 0 || open;
    updateLabel();
    remember(open);
    post({ type: open ? "open" : "close", focus: Boolean(options.focus) });
    if (open && options.focus) els.iframe.focus();
    if (!open && options.returnFocus) els.launcher.focus();
  }

  function setUnread(count, preview) {
    var previous = unread;
    unread = Math.max(0, Number(count) || 0);
    els.badge.hidden = unread === 0 || isOpen;
    els.badge.textContent = unread > 9 ? "9+" : String(unread);
    updateLabel();
    if (unread === 0) els.preview.hidden = true;
    if (!isOpen && unread > previous && preview && preview.text) {
      els.previewName.textContent = preview.name || "";
      els.previewText.textContent = preview.text;
      els.preview.hidden = false;
    }
  }

  // Browsers that deny storage to third-party frames leave the chat without its visitor token
  // after a reload; the frame then asks us to keep its few keys in this page's storage instead.
  var FRAME_KEYS = ["helpdesk-widget:token", "helpdesk-widget:verified", "helpdesk-widget:outbox"];
  function frameKey(key) { return key + "@" + origin; }
  function savedForFrame() {
    var saved = {};
    try {
      FRAME_KEYS.forEach(function (key) {
        var value = localStorage.getItem(frameKey(key));
        if (value !== null) saved[key] = value;
      });
    } catch (e) { /* storage blocked here too: the chat lasts one page view */ }
    return saved;
  }
  function saveForFrame(key, value) {
    if (FRAME_KEYS.indexOf(key) === -1) return;
    try {
      if (typeof value === "string" && value.length <= 200000) localStorage.setItem(frameKey(key), value);
      else if (value === null) localStorage.removeItem(frameKey(key));
    } catch (e) { /* storage blocked or full */ }
  }

  function onMessage(event) {
    if (!els || event.origin !== origin || event.source !== els.iframe.contentWindow) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.ns !== NS) return;
    if (data.type === "ready") {
      frameReady = true;
      post({ type: "init", page: pageInfo(), identity: currentIdentity(), open: isOpen, storage: savedForFrame() });
    } else if (data.type === "storage") {
      saveForFrame(data.key, data.value);
    } else if (data.type === "unread") {
      setUnread(data.count, data.preview);
    } else if (data.type === "close") {
      setOpen(false, { returnFocus: true });
    } else if (data.type === "open") {
      setOpen(true, { focus: true });
    }
  }

  function mount() {
    var host = document.createElement("helpdesk-chat-widget");
    // Inline !important beats any store rule aimed at unknown elements or at everything.
    host.style.setProperty("all", "initial", "important");
    host.style.setProperty("display", "block", "important");
    host.style.setProperty("position", "static", "important");
    // Open, not closed: isolation from the store's CSS is the point, and a closed root would only hide the
    // launcher from test tools; the chat itself is out of the store's reach in the iframe.
    var root = host.attachShadow({ mode: "open" });
    var sheetText = css();
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(sheetText); // constructed sheets aren't blocked by the store's style-src
      root.adoptedStyleSheets = [sheet];
    } else {
      var style = document.createElement("style");
      style.textContent = sheetText;
      root.appendChild(style);
    }

    var wrap = document.createElement("div");
    wrap.setAttribute("dir", config.dir);

    var panel = document.createElement("div");
    panel.className = "panel";
    var iframe = document.createElement("iframe");
    iframe.title = strings.frameTitle;
    iframe.id = "helpdesk-chat-frame";
    // The frame's Referer is how the server checks the store is allowed; the origin is enough.
    iframe.referrerPolicy = "origin";
    iframe.src = origin + config.framePath;
    panel.appendChild(iframe);

    var preview = document.createElement("div");
    preview.className = "preview";
    preview.hidden = true;
    var previewOpen = document.createElement("button");
    previewOpen.type = "button";
    previewOpen.className = "preview-open";
    var previewName = document.createElement("span");
    previewName.className = "preview-name";
    var previewText = document.createElement("span");
    previewText.className = "preview-text";
    previewOpen.appendChild(previewName);
    previewOpen.appendChild(previewText);
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "preview-dismiss";
    dismiss.setAttribute("aria-label", strings.dismiss);
    dismiss.appendChild(icon("", ["M6 6l12 12", "M18 6L6 18"]));
    preview.appendChild(previewOpen);
    preview.appendChild(dismiss);

    var launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "launcher";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "helpdesk-chat-frame");
    launcher.appendChild(icon("i-chat", ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.4A8 8 0 1 1 21 12z"]));
    launcher.appendChild(icon("i-close", ["M6 9l6 6 6-6"]));
    var badge = document.createElement("span");
    badge.className = "badge";
    badge.hidden = true;
    badge.setAttribute("aria-hidden", "true");
    launcher.appendChild(badge);

    wrap.appendChild(panel);
    wrap.appendChild(preview);
    wrap.appendChild(launcher);
    root.appendChild(wrap);
    document.body.appendChild(host);

    els = {
      wrap: wrap, iframe: iframe, launcher: launcher, badge: badge,
      preview: preview, previewName: previewName, previewText: previewText
    };
    updateLabel();

    launcher.addEventListener("click", function () { setOpen(!isOpen, { focus: !isOpen, returnFocus: isOpen }); });
    previewOpen.addEventListener("click", function () { setOpen(true, { focus: true }); });
    dismiss.addEventListener("click", function () { preview.hidden = true; launcher.focus(); });
    window.addEventListener("message", onMessage);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen) setOpen(false, { returnFocus: true });
    });

    var restore = false;
    try { restore = sessionStorage.getItem(OPEN_KEY) === "1"; } catch (e) { /* storage blocked */ }
    if (queued !== null) setOpen(queued, { focus: queued });
    else if (restore) setOpen(true); // still open from the previous page; don't steal focus
  }

  api.open = function () { setOpen(true, { focus: true }); };
  api.close = function () { setOpen(false); };
  api.toggle = function () { setOpen(!isOpen, { focus: !isOpen }); };

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
