// What a pull reports, apart from pull.ts so that present.ts can answer a warm pull without it.

/** One entry a pull asked for. */
export interface PulledEntry {
  /** the entry id */
  id: string;
  /** the package name */
  name: string;
  /** the package version */
  version: string;
  /** false when the store had it already */
  pulled: boolean;
}

/** What {@link Store.pull} did (or, with `dryRun`, would do). */
export interface PullResult {
  /** the remote, as given (`oci://HOST[:PORT]/REPOSITORY`) */
  remote: string;
  /** every entry asked for */
  entries: PulledEntry[];
  /** registry blobs downloaded */
  blobsDownloaded: number;
  /** bytes downloaded */
  bytesDownloaded: number;
  /** objects the store lacked and imported */
  objectsImported: number;
  /** whether this was a dry run (nothing downloaded or imported) */
  dryRun: boolean;
}
