// A Print button where a page offers one (shown only when scripts run; the CSP forbids inline handlers).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
