// Bundle format (SPEC.md §Bundles): an uncompressed tar, members in this order:
//   pstore-bundle.json      { bundleVersion: 1, entries: [{ id, name, version, integrity }] }
//   entries/<id>.json       each entry's canonical manifest bytes
//   objects/<key>           each object the manifests name, once (key = sha512 hex, `-x` if exec)
// Deterministic: sorted, mtime 0, no owners, so the same entries give the same bundle bytes.

export const BUNDLE_VERSION = 1;
export const BUNDLE_DESCRIPTOR = 'pstore-bundle.json';

export interface BundleDescriptor {
  bundleVersion: 1;
  entries: Array<{ id: string; name: string; version: string; integrity: string }>;
}

/** The descriptor's exact bytes; import accepts no other spelling, so any changed byte is caught. */
export function serializeDescriptor(d: BundleDescriptor): string {
  const canonical: BundleDescriptor = {
    bundleVersion: d.bundleVersion,
    entries: d.entries.map((e) => ({
      id: e.id,
      name: e.name,
      version: e.version,
      integrity: e.integrity,
    })),
  };
  return `${JSON.stringify(canonical, null, 2)}\n`;
}
