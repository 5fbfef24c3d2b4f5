// The journal (SPEC.md §Journal format): one file, <state>/journal.json, written atomically and
// fsynced before a transaction touches the prefix, removed (and the removal fsynced) after commit.
// It names both package sets, so recovery can recompute the plan: plans are pure functions of them.

import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fsyncDir } from '../fs/atomic.js';
import type { LayoutKind, PrefixPaths } from '../prefix/layout.js';
import { readJson, writeJson, type PackageRef } from '../prefix/state.js';
import type { LinkMode } from './link.js';

export type TxnKind = 'activate' | 'deactivate' | 'rollback' | 'sync';

export interface Journal {
  formatVersion: 1;
  txid: string;
  kind: TxnKind;
  layout: LayoutKind;
  link: LinkMode;
  startedAt: string;
  from: { generation: number; packages: PackageRef[] };
  /** newGeneration: false when the target is an existing generation (rollback) */
  to: { generation: number; packages: PackageRef[]; newGeneration: boolean };
}

export function newTxid(): string {
  return randomBytes(6).toString('hex');
}

export async function writeJournal(p: PrefixPaths, j: Journal): Promise<void> {
  await writeJson(p.journal, j);
}

export async function readJournal(p: PrefixPaths): Promise<Journal | undefined> {
  return readJson<Journal>(p.journal);
}

export async function clearJournal(p: PrefixPaths): Promise<void> {
  await fsp.rm(p.journal, { force: true });
  await fsyncDir(p.meta);
}
