// Random hex for names (temp files, txids), from node:crypto asked for when called
// (process.getBuiltinModule), so a module that may name a file loads no `node:crypto` at load (a
// reader such as `status` loads none, SPEC.md §Dependencies and cost model). Not the Web Crypto
// global: its first use loads Node's webcrypto modules, ~3 ms more, ~6 ms under the heap limit's
// flag (lib/core/heap-growth.ts), where every store command has node:crypto loaded already.

/** `bytes` random bytes as lowercase hex (`crypto.randomBytes(bytes).toString('hex')`). */
export function randomHex(bytes: number): string {
  return process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');
}
