// Signup page: suggest the workspace address from the company name, show the sign-in link it
// gives, and preselect the browser's time zone. The availability check itself is htmx
// (hx-get on the address input); this file only feeds it.

const form = document.getElementById("signup-form");

function slugify(text) {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents: "Café" → "cafe"
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "") // must start with a letter
    .slice(0, 40)
    .replace(/-+$/, "");
}

if (form) {
  const company = form.querySelector("[name=company_name]");
  const slug = form.querySelector("[name=slug]");
  const preview = form.querySelector("[data-slug-preview]");
  const previewUrl = form.querySelector("[data-slug-url]");
  const template = form.dataset.urlTemplate || "";
  // Once the merchant edits the address by hand, the company name stops overwriting it.
  let slugTouched = slug.value !== "";

  const showPreview = () => {
    const value = slug.value.trim().toLowerCase();
    preview.hidden = value === "";
    previewUrl.textContent = template.replace("{slug}", value);
  };

  company.addEventListener("input", () => {
    if (slugTouched) return;
    const suggestion = slugify(company.value);
    if (suggestion === slug.value) return;
    slug.value = suggestion;
    showPreview();
    slug.dispatchEvent(new Event("input", { bubbles: true })); // lets htmx run its check
  });

  slug.addEventListener("input", (event) => {
    if (event.isTrusted) slugTouched = slug.value !== "";
    const lowered = slug.value.toLowerCase().replace(/\s+/g, "-");
    if (lowered !== slug.value) slug.value = lowered;
    showPreview();
  });
  showPreview();

  if (form.hasAttribute("data-guess-timezone")) {
    const select = form.querySelector("[name=timezone]");
    let zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch {
      zone = "";
    }
    if (zone && select.querySelector(`option[value="${CSS.escape(zone)}"]`)) select.value = zone;
  }

  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Creating your workspace…";
  });
}

// Coming back with the browser's Back button restores the page as it was left: usable again.
window.addEventListener("pageshow", () => {
  const button = form?.querySelector("button[type=submit]");
  if (button?.disabled) {
    button.disabled = false;
    button.textContent = "Create workspace";
  }
});
