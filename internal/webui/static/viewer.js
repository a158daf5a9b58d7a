// The in-page PDF viewer of the customer's offer page and the operators'
// offer and contract pages: PDF.js (vendored, served from this origin with
// its worker; no eval), pages rendered lazily as they come near the
// screen, each canvas capped in pixels so that a long PDF does not exhaust
// a phone's canvas memory. The page holds the viewer section (template
// "pdfviewer") and a button.view-doc per document with data-url (the
// bytes), data-name and data-doc; a button with data-end gets a POST to
// that URL once the last page was on the screen (the customer UI records
// the reading to the end as evidence, and the signing steps hear of it by
// the event esign:document-read).
import * as pdfjs from "./vendor/pdfjs-dist/build/pdf.min.mjs";

const VENDOR = "/static/vendor/pdfjs-dist/";
pdfjs.GlobalWorkerOptions.workerSrc = VENDOR + "build/pdf.worker.min.mjs";

const MAX_CANVAS_PIXELS = 4096 * 4096; // per page
const viewer = document.getElementById("viewer");
const $ = (id) => document.getElementById(id);

if (viewer) {
  const buttons = [...document.querySelectorAll("button.view-doc")];
  let current = -1, doc = null, zoom = 1, observer = null, loading = null;

  const fmt = (s, ...args) => { let i = 0; return s.replace(/%d|%s/g, () => String(args[i++])); };
  // plural picks the CLDR plural form of a count from the JSON of forms
  // the page carries (View.PluralForms), by the page's language.
  const plural = (forms, fallback, n) => {
    try {
      const f = JSON.parse(forms);
      return f[new Intl.PluralRules(document.documentElement.lang).select(n)] || f.other || fallback;
    } catch { return fallback; }
  };

  // renderPage draws a page at the resolution its box has now; the canvas
  // then scales with the box (CSS), so a rotation or resize needs no
  // redraw.
  async function renderPage(holder) {
    if (holder.dataset.state) return;
    holder.dataset.state = "rendering";
    const page = await doc.getPage(Number(holder.dataset.page));
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: Math.max(holder.clientWidth, 200) / base.width });
    let ratio = window.devicePixelRatio || 1;
    const pixels = viewport.width * viewport.height * ratio * ratio;
    if (pixels > MAX_CANVAS_PIXELS) ratio *= Math.sqrt(MAX_CANVAS_PIXELS / pixels);
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", holder.dataset.label);
    const transform = ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null;
    await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport, transform }).promise;
    holder.replaceChildren(canvas);
    holder.style.aspectRatio = "";
    holder.dataset.state = "rendered";
    page.cleanup();
  }

  async function layout() {
    const box = $("viewer-box");
    if (observer) observer.disconnect();
    box.replaceChildren();
    delete box.dataset.index;
    const base = (await doc.getPage(1)).getViewport({ scale: 1 });
    observer = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) renderPage(e.target).catch(fail);
    }, { rootMargin: "600px 0px" });
    // The bottom of the last page on the screen: the customer reached the
    // end (recorded by the server with its time, the evidence of review).
    const shown = buttons[current];
    const end = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      end.disconnect();
      if (!shown.dataset.end) return;
      fetch(shown.dataset.end, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: "{}" }).then((resp) => {
        // Recorded: the signing steps may enable signing (sign.js).
        if (resp.ok) document.dispatchEvent(new CustomEvent("esign:document-read", { detail: shown.dataset.doc }));
      }).catch(() => {});
    });
    for (let n = 1; n <= doc.numPages; n++) {
      const holder = document.createElement("div");
      holder.className = "viewer-page";
      holder.dataset.page = String(n);
      holder.dataset.label = fmt(viewer.dataset.msgPage, n, doc.numPages);
      holder.style.width = `min(${zoom * 100}%, ${zoom * 900}px)`; // a readable page on a wide screen
      holder.style.aspectRatio = base.width + " / " + base.height; // until drawn
      box.append(holder);
      observer.observe(holder);
    }
    const bottom = document.createElement("div");
    bottom.className = "viewer-end";
    box.append(bottom);
    end.observe(bottom);
    box.dataset.index = String(current); // laid out (tests wait for it)
  }

  function fail() {
    $("viewer-status").textContent = viewer.dataset.msgFailed;
  }

  async function open(i) {
    const b = buttons[i];
    current = i;
    viewer.hidden = false;
    $("viewer-h").textContent = b.dataset.name;
    $("viewer-status").textContent = viewer.dataset.msgLoading;
    $("viewer-next").hidden = i + 1 >= buttons.length;
    if (doc) await doc.destroy();
    doc = null;
    const task = pdfjs.getDocument({ url: b.dataset.url, isEvalSupported: false, enableXfa: false,
      cMapUrl: VENDOR + "cmaps/", cMapPacked: true, standardFontDataUrl: VENDOR + "standard_fonts/" });
    loading = task;
    try {
      const d = await task.promise;
      if (loading !== task) return;
      doc = d;
    } catch (e) {
      fail();
      return;
    }
    document.dispatchEvent(new CustomEvent("esign:document-opened", { detail: b.dataset.doc }));
    $("viewer-status").textContent = fmt(plural(viewer.dataset.msgPagesForms, viewer.dataset.msgPages, doc.numPages), doc.numPages);
    zoom = 1;
    await layout();
    viewer.scrollIntoView({ block: "start" });
    $("viewer-h").focus();
  }

  buttons.forEach((b, i) => b.addEventListener("click", () => open(i).catch(fail)));
  $("viewer-next").addEventListener("click", () => open(current + 1).catch(fail));
  $("viewer-close").addEventListener("click", () => {
    viewer.hidden = true;
    if (observer) observer.disconnect();
    if (buttons[current]) buttons[current].focus();
  });
  const rezoom = (f) => {
    if (!doc) return;
    zoom = Math.min(3, Math.max(0.5, zoom * f));
    layout().catch(fail);
  };
  $("zoom-in").addEventListener("click", () => rezoom(1.25));
  $("zoom-out").addEventListener("click", () => rezoom(0.8));
  viewer.dataset.ready = "true"; // the buttons work from now on (tests wait for it)
}
