// The pre-check: signing needs WebCrypto's subtle API with the key
// algorithm of the server's policy (ECDSA P-256 by default, RSA-PSS when
// allowed: the offer page's data-algorithm) in a secure context. Detected by trying, never guessed from the user agent;
// a browser without it is sent to /unsupported.

import { ALGORITHMS, ECDSA_P256 } from "./protocol.js";

/** canSign resolves to "" when the browser can sign, else what is missing. */
export async function canSign(algorithm) {
  if (!window.isSecureContext) return "secure-context";
  if (!window.crypto || !crypto.subtle) return "webcrypto";
  const a = ALGORITHMS[algorithm] || ALGORITHMS[ECDSA_P256];
  try {
    const k = await crypto.subtle.generateKey(a.key, false, ["sign"]);
    await crypto.subtle.sign(a.sign, k.privateKey, new Uint8Array(1));
    await crypto.subtle.exportKey("spki", k.publicKey);
  } catch (e) {
    return algorithm || ECDSA_P256;
  }
  return "";
}

const page = document.getElementById("sign");
canSign(page ? page.dataset.algorithm : undefined).then((missing) => {
  if (missing) location.replace("/unsupported");
});
