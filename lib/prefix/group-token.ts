// A waiting writer's token file (SPEC.md §Group commit): `<state>/.pstore-tmp-group-TOKEN`, made by
// the waiter (txn/group-ask.ts) before it sends its request and removed by it afterwards. The
// holder serves a request only if its token is there: proof that the waiter may write the
// prefix's state. It is the one temp name made in the state directory without the writer lock, so
// the holder's sweep of crash leftovers (prefix/open.ts) removes a token only once its waiter is
// gone: the token holds the waiter's process id.

import { promises as fsp, writeFileSync } from 'node:fs';
import { errnoCode } from '../core/errors.js';
import { DEFAULT_WAIT_SECONDS } from '../core/config.js';
import { GROUP_TOKEN_PREFIX } from '../core/names.js';

/** The token file's name in the prefix's state directory. */
export const tokenName = (token: string) => `${GROUP_TOKEN_PREFIX}${token}`;

/**
 * Make the token file `file` (it must not exist), synchronously: a waiter loads no fs/promises and
 * starts no thread pool. Throws as writeFileSync does.
 */
export function makeToken(file: string): void {
  writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
}

/** Older than this, a token is a dead waiter's whatever it holds (a reused or foreign pid). */
const STALE_TOKEN_MS = DEFAULT_WAIT_SECONDS * 1000;

/**
 * Whether the token `file` belongs to no live waiter: older than STALE_TOKEN_MS, or naming a
 * process that is gone (ESRCH). One that names none yet (made, its pid not written yet; a write
 * that failed) counts by its age alone. A process of another user (EPERM) is alive; a pid reused
 * by another process, or one of another pid namespace, keeps or loses a token by mistake, which
 * costs a waiter its place in the group (it runs or waits again), never a transaction.
 */
export async function isDeadWaitersToken(file: string): Promise<boolean> {
  const st = await fsp.lstat(file).catch(() => undefined);
  if (!st || st.mtimeMs < Date.now() - STALE_TOKEN_MS) return true;
  const text = (await fsp.readFile(file, 'utf8').catch(() => '')).trim();
  const pid = Number(text);
  if (!/^[1-9][0-9]{0,9}$/.test(text) || !Number.isSafeInteger(pid)) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return errnoCode(err) === 'ESRCH';
  }
}
