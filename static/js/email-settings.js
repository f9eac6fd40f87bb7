// Settings → Email: the auto-reply editor shows one language at a time, picked from a list.
// An enhancement only: without JavaScript every language's fields are listed and all save.

const editor = document.querySelector("[data-ack-editor]");
const picker = editor?.querySelector("[data-ack-picker]");
const select = editor?.querySelector("[data-ack-select]");

if (editor && picker && select) {
  const panels = [...editor.querySelectorAll("[data-ack-lang]")];
  const show = (code) => {
    for (const panel of panels) panel.hidden = panel.dataset.ackLang !== code;
  };
  editor.classList.add("is-picking");
  picker.hidden = false;
  show(select.value);
  select.addEventListener("change", () => show(select.value));
}
