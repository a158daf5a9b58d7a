// The waiting page: polls the signature's state and reloads the page when
// the contract is sealed (or the signature was rejected).
const box = document.getElementById("wait");
if (box) {
  const id = box.dataset.signature;
  let delay = 1000;
  const poll = async () => {
    try {
      const resp = await fetch(`/signatures/${encodeURIComponent(id)}/status`, { credentials: "same-origin" });
      if (resp.ok) {
        const st = await resp.json();
        if (st.status === "completed" || st.status === "rejected") {
          location.reload();
          return;
        }
      }
    } catch (e) { /* offline for a moment: try again */ }
    delay = Math.min(delay * 1.5, 5000);
    setTimeout(poll, delay);
  };
  setTimeout(poll, delay);
}
