// Object keys (SPEC.md §Objects): an object is a file's bytes plus its executable bit (hard links
// share one inode, so an executable and a plain file with equal bytes need two objects). Its key is
// the sha512 hex of its bytes, `-x` if executable. Where the object lives is store/layout.ts's.

// Decoded into one reused buffer: this runs for every file placed, and a Buffer per call is garbage.
const DIGEST = Buffer.allocUnsafeSlow(96);
const DIGEST_BASE64 = (DIGEST.length / 3) * 4;

/** The hex digest of an ssri integrity string (`sha512-<base64>`). */
export function hexOf(integrity: string): string {
  const base64 = integrity.slice(integrity.indexOf('-') + 1);
  if (base64.length > DIGEST_BASE64) return Buffer.from(base64, 'base64').toString('hex');
  return DIGEST.toString('hex', 0, DIGEST.write(base64, 'base64'));
}

export function objectKey(hex: string, exec: boolean): string {
  return exec ? `${hex}-x` : hex;
}

export function parseObjectKey(key: string): { hex: string; exec: boolean } {
  return key.endsWith('-x') ? { hex: key.slice(0, -2), exec: true } : { hex: key, exec: false };
}

/** The key of the object holding a manifest's regular file. */
export function fileObjectKey(f: { integrity: string; exec: boolean }): string {
  return objectKey(hexOf(f.integrity), f.exec);
}
