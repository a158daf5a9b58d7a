// The esign signing protocol in the browser (docs/protocol.md): the
// canonical encoding of the protocol's arrays and the M1/M2 construction
// with WebCrypto. The same bytes as internal/protocol and internal/signing;
// internal/customerui's browser test checks the vectors of
// internal/protocol/testdata/vectors.json against this file.
//
// Values: a Uint8Array is bytes (tag 1), a string is UTF-8 text (tag 2), an
// Array is a list (tag 3).

const MAGIC = [0x45, 0x53, 0x47, 0x4e]; // "ESGN"
const VERSION = 1;
const MAX_SIZE = 64 << 20;
const MAX_DEPTH = 8;
const utf8 = new TextEncoder();

/** encode returns the canonical encoding of the list l. */
export function encode(l) {
  if (!Array.isArray(l)) throw new TypeError("protocol: the message must be a list");
  const parts = [];
  const n = encodeValue(l, 1, parts);
  if (5 + n > MAX_SIZE) throw new RangeError("protocol: the message is too large");
  const out = new Uint8Array(5 + n);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  let at = 5;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function prefix(tag, len) {
  const p = new Uint8Array(5);
  p[0] = tag;
  new DataView(p.buffer).setUint32(1, len, false);
  return p;
}

// encodeValue appends the parts of v to parts and returns their length.
function encodeValue(v, depth, parts) {
  if (v instanceof Uint8Array) {
    parts.push(prefix(1, v.length), v);
    return 5 + v.length;
  }
  if (typeof v === "string") {
    if (!v.isWellFormed()) throw new TypeError("protocol: a string is not valid Unicode");
    const b = utf8.encode(v);
    parts.push(prefix(2, b.length), b);
    return 5 + b.length;
  }
  if (Array.isArray(v)) {
    if (depth > MAX_DEPTH) throw new RangeError("protocol: lists nest too deep");
    const p = prefix(3, 0);
    parts.push(p);
    let n = 0;
    for (const e of v) n += encodeValue(e, depth + 1, parts);
    new DataView(p.buffer).setUint32(1, n, false);
    return 5 + n;
  }
  throw new TypeError("protocol: unsupported value " + typeof v);
}

/** decode parses an encoding strictly (as internal/protocol.Decode). */
export function decode(b) {
  if (b.length > MAX_SIZE) throw new RangeError("protocol: the message is too large");
  if (b.length < 5 || MAGIC.some((m, i) => b[i] !== m)) throw new TypeError("protocol: not an esign protocol message");
  if (b[4] !== VERSION) throw new TypeError("protocol: unsupported encoding version " + b[4]);
  const [v, end] = decodeValue(b, 5, b.length, 1);
  if (end !== b.length) throw new TypeError("protocol: trailing bytes after the message");
  if (!Array.isArray(v)) throw new TypeError("protocol: the message is not a list");
  return v;
}

const strictUTF8 = new TextDecoder("utf-8", { fatal: true });

function decodeValue(b, at, limit, depth) {
  if (limit - at < 5) throw new TypeError("protocol: truncated value");
  const tag = b[at];
  const n = new DataView(b.buffer, b.byteOffset + at + 1, 4).getUint32(0, false);
  at += 5;
  if (n > limit - at) throw new TypeError("protocol: a length runs past the end");
  const end = at + n;
  switch (tag) {
    case 1:
      return [b.slice(at, end), end];
    case 2:
      return [strictUTF8.decode(b.subarray(at, end)), end];
    case 3: {
      if (depth > MAX_DEPTH) throw new TypeError("protocol: lists nest too deep");
      const l = [];
      while (at < end) {
        const [e, next] = decodeValue(b, at, end, depth + 1);
        l.push(e);
        at = next;
      }
      return [l, end];
    }
  }
  throw new TypeError("protocol: unknown tag " + tag);
}

// --- the arrays (internal/signing/messages.go)

export const ECDSA_P256 = "ecdsa-p256-sha256";
export const RSA_PSS = "rsa-pss-sha256";

/** m1Raw is rawData of M1: ["esign/m1", publicKey, userName, algorithm, offerId]. */
export const m1Raw = (publicKey, userName, algorithm, offerId) =>
  encode(["esign/m1", publicKey, userName, algorithm, offerId]);

/** ts1Data is what TS1 time-stamps: ["esign/ts1", signedData, rawData]. */
export const ts1Data = (signedData, rawData) => encode(["esign/ts1", signedData, rawData]);

function m2List(f) {
  return ["esign/m2", f.publicKey, f.algorithm, f.offerId, f.offerHashes.slice(), f.userName, f.smsToken,
    f.deviceInfo, f.photo || new Uint8Array(0)];
}

/** ts2Data is what TS2 time-stamps. */
export const ts2Data = (f) => encode(m2List(f));

const customerSignature = (f, ts2) => ["esign/customer-signature", m2List(f), ts2];

/** customerSignatureHash is SHA-256 of the encoded customer signature. */
export async function customerSignatureHash(f, ts2) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encode(customerSignature(f, ts2))));
}

