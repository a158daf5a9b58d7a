// The pre-check: signing needs WebCrypto's subtle API with ECDSA P-256 in
// a secure context. Detected by trying, never guessed from the user agent;
// a browser without it is sent to /unsupported.

/** canSign resolves to "" when the browser can sign, else what is missing. */
export async function canSign() {
  if (!window.isSecureContext) return "secure-context";
  if (!window.crypto || !crypto.subtle) return "webcrypto";
  try {
    const k = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, k.privateKey, new Uint8Array(1));
    await crypto.subtle.exportKey("spki", k.publicKey);
  } catch (e) {
    return "ecdsa-p256";
  }
  return "";
}

canSign().then((missing) => {
  if (missing) location.replace("/unsupported");
});
