// Small behaviours of the agent app shell: menus, sidebar on phones, toasts. No build step.
const closeMenus = (except) => {
  document.querySelectorAll("[data-menu]").forEach((menu) => {
    if (menu === except) return;
    menu.querySelector("[data-menu-trigger]")?.setAttribute("aria-expanded", "false");
    const panel = menu.querySelector(".menu-panel");
    if (panel) panel.hidden = true;
  });
};

document.addEventListener("click", (event) => {
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

  const toggle = event.target.closest("[data-toggle-sidebar]");
  if (toggle) {
    const sidebar = document.getElementById("sidebar");
    const open = sidebar.classList.toggle("is-open");
    toggle.setAttribute("aria-expanded", String(open));
  }
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

const autohide = () => {
  document.querySelectorAll(".toast[data-autohide]").forEach((toast) => {
    toast.removeAttribute("data-autohide");
    setTimeout(() => toast.remove(), 6000);
  });
};
autohide();
document.body.addEventListener("htmx:afterSwap", autohide);
