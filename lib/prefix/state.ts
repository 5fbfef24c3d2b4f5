// The committed state of a prefix, as files in its state directory (SPEC.md §Prefix state):
// prefix.json (layout, store), current.json (the current generation) and generations/N.json
// (immutable records). All are written atomically and fsynced, so readers need no lock.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PstoreError, errnoCode } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { readdirOrEmpty } from '../store/manifests.js';
import { generationFile, prefixPaths, type LayoutKind, type PrefixPaths } from './layout.js';

export interface PackageRef {
  name: string;
  version: string;
  id: string;
}

export interface GenerationRecord {
  formatVersion: 1;
  generation: number;
  createdAt: string;
  packages: PackageRef[];
}

export interface PrefixRecord {
  formatVersion: 1;
  layout: LayoutKind;
  store: string;
  createdAt: string;
}

export interface CurrentRecord {
  formatVersion: 1;
  generation: number;
  /** the highest generation number ever created here, so numbers are never reused after prune */
  highest: number;
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new PstoreError('EPSTORE_INTEGRITY', `${file} is damaged (not JSON)`, { subject: file, cause: err });
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Find which layout manages `dir`, if any. */
export async function detectPrefix(dir: string): Promise<{ paths: PrefixPaths; record: PrefixRecord } | undefined> {
  for (const layout of ['inplace', 'generations'] as const) {
    const paths = prefixPaths(dir, layout);
    const record = await readJson<PrefixRecord>(paths.prefixFile);
    if (record) return { paths, record };
  }
  return undefined;
}

export async function readCurrent(p: PrefixPaths): Promise<CurrentRecord> {
  return (await readJson<CurrentRecord>(p.current)) ?? { formatVersion: 1, generation: 0, highest: 0 };
}

export const EMPTY_GENERATION: GenerationRecord = { formatVersion: 1, generation: 0, createdAt: '', packages: [] };

export async function readGeneration(p: PrefixPaths, n: number): Promise<GenerationRecord | undefined> {
  if (n === 0) return EMPTY_GENERATION;
  return readJson<GenerationRecord>(generationFile(p, n));
}

export async function listGenerationNumbers(p: PrefixPaths): Promise<number[]> {
  const names = await readdirOrEmpty(p.generations);
  return names.filter((n) => /^\d+\.json$/.test(n)).map((n) => Number(n.slice(0, -5))).sort((a, b) => a - b);
}

export async function listGenerations(p: PrefixPaths): Promise<GenerationRecord[]> {
  const out: GenerationRecord[] = [];
  for (const n of await listGenerationNumbers(p)) {
    const g = await readGeneration(p, n);
    if (g) out.push(g);
  }
  return out;
}

export function sortPackages(pkgs: readonly PackageRef[]): PackageRef[] {
  return [...pkgs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
