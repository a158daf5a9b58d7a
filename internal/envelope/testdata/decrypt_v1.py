#!/usr/bin/env python3
"""Independent decoder of the esign envelope v1 format (docs/crypto.md),
written from the documentation, used to cross-check envelope_v1_vectors.json.
Needs the Python 'cryptography' package. Run: python3 decrypt_v1.py"""
import json, os, struct, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

def header(b):
    assert b[:4] == b"ESGE" and b[4] == 1, "not an envelope v1"
    mode, n = b[5], b[6]
    end = 7 + n + 32
    return mode, b[7:7 + n].decode(), b[7 + n:end], end

def dek(kek, salt, mode):
    return HKDF(hashes.SHA256(), 32, salt, b"esign envelope v1 " + bytes([mode])).derive(kek)

def aad(hdr, ad):
    return hdr if not ad else hdr + struct.pack(">Q", len(ad)) + ad

def decrypt_buffer(kek, b, ad):
    mode, _, salt, end = header(b)
    assert mode == ord("B")
    return AESGCM(dek(kek, salt, mode)).decrypt(bytes(12), b[end:], aad(b[:end], ad))

def decrypt_stream(kek, b):
    mode, _, salt, end = header(b)
    assert mode == ord("S")
    chunk = struct.unpack(">I", b[end:end + 4])[0]
    hdr, body = b[:end + 4], b[end + 4:]
    g = AESGCM(dek(kek, salt, mode))
    out, i, sealed = b"", 0, chunk + 16
    while True:
        final = len(body) <= sealed
        part, body = body[:sealed], body[sealed:]
        nonce = bytes(7) + struct.pack(">I", i) + bytes([1 if final else 0])
        out += g.decrypt(nonce, part, hdr)
        i += 1
        if final:
            return out

v = json.load(open(os.path.join(os.path.dirname(__file__), "envelope_v1_vectors.json")))
kek = bytes.fromhex(v["key_hex"])
for vec in v["vectors"]:
    ct = bytes.fromhex(vec["ciphertext_hex"])
    pt = decrypt_buffer(kek, ct, v["associated_data"].encode()) if vec["form"] == "buffer" else decrypt_stream(kek, ct)
    assert pt.hex() == vec["plaintext_hex"], vec["form"]
    print(vec["form"], "ok")
