// Uncaught errors of the page go to css (POST /client-error), which stores
// them for the operators: the message, the stack and the page's path, no
// form contents. At most five a page.
let left = 5;

function report(message, stack) {
  if (left-- <= 0) return;
  const body = JSON.stringify({ message: String(message || "error").slice(0, 1000), stack: String(stack || "").slice(0, 8000),
    url: location.origin + location.pathname });
  fetch("/client-error", { method: "POST", headers: { "Content-Type": "application/json" }, body, keepalive: true,
    credentials: "same-origin" }).catch(() => {});
}

window.addEventListener("error", (e) => report(e.message, e.error && e.error.stack));
window.addEventListener("unhandledrejection", (e) => {
  const r = e.reason;
  report(r && r.message ? r.message : r, r && r.stack);
});
