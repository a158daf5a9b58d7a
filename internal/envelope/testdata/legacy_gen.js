// Generates legacy_vectors.json: the spec's legacy format as the original
// Node.js service (server/gcm.js) wrote it, per our reading in docs/crypto.md.
// Independent of the Go code. Run: node legacy_gen.js > legacy_vectors.json
'use strict';
const crypto = require('crypto');

// The master key: 32 Base62 characters, used as the PBKDF2 password.
const secret = 'Zk3pQ8vR2mX7bN4tY9wL1cF6hJ0sD5gA';

function encrypt(plaintext, salt, iv) {
  const key = crypto.pbkdf2Sync(secret, salt, 5000, 32, 'sha256');
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const enc = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return { key, data: Buffer.concat([salt, iv, tag, enc]) };
}

const vectors = [
  ['empty', Buffer.alloc(0)],
  ['password', Buffer.from('p12-Password!', 'utf8')],
  ['unicode', Buffer.from('árvíztűrő tükörfúrógép', 'utf8')],
  ['binary', Buffer.from([...Array(300).keys()].map((i) => (i * 7) & 0xff))],
].map(([name, pt], i) => {
  const salt = Buffer.alloc(64, i + 1);
  const iv = Buffer.alloc(12, 0xa0 + i);
  const { key, data } = encrypt(pt, salt, iv);
  return {
    name,
    plaintext_hex: pt.toString('hex'),
    key_hex: key.toString('hex'),
    ciphertext_base64: data.toString('base64'),
  };
});
process.stdout.write(JSON.stringify({ secret, salt_size: 64, iterations: 5000, vectors }, null, 2) + '\n');
