// Compile-only: the public API's types as an installer writes against them. Never run; compiled by
// `npx tsc -p test/tsconfig.json` (and by test/api/installer.test.ts, on this file alone). Every
// declaration below states a type the package promises; a change that breaks one is a breaking
// change of the API.

import { Readable } from 'node:stream';
import {
  DEFAULT_MARKER_GLOBS,
  ERROR_MEANINGS,
  identifyManifest,
  isPstoreError,
  lockedPackages,
  openStore,
  readLockfile,
  serializeLockfile,
  serializeManifest,
  splitRef,
  validateLockfile,
  writeLockfile,
  type AddOptions,
  type AddResult,
  type AddSource,
  type EntryInfo,
  type EntryRecord,
  type ErrorCode,
  type ExportResult,
  type GcOptions,
  type GcResult,
  type GenerationInfo,
  type ImportResult,
  type InMemoryFile,
  type LayoutKind,
  type LinkMode,
  type LockedPackage,
  type Lockfile,
  type Manifest,
  type ManifestFile,
  type PackageRef,
  type Prefix,
  type PrefixStatus,
  type PrefixVerifyResult,
  type ProgressEvent,
  type ProgressListener,
  type PruneResult,
  type RecoverResult,
  type Store,
  type StoreOptions,
  type Transaction,
  type TxnOptions,
  type TxnResult,
  type VerifyResult,
} from '../../lib/index.js';

export async function installerTypes(): Promise<void> {
  const onProgress: ProgressListener = (e: ProgressEvent) => {
    const phase: string = e.phase;
    const done: number = e.done;
    const total: number | undefined = e.total;
    void [phase, done, total];
  };
  const storeOptions: StoreOptions = {
    path: '/var/cache/pstore',
    waitSeconds: 600,
    onWait: (what: string) => void what,
  };
  const store: Store = openStore(storeOptions);
  const root: string = store.root;

  const files: InMemoryFile[] = [
    { path: 'lib/python3/site-packages/hello.py', data: 'print("hi")\n' },
    { path: 'bin/hello', data: new Uint8Array([35, 33]), exec: true },
    { path: 'share/hello', type: 'dir' },
    { path: 'bin/hi', type: 'symlink', target: 'hello' },
  ];
  const sources: AddSource[] = [
    '/tmp/stage',
    { tar: Readable.from([]), label: 'x.tar' },
    { tar: Readable.from([]) },
    { files },
  ];
  const addOptions: AddOptions = {
    name: 'hello',
    version: '1.0',
    markers: ['share/hello/*.json'],
    onProgress,
  };
  const added: AddResult = await store.add(sources[0]!, addOptions);
  const written: number = added.objectsWritten;
  const record: EntryRecord = added;
  const listed: EntryRecord[] = await store.list();
  const resolved: EntryRecord = await store.resolve(`${record.name}@${record.version}`);
  const info: EntryInfo = await store.info(resolved.id, { paths: true });
  const manifest: Manifest = await store.manifest(info.id);
  const first: ManifestFile | undefined = manifest.files[0];
  if (first?.type === 'file') {
    const integrity: string = first.integrity;
    const exec: boolean = first.exec;
    void [integrity, exec];
  } else if (first?.type === 'symlink') {
    const target: string = first.target;
    void target;
  }
  const identified: { id: string; integrity: string } = identifyManifest(manifest);
  const bytes: string | Uint8Array = serializeManifest(manifest);
  const verified: VerifyResult = await store.verify({ onProgress });
  const gcOptions: GcOptions = {};
  const gced: GcResult = await store.gc(gcOptions);

  const layout: LayoutKind = 'generations';
  const link: LinkMode = 'auto';
  const prefix: Prefix = store.prefix('/opt/sage/local', { layout });
  const dir: string = prefix.dir;
  const txnOptions: TxnOptions = { link, layout: 'inplace', onProgress };
  const activated: TxnResult = await prefix.activate(
    [`${added.name}@${added.version}`],
    txnOptions,
  );
  const refs: PackageRef[] = [...activated.activated, ...activated.deactivated];
  const ref: PackageRef | undefined = refs[0];
  const refFields: [string, string, string] | undefined = ref && [ref.name, ref.version, ref.id];
  const gen: number = activated.generation;
  const prev: number = activated.previousGeneration;
  const noop: boolean = activated.noop;
  const used: LinkMode = activated.link;
  const txn: Transaction = prefix
    .transaction()
    .deactivate('hello')
    .activate('cython@3.0.0', 'jinja2@3.1.2');
  const committed: TxnResult = await txn.commit({ link: 'hardlink' });
  const synced: TxnResult = await prefix.sync(['cython@3.0.0']);
  const rolled: TxnResult = await prefix.rollback({ to: 1, link: 'copy' });
  const deactivated: TxnResult = await prefix.deactivate(['cython']);
  const status: PrefixStatus = await prefix.status();
  const busy: boolean = status.transactionInProgress;
  const generations: GenerationInfo[] = await prefix.generations();
  const current: boolean | undefined = generations[0]?.current;
  const recovered: RecoverResult = await prefix.recover();
  const pruned: PruneResult = await prefix.prune({ keep: 5 });
  const checked: PrefixVerifyResult = await prefix.verify();
  const hash: { digest: string; paths: number; generation: number } = await prefix.hash();

  const lock: Lockfile = await prefix.lock();
  const version: 1 = lock.lockfileVersion;
  const pinned: LockedPackage[] = lockedPackages(lock);
  const text: string = serializeLockfile(lock);
  await writeLockfile('/tmp/pstore.lock', lock);
  const read: Lockfile = await readLockfile('/tmp/pstore.lock');
  const valid: Lockfile = validateLockfile(JSON.parse(text) as unknown, 'pstore.lock');
  const fromLock: TxnResult = await prefix.syncLockfile(read, { link: 'auto' });

  const exported: ExportResult = await store.export(['cython@3.0.0'], '/tmp/deps.pstore');
  const exportedEntries: Array<{ id: string; name: string; version: string }> = exported.entries;
  const imported: ImportResult = await store.import('/tmp/deps.pstore');
  const importedStream: ImportResult = await store.import(Readable.from([]));
  const counts: [number, number] = [imported.objectsImported, imported.objectsPresent];

  try {
    await prefix.activate(['cython@3.0.0']);
  } catch (err: unknown) {
    if (isPstoreError(err, 'EPSTORE_CONFLICT')) {
      const subject: string | undefined = err.subject;
      const code: ErrorCode = err.code;
      const owners: Array<string | undefined> | undefined = err.data?.owners;
      void [subject, code, owners];
    } else if (isPstoreError(err, 'EPSTORE_INTEGRITY')) {
      const reason: 'missing' | 'corrupt' | undefined = err.data?.reason;
      void reason;
    } else if (isPstoreError(err)) {
      const meaning: string = ERROR_MEANINGS[err.code];
      void meaning;
    }
  }
  const split: { name: string; version?: string } = splitRef('numpy@1:1.24.2-1+deb12u1');
  const globs: readonly string[] = DEFAULT_MARKER_GLOBS;

  void [
    root,
    written,
    listed,
    identified,
    bytes,
    verified,
    gced,
    dir,
    refFields,
    gen,
    prev,
    noop,
    used,
    committed,
    synced,
    rolled,
    deactivated,
    busy,
    current,
    recovered,
    pruned,
    checked,
    hash,
    version,
    pinned,
    valid,
    fromLock,
    exportedEntries,
    importedStream,
    counts,
    split,
    globs,
  ];
}
