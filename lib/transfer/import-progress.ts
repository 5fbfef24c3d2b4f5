// Progress of an import: members read, and the bundle's bytes (its size known when it is a file).

import type { ImportProgress, ProgressListener } from '../core/types.js';
import { throttled, type SourceMeter } from '../ingest/source.js';

/** Called as each member of the bundle begins; reports at most every 100 ms. */
export type MemberReporter = (member: string, size: number) => void;

/** A reporter for `listener` (none: a no-op); with no meter, bytes are the members' sizes. */
export function importProgress(
  listener: ProgressListener | undefined,
  meter: SourceMeter | undefined,
): MemberReporter {
  const report = throttled<ImportProgress>(listener);
  let done = 0;
  let memberBytes = 0;
  const event = (subject?: string): ImportProgress => ({
    phase: 'import',
    unit: 'members',
    done,
    bytes: meter ? meter.read() : memberBytes,
    ...(meter?.size !== undefined ? { totalBytes: meter.size } : {}),
    ...(subject !== undefined ? { subject } : {}),
  });
  report(() => event(), true); // the phase begins: a terminal shows it before the first member
  return (member, size) => {
    done++;
    memberBytes += size;
    report(() => event(member));
  };
}
