// pmo5p's own script; loaded on every page. No inline scripts anywhere (CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Forms marked data-confirm ask once before doing something that cannot be undone.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Scrollable tables and lists must be reachable with the keyboard to be read.
  document.querySelectorAll(".table-responsive, .comment-list").forEach((region) => {
    if (region.scrollWidth > region.clientWidth || region.scrollHeight > region.clientHeight) {
      region.tabIndex = 0;
    }
  });
  // Selects marked data-autosubmit submit their form when changed (with a visible button as fallback).
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
