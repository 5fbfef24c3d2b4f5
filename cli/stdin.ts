// What the CLI can know about its stdin before reading it.

import { fstatSync } from 'node:fs';

/** stdin's length in bytes when it is redirected from a regular file (`< FILE`), for progress. */
export function stdinSize(): number | undefined {
  try {
    const st = fstatSync(0);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined; // closed or unreadable: the command's own read reports it
  }
}