/** signature2Data is what SIGNATURE2 (signedTs3) signs. */
export const signature2Data = (f, ts2, hash) => encode(["esign/signature2", hash, customerSignature(f, ts2)]);

/** ts3Data is what TS3 time-stamps. */
export const ts3Data = (f, ts2, hash, signedTs3) =>
  encode(["esign/ts3", hash, customerSignature(f, ts2), signedTs3]);

// --- keys and signatures (WebCrypto)

// The WebCrypto parameters of each algorithm the browser may use (docs/protocol.md,
// "Algorithms"): the key to generate and the signing parameters.
export const ALGORITHMS = {
  [ECDSA_P256]: {
    key: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" }, // 64 bytes r‖s, which the server accepts
  },
  [RSA_PSS]: {
    key: { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    sign: { name: "RSA-PSS", saltLength: 32 }, // MGF1-SHA-256, 32-byte salt
  },
};

function params(algorithm) {
  const a = ALGORITHMS[algorithm];
  if (!a) throw new TypeError("protocol: unknown algorithm " + algorithm);
  return a;
}

/**
 * newKey makes a fresh key pair for one signature, ECDSA P-256 unless the
 * server's policy names RSA-PSS (mobile.web_signing_algorithms). The
 * private key is not extractable: no script, ours included, can read it.
 */
export async function newKey(algorithm = ECDSA_P256) {
  const pair = await crypto.subtle.generateKey(params(algorithm).key, false, ["sign", "verify"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: spki, algorithm };
}

/** sign signs data with the key's algorithm. */
export async function sign(key, data) {
  return new Uint8Array(await crypto.subtle.sign(params(key.algorithm).sign, key.privateKey, data));
}

/** verify checks a signature under an SPKI public key (the test vectors). */
export async function verify(algorithm, spki, data, signature) {
  const a = params(algorithm);
  const pub = await crypto.subtle.importKey("spki", spki, a.key.name === "ECDSA" ? a.key : { name: "RSA-PSS", hash: "SHA-256" },
    false, ["verify"]);
  return crypto.subtle.verify(a.sign, pub, signature, data);
}

export async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/**
 * buildM1 builds M1 for the offer. timestamp(data) must return the DER
 * time-stamp token (Uint8Array) over SHA-256(data).
 */
export async function buildM1(key, userName, offerId, timestamp) {
  const raw = m1Raw(key.publicKey, userName, key.algorithm, offerId);
  const signedData = await sign(key, raw);
  const ts1 = await timestamp(ts1Data(signedData, raw));
  return { offerId, publicKey: key.publicKey, algorithm: key.algorithm, signedData, ts1 };
}

/**
 * buildM2 builds M2. in: {signatureId, offerId, userName, password,
 * smsToken, deviceInfo, documents: [Uint8Array…] in the offer's order}.
 */
export async function buildM2(key, input, timestamp) {
  const offerHashes = [];
  for (const d of input.documents) offerHashes.push(await sha256(d));
  const f = { publicKey: key.publicKey, algorithm: key.algorithm, offerId: input.offerId, offerHashes,
    userName: input.userName, smsToken: input.smsToken, deviceInfo: input.deviceInfo, photo: new Uint8Array(0) };
  const ts2 = await timestamp(ts2Data(f));
  const hash = await customerSignatureHash(f, ts2);
  const signedTs3 = await sign(key, signature2Data(f, ts2, hash));
  const ts3 = await timestamp(ts3Data(f, ts2, hash, signedTs3));
  return { version: 1, signatureId: input.signatureId, offerId: input.offerId, offers: offerHashes,
    publicKey: key.publicKey, algorithm: key.algorithm, userName: input.userName, password: input.password,
    smsToken: input.smsToken, deviceInfo: input.deviceInfo, customerSignatureHash: hash, signedTs3, ts2, ts3 };
}

// --- JSON: []byte fields travel as standard base64

export function toBase64(b) {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** toJSON turns a message's Uint8Array fields (and arrays of them) into base64. */
export function toJSON(m) {
  const out = {};
  for (const [k, v] of Object.entries(m)) {
    if (v instanceof Uint8Array) out[k] = toBase64(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => (x instanceof Uint8Array ? toBase64(x) : x));
    else out[k] = v;
  }
  return out;
}
