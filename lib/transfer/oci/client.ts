// The distribution-API calls pstore needs, on one repository: existence checks (HEAD), manifests by
// tag or digest, blob uploads (monolithic, with a chunked fallback for registries that refuse large
// bodies) and blob downloads streamed to a file under a size cap and checked against their sha256.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PstoreError } from '../../core/errors.js';
import type { RegistryHttp } from './http.js';

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];
/** the distribution spec asks registries to accept manifests of at least 4 MiB; pstore reads no more */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 4 * 1024 * 1024; // GHCR refuses larger PATCH chunks

/** bytes to upload: a file (reopened per attempt, streamed) or a small buffer */
export interface BlobSource {
  size: number;
  open(start?: number, end?: number): Buffer | Readable;
}

export function fileSource(file: string, size: number): BlobSource {
  return {
    size,
    open: (start = 0, end = size - 1) =>
      // 1 MiB reads: a fetch body moves chunk by chunk through web streams, each with a cost.
      size === 0 ? Buffer.alloc(0) : createReadStream(file, { start, end, highWaterMark: 1 << 20 }),
  };
}

export function bufferSource(bytes: Buffer): BlobSource {
  return {
    size: bytes.length,
    open: (start = 0, end = bytes.length - 1) => bytes.subarray(start, end + 1),
  };
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface FetchedManifest {
  bytes: Buffer;
  /** sha256 of the bytes received, computed here (never the registry's header) */
  digest: string;
}

export class RegistryClient {
  constructor(readonly http: RegistryHttp) {}

  private path(rest: string): string {
    return `/v2/${this.http.remote.repository}/${rest}`;
  }

  async blobExists(digest: string): Promise<boolean> {
    const res = await this.http.request({
      method: 'HEAD',
      url: this.path(`blobs/${digest}`),
      accept: [200, 404],
    });
    return res.status === 200;
  }

  /** the digest the registry reports for a tag, or undefined when it has no such manifest */
  async manifestDigest(ref: string): Promise<string | undefined> {
    const res = await this.http.request({
      method: 'HEAD',
      url: this.path(`manifests/${ref}`),
      headers: { accept: MANIFEST_TYPES.join(', ') },
      accept: [200, 404],
    });
    return res.status === 200 ? (res.headers.get('docker-content-digest') ?? '') : undefined;
  }

  async getManifest(ref: string): Promise<FetchedManifest | undefined> {
    const res = await this.http.request({
      method: 'GET',
      url: this.path(`manifests/${ref}`),
      headers: { accept: MANIFEST_TYPES.join(', ') },
      accept: [200, 404],
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    const bytes = await readCapped(res, MAX_MANIFEST_BYTES, `manifest ${ref}`);
    return { bytes, digest: sha256Digest(bytes) };
  }

  async putManifest(ref: string, bytes: Buffer, mediaType: string): Promise<void> {
    const res = await this.http.request({
      method: 'PUT',
      url: this.path(`manifests/${ref}`),
      headers: { 'content-type': mediaType },
      body: () => bytes,
      accept: [201],
    });
    await res.body?.cancel();
  }

  /** POST an upload session, then PUT the whole blob; chunks when the registry refuses the size */
  async uploadBlob(digest: string, source: BlobSource): Promise<void> {
    const location = await this.startUpload();
    const res = await this.http.request({
      method: 'PUT',
      url: withDigest(location, digest),
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(source.size),
      },
      body: () => source.open(),
      accept: [201, 413, 416],
    });
    await res.body?.cancel();
    if (res.status !== 201) {
      await this.http
        .request({ method: 'DELETE', url: location, accept: [204, 404] })
        .catch(() => undefined);
      await this.uploadChunked(digest, source);
    }
  }

  private async startUpload(): Promise<string> {
    const res = await this.http.request({
      method: 'POST',
      url: this.path('blobs/uploads/'),
      accept: [202],
    });
    await res.body?.cancel();
    const location = res.headers.get('location');
    if (!location)
      throw new PstoreError(
        'EPSTORE_REMOTE',
        `${this.http.remote.display}: upload session without a Location`,
        { subject: this.http.remote.display, data: { status: 202 } },
      );
    return this.http.url(location).href;
  }

  private async uploadChunked(digest: string, source: BlobSource): Promise<void> {
    let location = await this.startUpload();
    for (let start = 0; start < source.size; start += CHUNK_BYTES) {
      const end = Math.min(source.size, start + CHUNK_BYTES) - 1;
      const res = await this.http.request({
        method: 'PATCH',
        url: location,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${start}-${end}`,
          'content-length': String(end - start + 1),
        },
        body: () => source.open(start, end),
        accept: [202],
      });
      await res.body?.cancel();
      location = this.http.url(res.headers.get('location') ?? location).href;
    }
    const res = await this.http.request({
      method: 'PUT',
      url: withDigest(location, digest),
      accept: [201],
    });
    await res.body?.cancel();
  }

  /** a small blob (a config) in memory, checked against its digest and size */
  async readBlob(digest: string, size: number): Promise<Buffer> {
    const res = await this.http.request({
      method: 'GET',
      url: this.path(`blobs/${digest}`),
      accept: [200],
    });
    const bytes = await readCapped(res, size, `blob ${digest}`);
    checkReceived(digest, size, bytes.length, sha256Digest(bytes));
    return bytes;
  }

  /** a blob streamed into `file` (created, never overwritten) while hashed, under a cap of `size` */
  async downloadBlob(
    digest: string,
    size: number,
    file: string,
    onBytes: (n: number) => void,
  ): Promise<void> {
    const res = await this.http.request({
      method: 'GET',
      url: this.path(`blobs/${digest}`),
      accept: [200],
    });
    const announced = Number(res.headers.get('content-length') ?? size);
    if (announced > size) {
      await res.body?.cancel();
      throw tooLarge(digest, size);
    }
    const hash = createHash('sha256');
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > size) return done(tooLarge(digest, size));
        hash.update(chunk);
        onBytes(chunk.length);
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(res.body! as never),
        meter,
        createWriteStream(file, { flags: 'wx' }),
      );
    } catch (err) {
      if (err instanceof PstoreError) throw err;
      throw truncated(digest, size, received);
    }
    checkReceived(digest, size, received, `sha256:${hash.digest('hex')}`);
  }
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.href;
}

async function readCapped(res: Response, cap: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of Readable.fromWeb(res.body! as never) as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > cap)
        throw new PstoreError('EPSTORE_INTEGRITY', `${what} is larger than ${cap} bytes`, {
          subject: what,
        });
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof PstoreError) throw err;
    throw new PstoreError(
      'EPSTORE_INTEGRITY',
      `${what}: the download broke off after ${total} bytes`,
      { subject: what },
    );
  }
  return Buffer.concat(chunks);
}

function checkReceived(digest: string, size: number, received: number, actual: string): void {
  if (received !== size) throw truncated(digest, size, received);
  if (actual !== digest)
    throw new PstoreError(
      'EPSTORE_INTEGRITY',
      `blob ${digest}: the bytes received hash to ${actual}`,
      { subject: digest },
    );
}

function tooLarge(digest: string, size: number): PstoreError {
  return new PstoreError(
    'EPSTORE_INTEGRITY',
    `blob ${digest} is larger than the ${size} bytes its manifest says`,
    { subject: digest },
  );
}

function truncated(digest: string, size: number, received: number): PstoreError {
  return new PstoreError(
    'EPSTORE_INTEGRITY',
    `blob ${digest}: ${received} of ${size} bytes received`,
    { subject: digest },
  );
}
