// The signing steps of the offer page (templates/offer.html): M1 with a
// fresh non-extractable key, the SMS code and password checked by the
// server, then M2 and on to the waiting page. The protocol itself is in
// protocol.js; every call goes to this css origin.
import * as p from "./protocol.js";
import { canSign } from "./precheck.js";

const box = document.getElementById("sign");
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class CallError extends Error {
  constructor(detail) {
    super(detail.message || "");
    this.code = detail.code || "";
    this.attemptsLeft = detail.attemptsLeft;
  }
}

async function call(path, body) {
  const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body), credentials: "same-origin" });
  let out = {};
  try { out = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) throw new CallError((out && out.error) || { message: box.dataset.msgFailed });
  return out;
}

function status(text) { $("sign-status").textContent = text; }

// showError shows the server's message (a catalogue text in the
// customer's language) or, for anything else — a network failure, an
// error of the browser's cryptography, in the browser's own words — the
// page's generic text.
function showError(e) {
  const el = $("sign-error");
  el.textContent = (e instanceof CallError && e.message) || (e && !(e instanceof Error) && e.message) || box.dataset.msgFailed;
  el.hidden = false;
  status("");
}

function clearError() { $("sign-error").hidden = true; }

// The signing in progress (the non-extractable key, M1 and the signature
// id) is kept in IndexedDB, so that a reload can go on with the same M1.
// A browser that refuses to store it (a private window) still signs; a
// reload there has to wait until the pending signature lapses.
const IDB = "esign-signing", STORE = "signing";

function idb() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(IDB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function stored(mode, op) {
  try {
    const db = await idb();
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const r = op(t.objectStore(STORE));
      t.oncomplete = () => resolve(r.result);
      t.onerror = t.onabort = () => reject(t.error);
    });
  } catch (e) {
    return null;
  }
}

const saveSigning = (offerId, v) => stored("readwrite", (s) => s.put(v, offerId));
const loadSigning = (offerId) => stored("readonly", (s) => s.get(offerId));
const dropSigning = (offerId) => stored("readwrite", (s) => s.delete(offerId));

if (box) {
  const offerId = box.dataset.offer;
  const userName = box.dataset.username;
  let key = null, m1 = null, signatureId = "";

  // stamp time-stamps data through css and waits as the ordering of the
  // tokens needs (waitMs, docs/protocol.md).
  const stamp = async (data) => {
    const digest = await p.sha256(data);
    const out = await call(`/o/${offerId}/timestamp`, { digest: p.toBase64(digest), dataSize: data.length });
    await sleep(out.waitMs || 0);
    return p.fromBase64(out.token);
  };

  // Reading a document to its last page in the viewer is recorded by the
  // server (viewer.js says when): mirror it here. Signing needs every
  // document read to the end; the server checks it again at M1.
  const read = (id) => {
    const badge = document.querySelector(`[data-unread="${id}"]`);
    if (badge) {
      badge.removeAttribute("data-unread");
      badge.classList.add("badge-ok");
      badge.textContent = box.dataset.msgRead;
    }
    if (!document.querySelector("[data-unread]") && $("sign-start").disabled) {
      $("sign-start").disabled = false;
      $("sign-start").removeAttribute("aria-describedby");
      const hint = $("read-first");
      if (hint) hint.hidden = true;
      status(box.dataset.msgAllRead); // announced (role=status)
    }
  };
  document.addEventListener("esign:document-read", (e) => read(e.detail));

  const sendM1 = async () => {
    const out = await call(`/o/${offerId}/m1`, p.toJSON(m1));
    signatureId = out.signatureId;
    await saveSigning(offerId, { key, m1, signatureId });
    $("step-code").hidden = false;
    status(box.dataset.msgSent);
    $("sms-code").focus();
  };

  // A signing in progress: go on with the key this browser kept, if any.
  if (box.dataset.resume === "true") {
    loadSigning(offerId).then((saved) => {
      if (saved && saved.key && saved.m1) {
        ({ key, m1, signatureId } = saved);
        $("sign-start").disabled = false;
        $("step-code").hidden = false;
        status(box.dataset.msgResumed);
      } else {
        // The key is not here (a private window, another browser): once
        // that signing is abandoned (docs/customer-ui.md), a new start
        // supersedes it; until then the server says to wait.
        $("sign-start").textContent = box.dataset.msgRestart;
        showError({ message: box.dataset.msgPending });
      }
    });
  }

  $("sign-start").addEventListener("click", async () => {
    const start = $("sign-start");
    start.disabled = true;
    clearError();
    status(box.dataset.msgWorking);
    try {
      if (await canSign(box.dataset.algorithm)) {
        location.assign("/unsupported");
        return;
      }
      if (!m1) {
        key = await p.newKey(box.dataset.algorithm || p.ECDSA_P256);
        m1 = await p.buildM1(key, userName, offerId, stamp);
      }
      await sendM1(); // the same M1 again resends the code
      $("step-start").hidden = true;
    } catch (e) {
      if (e.code === "signature_pending" || e.code === "offer_state") {
        await dropSigning(offerId); // what this browser kept is not the signing in progress
        key = m1 = null;
      }
      showError(e);
      // not_read: the server counts fewer documents read to the end than
      // this page; signing waits for the rest.
      start.disabled = e.code === "not_read" && !!document.querySelector("[data-unread]");
    }
  });

  $("step-code").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = $("sign-submit");
    submit.disabled = true;
    clearError();
    status(box.dataset.msgWorking);
    const smsToken = $("sms-code").value.trim();
    const password = $("sign-password").value;
    try {
      await call(`/o/${offerId}/code`, { signatureId, password, smsToken });
      const documents = [];
      for (const url of box.dataset.docs.split(" ")) {
        const resp = await fetch(url, { credentials: "same-origin" });
        if (!resp.ok) throw new CallError({ message: box.dataset.msgFailed });
        documents.push(new Uint8Array(await resp.arrayBuffer()));
      }
      const deviceInfo = ("web; " + navigator.userAgent).slice(0, 512);
      const m2 = await p.buildM2(key, { signatureId, offerId, userName, password, smsToken, deviceInfo, documents }, stamp);
      const out = await call(`/o/${offerId}/m2`, p.toJSON(m2));
      await dropSigning(offerId);
      location.assign(`/signatures/${encodeURIComponent(out.signatureId)}`);
    } catch (e) {
      showError(e);
      submit.disabled = false;
      if (e.code === "sms_token") await dropSigning(offerId); // rejected: the next start makes a new key
      if (e.code === "sms_token" || e.attemptsLeft === 0) {
        // The code is dead: the same M1 again brings a new one.
        $("step-code").hidden = true;
        $("step-start").hidden = false;
        $("sign-start").disabled = false;
      } else {
        $("sms-code").select();
        $("sms-code").focus();
      }
    }
  });
  box.dataset.ready = "true"; // the buttons work from now on (tests wait for it)
}
