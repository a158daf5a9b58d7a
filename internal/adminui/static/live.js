// The live feed (docs/admin-ui.md#live-updates): the dashboard's list and
// the offer page's changes, streamed from the realtime listener as
// server-sent events. EventSource reconnects by itself and sends the last
// event id it saw (Last-Event-ID), from which the server catches up.
const box = document.querySelector("[data-live]");
if (box && "EventSource" in window) {
  const list = box.querySelector(".live-feed");
  const status = box.querySelector(".live-status");
  const reload = box.querySelector(".live-reload");
  const labels = {};
  for (const el of box.querySelectorAll("[data-label-for]")) labels[el.dataset.labelFor] = el.textContent;
  const state = (s) => {
    box.dataset.state = s;
    if (status) status.textContent = status.dataset["msg" + s[0].toUpperCase() + s.slice(1)] || "";
  };
  // Times in the browser's zone, 24-hour, the rendered ones too.
  const clock = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  const lang = document.documentElement.lang || undefined;
  const show = (t) => { t.textContent = new Date(t.dateTime).toLocaleTimeString(lang, clock); };
  for (const t of list.querySelectorAll("time[datetime]")) show(t);
  const add = (e) => {
    const li = document.createElement("li");
    li.className = "live-item live-new";
    li.dataset.type = e.type;
    const t = document.createElement("time");
    t.dateTime = e.createdAt;
    show(t);
    const b = document.createElement("span");
    b.className = "badge";
    b.textContent = labels[e.type] || e.type;
    li.append(t, " ", b, " ");
    if (e.offerId) {
      const a = document.createElement("a");
      a.href = "/offers/" + encodeURIComponent(e.offerId);
      a.textContent = e.title || e.offerId;
      li.append(a);
    }
    if (e.detail) li.append(" — " + e.detail);
    for (const empty of list.querySelectorAll(".live-empty")) empty.remove();
    list.prepend(li);
    while (list.children.length > 50) list.lastElementChild.remove();
    if (reload) reload.hidden = false;
  };
  const es = new EventSource(box.dataset.live, { withCredentials: true });
  state("connecting");
  es.onopen = () => state("online");
  es.onerror = () => state(es.readyState === EventSource.CLOSED ? "closed" : "offline");
  // The server ends the stream when the session ended.
  es.addEventListener("end", () => { es.close(); state("closed"); });
  es.onmessage = (m) => {
    let e;
    try { e = JSON.parse(m.data); } catch { return; }
    if (e && e.type) add(e);
  };
}
