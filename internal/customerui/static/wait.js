// The waiting page: follows the seal progress streamed by the customer
// realtime listener (server-sent events: EventSource reconnects by itself,
// and each connection starts with the signature's current state), and
// reloads the page when the contract is sealed or the signature rejected.
// Without a stream (no EventSource, the listener unreachable three times in
// a row) it polls /signatures/{id}/status instead.
const box = document.getElementById("wait");
if (box) {
  const id = box.dataset.signature;
  const status = document.getElementById("wait-status");
  const text = document.getElementById("wait-text");
  let done = false;
  // show applies a state; true when the page reloads.
  const show = (st) => {
    if (done || !st || !st.status) return done;
    box.dataset.status = st.status;
    const t = status && status.dataset[st.status];
    if (t && text) text.textContent = t;
    if (st.status === "completed" || st.status === "rejected") {
      done = true;
      location.reload();
    }
    return done;
  };
  let polling = false;
  const poll = () => {
    if (polling) return;
    polling = true;
    box.dataset.stream = "polling";
    let delay = 1000;
    const tick = async () => {
      try {
        const resp = await fetch(`/signatures/${encodeURIComponent(id)}/status`, { credentials: "same-origin" });
        if (resp.ok && show(await resp.json())) return;
      } catch (e) { /* offline for a moment: try again */ }
      delay = Math.min(delay * 1.5, 5000);
      setTimeout(tick, delay);
    };
    setTimeout(tick, delay);
  };
  if (box.dataset.live && "EventSource" in window) {
    let failures = 0;
    const es = new EventSource(box.dataset.live, { withCredentials: true });
    es.onopen = () => { failures = 0; box.dataset.stream = "open"; };
    es.onmessage = (m) => {
      try { if (show(JSON.parse(m.data))) es.close(); } catch (e) { /* not ours */ }
    };
    es.addEventListener("end", () => { es.close(); poll(); });
    es.onerror = () => {
      failures++;
      if (es.readyState === EventSource.CLOSED || failures >= 3) {
        es.close();
        poll();
      }
    };
  } else {
    poll();
  }
}
