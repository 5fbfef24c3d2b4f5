// A Debian package as a source (SPEC.md §Input formats): name and version from its control
// fields, the payload from `dpkg-deb --fsys-tarfile` as a tar stream. Without dpkg-deb the add is
// refused with the commands that do the same by hand.

import { execFile, spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { PstoreError, errnoCode } from '../core/errors.js';

const execFileP = promisify(execFile);

export interface DebPackage {
  name: string;
  version: string;
}

/** Package and Version from the control file. */
export async function debIdentity(file: string): Promise<DebPackage> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP('dpkg-deb', ['--field', file, 'Package', 'Version']));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT')
      throw new PstoreError(
        'EPSTORE_BAD_ARCHIVE',
        `${file} is a Debian package, and dpkg-deb is not installed to read it`,
        {
          subject: file,
          hint: `install dpkg (apt-get install dpkg), or: ar p ${file} data.tar.xz | xz -dc | pstore add - --name N --version V`,
          cause: err,
        },
      );
    throw damaged(file, err);
  }
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  const name = fields.get('package');
  const version = fields.get('version');
  if (!name || !version)
    throw new PstoreError(
      'EPSTORE_BAD_ARCHIVE',
      `${file}: its control file has no ${name ? 'Version' : 'Package'} field`,
      {
        subject: file,
      },
    );
  return { name, version };
}

/** The payload as a tar stream; `done` settles when dpkg-deb has exited (rejecting on failure). */
export function debPayload(file: string): { tar: Readable; done: Promise<void> } {
  const child = spawn('dpkg-deb', ['--fsys-tarfile', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(damaged(file, err)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          damaged(
            file,
            new Error(Buffer.concat(stderr).toString().trim() || `dpkg-deb exited ${code}`),
          ),
        );
    });
  });
  done.catch(() => {}); // observed by the caller after the tar is read
  // Node discards what an exited child wrote that nobody was reading (flushStdio), and the tar is
  // read only after the store lock is taken: a PassThrough holds it (back-pressure keeps dpkg-deb
  // waiting, not exiting, while it is full).
  const tar = new PassThrough();
  child.stdout.pipe(tar);
  tar.on('close', () => child.stdout.destroy());
  return { tar, done };
}

function damaged(file: string, err: unknown): PstoreError {
  const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
  return new PstoreError(
    'EPSTORE_BAD_ARCHIVE',
    `${file} cannot be read as a Debian package (${detail})`,
    {
      subject: file,
      cause: err,
    },
  );
}
