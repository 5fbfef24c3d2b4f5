// Random hex for names (temp files, txids), from the Web Crypto global: it is drawn when called,
// so a module that may name a file imports no `node:crypto` at load (a reader such as `status`
// loads none, SPEC.md §Dependencies and cost model).

/** `bytes` random bytes as lowercase hex (`crypto.randomBytes(bytes).toString('hex')`). */
export function randomHex(bytes: number): string {
  const buf = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}
