// Small behaviours of the agent app shell: menus, sidebar on phones, toasts. No build step.
const closeMenus = (except) => {
  document.querySelectorAll("[data-menu]").forEach((menu) => {
    if (menu === except) return;
    menu.querySelector("[data-menu-trigger]")?.setAttribute("aria-expanded", "false");
    const panel = menu.querySelector(".menu-panel");
    if (panel) panel.hidden = true;
  });
};

const setSidebar = (open) => {
  const sidebar = document.getElementById("sidebar");
  if (!sidebar) return;
  sidebar.classList.toggle("is-open", open);
  sidebar.closest(".shell")?.classList.toggle("sidebar-open", open);
  document.querySelectorAll("[data-toggle-sidebar]").forEach((button) => {
    button.setAttribute("aria-expanded", String(open));
  });
  if (open) sidebar.querySelector("a")?.focus();
};
const phoneLayout = window.matchMedia("(max-width: 860px)");
const sidebarOpen = () =>
  phoneLayout.matches && Boolean(document.getElementById("sidebar")?.classList.contains("is-open"));
phoneLayout.addEventListener("change", () => setSidebar(false));

document.addEventListener("click", (event) => {
  // On phones the open sidebar covers the page: a tap beside it (on the backdrop) only closes it.
  if (sidebarOpen() && !event.target.closest("#sidebar, [data-toggle-sidebar]")) {
    setSidebar(false);
    event.preventDefault();
    return;
  }
  const trigger = event.target.closest("[data-menu-trigger]");
  if (trigger) {
    const menu = trigger.closest("[data-menu]");
    const panel = menu.querySelector(".menu-panel");
    const open = panel.hidden;
    closeMenus(menu);
    panel.hidden = !open;
    trigger.setAttribute("aria-expanded", String(open));
    if (open) panel.querySelector(".menu-item")?.focus();
    return;
  }
  if (!event.target.closest(".menu-panel")) closeMenus();

  if (event.target.closest("[data-toggle-sidebar]")) setSidebar(!sidebarOpen());
  const dismiss = event.target.closest("[data-dismiss]");
  if (dismiss) dismiss.closest(".toast")?.remove();
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const text = document.getElementById(copy.dataset.copy)?.textContent?.trim() ?? "";
    navigator.clipboard?.writeText(text).then(() => {
      const label = copy.textContent;
      copy.textContent = "Copied";
      setTimeout(() => { copy.textContent = label; }, 1500);
    });
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && sidebarOpen()) {
    setSidebar(false);
    document.querySelector("[data-toggle-sidebar]")?.focus();
    return;
  }
  if (event.key === "Escape") {
    const open = document.querySelector(".menu-panel:not([hidden])");
    closeMenus();
    open?.closest("[data-menu]")?.querySelector("[data-menu-trigger]")?.focus();
  }
  const panel = event.target.closest?.(".menu-panel");
  if (panel && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    const items = [...panel.querySelectorAll(".menu-item")];
    const index = items.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? index + 1 : index - 1;
    items[(next + items.length) % items.length]?.focus();
  }
});

// Tabbing out of an open menu closes it, as a click elsewhere does.
document.addEventListener("focusin", (event) => {
  if (!event.target.closest?.("[data-menu]")) closeMenus();
});

const autohide = () => {
  document.querySelectorAll(".toast[data-autohide]").forEach((toast) => {
    toast.removeAttribute("data-autohide");
    setTimeout(() => toast.remove(), 6000);
  });
};
autohide();
document.body.addEventListener("htmx:afterSwap", autohide);
