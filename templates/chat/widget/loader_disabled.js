/* Helpdesk chat widget: switched off for this workspace (Settings → Chat widget). Nothing is drawn. */
(function () {
  "use strict";
  var api = window.HelpdeskWidget && typeof window.HelpdeskWidget === "object" ? window.HelpdeskWidget : {};
  // Store code may call these; they do nothing while the chat is off.
  api.open = api.close = api.toggle = function () {};
  window.HelpdeskWidget = api;
  if (window.console && console.info) {
    console.info("Helpdesk chat widget is switched off for this workspace; nothing is shown. Turn it on in Settings → Chat widget.");
  }
})();
