// Settings → Chat widget: copy buttons, the launcher preview, and the extra-questions editor.
// Everything here is an enhancement: without JavaScript the form still saves.

const HEX = /^#[0-9a-fA-F]{6}$/;

// ---- Copy buttons ----
const copyText = async (text) => {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied (permissions, focus): fall through to the older way.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "sr-only";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
};

const selectContents = (element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
};

document.querySelectorAll("[data-copy-target]").forEach((button) => {
  const label = button.textContent;
  let timer;
  button.addEventListener("click", async () => {
    const target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    const status = document.querySelector(`[data-copy-status="${button.dataset.copyTarget}"]`);
    const copied = await copyText(target.textContent.trim());
    if (!copied) selectContents(target); // let the person press Ctrl+C / ⌘C themselves
    button.textContent = copied ? "Copied" : "Press Ctrl+C";
    button.classList.toggle("is-copied", copied);
    if (status) status.textContent = copied ? "Copied to the clipboard." : "Selected. Press Control+C to copy.";
    clearTimeout(timer);
    timer = setTimeout(() => {
      button.textContent = label;
      button.classList.remove("is-copied");
      if (status) status.textContent = "";
    }, 2000);
  });
});

// ---- Colour picker and launcher preview ----
const form = document.querySelector(".widget-form");
const preview = document.querySelector("[data-widget-preview]");
const picker = document.querySelector("[data-color-picker]");
const colorText = document.querySelector("[data-color-text]");

const showColor = (value) => {
  if (preview && HEX.test(value)) preview.style.setProperty("--launcher", value);
};

if (picker && colorText) {
  picker.hidden = false;
  if (HEX.test(colorText.value.trim())) picker.value = colorText.value.trim().toLowerCase();
  picker.addEventListener("input", () => {
    colorText.value = picker.value;
    showColor(picker.value);
  });
  colorText.addEventListener("input", () => {
    const value = colorText.value.trim();
    if (HEX.test(value)) {
      picker.value = value.toLowerCase();
      showColor(value);
    }
  });
}

if (preview && form) {
  preview.hidden = false;
  const enabled = form.querySelector('input[name="enabled"]');
  const update = () => {
    const side = form.querySelector('input[name="position"]:checked');
    preview.classList.toggle("is-left", side?.value === "left");
    preview.classList.toggle("is-off", Boolean(enabled && !enabled.checked));
  };
  form.addEventListener("change", update);
  update();
  if (colorText) showColor(colorText.value.trim());
}

// ---- Extra pre-chat questions ----
const rows = document.querySelector("[data-field-rows]");
const template = document.querySelector("[data-field-row-template]");
const total = document.querySelector('input[name="fields-TOTAL_FORMS"]');
const addButton = document.querySelector("[data-field-add]");
const limitNote = document.querySelector("[data-field-limit]");

// Django reads rows fields-0 … fields-(TOTAL_FORMS - 1): keep them numbered without gaps.
const renumber = () => {
  const items = [...rows.querySelectorAll("[data-field-row]")];
  items.forEach((row, index) => {
    row.querySelectorAll("[name], [id], label[for]").forEach((element) => {
      for (const attribute of ["name", "id", "for"]) {
        const value = element.getAttribute(attribute);
        if (value) element.setAttribute(attribute, value.replace(/fields-(\d+|__prefix__)-/, `fields-${index}-`));
      }
    });
  });
  total.value = String(items.length);
  const full = items.length >= Number(rows.dataset.max);
  addButton.hidden = full;
  limitNote.hidden = !full;
};

const enableRow = (row) => {
  const remove = row.querySelector("[data-field-remove]");
  if (remove) remove.hidden = false;
};

if (rows && template && total && addButton && limitNote) {
  document.querySelectorAll("[data-js-only]").forEach((element) => { element.hidden = false; });
  rows.querySelectorAll("[data-field-row]").forEach(enableRow);
  renumber();

  addButton.addEventListener("click", () => {
    const row = template.content.firstElementChild.cloneNode(true);
    rows.append(row);
    enableRow(row);
    renumber();
    row.querySelector('input[type="text"]')?.focus();
  });

  rows.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-field-remove]");
    if (!remove) return;
    const row = remove.closest("[data-field-row]");
    const next = row.nextElementSibling ?? row.previousElementSibling;
    row.remove();
    renumber();
    (next?.querySelector('input[type="text"]') ?? addButton).focus();
  });
}

// After a refused save, bring the summary of what to fix into view for keyboard and screen readers.
document.querySelector("[data-focus-on-load]")?.focus();
