import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { startS3Server, TestS3Server } from '../../../../test/support/s3-server';
import { readAppConfig } from '../../../config/app-config';
import { BlobStore } from './blob-store';
import { createBlobStore } from './blob-store.provider';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';

/** A file on disk, as Staging leaves one: its path, SHA-256 and length. */
interface Source {
  path: string;
  hash: string;
  size: number;
}

let work: string;
let counter = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'coderunner-blob-store-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function sourceOf(bytes: Buffer): Promise<Source> {
  const path = join(work, `source-${++counter}`);
  await writeFile(path, bytes);
  return { path, hash: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** A file of `size` random bytes, written a MB at a time (never whole in memory), hashed on the way. */
async function largeSource(size: number): Promise<Source> {
  const path = join(work, `large-${++counter}`);
  const digest = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; ) {
    const chunk = randomBytes(Math.min(1024 * 1024, size - written));
    digest.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return { path, hash: digest.digest('hex'), size };
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** SHA-256 and length of a stream, without keeping it. */
async function digestOf(stream: Readable): Promise<{ hash: string; size: number }> {
  const digest = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    digest.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash: digest.digest('hex'), size };
}

/** Bytes `start`..`end` (both included) of a file, from disk. */
function fileRange(path: string, start: number, end: number): Promise<Buffer> {
  return bytesOf(createReadStream(path, { start, end }));
}

const MISSING = 'f'.repeat(64);

function s3StoreFor(server: TestS3Server, overrides: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {}): S3BlobStore {
  return new S3BlobStore({
    endpoint: server.endpoint,
    bucket: server.bucket,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    ...overrides,
  });
}

interface Backend {
  name: string;
  open(): Promise<{ store: BlobStore; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'LocalBlobStore',
    async open() {
      const root = await mkdtemp(join(tmpdir(), 'coderunner-local-blobs-'));
      return { store: new LocalBlobStore(root), close: () => rm(root, { recursive: true, force: true }) };
    },
  },
  {
    name: 'S3BlobStore (s3rver)',
    async open() {
      const server = await startS3Server();
      const store = s3StoreFor(server);
      return {
        store,
        async close() {
          store.onModuleDestroy();
          await server.stop();
        },
      };
    },
  },
];

describe.each(backends)('BlobStore contract: $name', ({ open }) => {
  let store: BlobStore;
  let close: () => Promise<void>;
  let sample: Source;
  const bytes = randomBytes(1000);

  beforeAll(async () => {
    ({ store, close } = await open());
    await store.start();
    // start() is safe to call on a store that is already there.
    await store.start();
    sample = await sourceOf(bytes);
  });

  afterAll(async () => {
    await close();
  });

  it('stores a blob: has, then the same bytes back whole', async () => {
    expect(await store.has(sample.hash)).toBe(false);
    await store.put(sample.hash, sample.path, sample.size);
    expect(await store.has(sample.hash)).toBe(true);
    expect((await bytesOf(await store.read(sample.hash))).equals(bytes)).toBe(true);
  });

  it('reads ranges, both ends included: first byte, last byte, middle, whole', async () => {
    await store.put(sample.hash, sample.path, sample.size);
    const range = async (start: number, end: number) => bytesOf(await store.read(sample.hash, { start, end }));
    expect(await range(0, 0)).toEqual(bytes.subarray(0, 1));
    expect(await range(999, 999)).toEqual(bytes.subarray(999, 1000));
    expect(await range(100, 199)).toEqual(bytes.subarray(100, 200));
    expect(await range(0, 999)).toEqual(bytes);
  });

  it('stores the same blob twice without complaint', async () => {
    await store.put(sample.hash, sample.path, sample.size);
    await store.put(sample.hash, sample.path, sample.size);
    expect(await store.has(sample.hash)).toBe(true);
    expect((await bytesOf(await store.read(sample.hash))).equals(bytes)).toBe(true);
  });

  it('leaves the source file in place', async () => {
    const source = await sourceOf(randomBytes(64));
    await store.put(source.hash, source.path, source.size);
    expect((await bytesOf(createReadStream(source.path))).length).toBe(64);
  });

  it('stores an empty blob', async () => {
    const empty = await sourceOf(Buffer.alloc(0));
    await store.put(empty.hash, empty.path, 0);
    expect(await store.has(empty.hash)).toBe(true);
    expect((await bytesOf(await store.read(empty.hash))).length).toBe(0);
  });

  it('deletes a blob: has is false and read rejects after', async () => {
    const doomed = await sourceOf(randomBytes(300));
    await store.put(doomed.hash, doomed.path, doomed.size);
    await store.delete(doomed.hash);
    expect(await store.has(doomed.hash)).toBe(false);
    await expect(store.read(doomed.hash)).rejects.toThrow();
  });

  it('deletes a missing blob without complaint', async () => {
    await expect(store.delete(MISSING)).resolves.toBeUndefined();
  });

  it('rejects reading a missing blob, whole or a range', async () => {
    expect(await store.has(MISSING)).toBe(false);
    await expect(store.read(MISSING)).rejects.toThrow();
    await expect(store.read(MISSING, { start: 0, end: 9 })).rejects.toThrow();
  });

  it('refuses what is not a blob hash', async () => {
    await expect(store.put('../../escape', sample.path, sample.size)).rejects.toThrow(/not a blob hash/);
    await expect(store.read('ABC')).rejects.toThrow(/not a blob hash/);
  });

  it('streams a 20 MB blob through put and read', async () => {
    const size = 20 * 1024 * 1024 + 12_345;
    const large = await largeSource(size);
    await store.put(large.hash, large.path, large.size);
    expect(await store.has(large.hash)).toBe(true);
    expect(await digestOf(await store.read(large.hash))).toEqual({ hash: large.hash, size });
    // Across the boundary of the first two 8 MB parts of an S3 multipart upload, and the tail.
    const boundary = 8 * 1024 * 1024;
    const across = await bytesOf(await store.read(large.hash, { start: boundary - 10, end: boundary + 9 }));
    expect(across.equals(await fileRange(large.path, boundary - 10, boundary + 9))).toBe(true);
    const tail = await bytesOf(await store.read(large.hash, { start: size - 5, end: size - 1 }));
    expect(tail.equals(await fileRange(large.path, size - 5, size - 1))).toBe(true);
    await store.delete(large.hash);
    await rm(large.path);
  });
});

describe('S3BlobStore', () => {
  let server: TestS3Server;
  const stores: S3BlobStore[] = [];
  const storeFor = (overrides: Parameters<typeof s3StoreFor>[1] = {}) => {
    const store = s3StoreFor(server, overrides);
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    server = await startS3Server({ bucket: 'made-by-start', createBucket: false });
  });

  afterAll(async () => {
    for (const store of stores) store.onModuleDestroy();
    await server.stop();
  });

  it('start() creates a missing bucket', async () => {
    const store = storeFor();
    const source = await sourceOf(randomBytes(10));
    await expect(store.put(source.hash, source.path, source.size)).rejects.toThrow();
    await store.start();
    await store.put(source.hash, source.path, source.size);
    expect(await store.has(source.hash)).toBe(true);
  });

  it('keeps blobs under blobs/<aa>/<bb>/<hash>', async () => {
    const store = storeFor();
    await store.start();
    const source = await sourceOf(randomBytes(10));
    await store.put(source.hash, source.path, source.size);
    const key = `blobs/${source.hash.slice(0, 2)}/${source.hash.slice(2, 4)}/${source.hash}`;
    expect(store.keyOf(source.hash)).toBe(key);
    const client = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: key }));
      expect(head.ContentLength).toBe(10);
    } finally {
      client.destroy();
    }
  });

  it('start() with wrong credentials names the endpoint and bucket, never the secret', async () => {
    // s3rver checks that the access key id is its own but does not verify SigV4 signatures, so a
    // wrong secret alone would pass there: the key id is wrong too.
    const secret = 'not-the-right-secret-0123456789';
    const store = storeFor({ accessKeyId: 'NOT-S3RVER', secretAccessKey: secret });
    const failure = await store.start().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toContain(server.endpoint);
    expect(failure!.message).toContain(`"${server.bucket}"`);
    expect(failure!.message).toMatch(/403/);
    expect(failure!.message).not.toContain(secret);
  });

  it('start() with no server there names the endpoint and bucket', async () => {
    // Port 1 on the loopback address: nothing listens there, the connection is refused at once.
    const store = storeFor({ endpoint: 'http://127.0.0.1:1' });
    await expect(store.start()).rejects.toThrow(/bucket "made-by-start" at http:\/\/127\.0\.0\.1:1/);
  });

  it('start() says so when the bucket is missing and cannot be created', async () => {
    // Not a valid bucket name: the server has no such bucket and refuses to make one.
    const store = storeFor({ bucket: 'Not_A_Valid_Bucket' });
    await expect(store.start()).rejects.toThrow(/bucket "Not_A_Valid_Bucket" at .* does not exist and could not be created .*HTTP 400/);
  });

  it('put() refuses a source whose length is not the size given', async () => {
    const store = storeFor();
    await store.start();
    const source = await sourceOf(randomBytes(10));
    await expect(store.put(source.hash, source.path, 11)).rejects.toThrow(/10 bytes, not 11/);
    expect(await store.has(source.hash)).toBe(false);
  });

  it('refuses a range answered with the whole object rather than pass it on', async () => {
    // s3rver as published answers bytes=0-0 with the whole object; the test server fixes that unless told not to.
    const buggy = await startS3Server({ exactFirstByte: false });
    const store = s3StoreFor(buggy);
    try {
      await store.start();
      const source = await sourceOf(randomBytes(100));
      await store.put(source.hash, source.path, source.size);
      await expect(store.read(source.hash, { start: 0, end: 0 })).rejects.toThrow(/answered range 0-0/);
      // Other ranges are right even there.
      expect((await bytesOf(await store.read(source.hash, { start: 0, end: 1 }))).length).toBe(2);
    } finally {
      store.onModuleDestroy();
      await buggy.stop();
    }
  });

  it('serves a range that runs past the end up to the last byte, as a file read does', async () => {
    const store = storeFor();
    await store.start();
    const bytes = randomBytes(50);
    const source = await sourceOf(bytes);
    await store.put(source.hash, source.path, source.size);
    expect(await bytesOf(await store.read(source.hash, { start: 40, end: 99 }))).toEqual(bytes.subarray(40));
  });
});

describe('createBlobStore', () => {
  it('is the local store by default', () => {
    expect(createBlobStore(readAppConfig({ DATA_DIR: '/tmp/x' })).kind).toBe('local');
  });

  it('is an S3 store built from the S3_* settings when FILES_STORAGE=s3', async () => {
    const store = createBlobStore(
      readAppConfig({
        DATA_DIR: '/tmp/x',
        FILES_STORAGE: 's3',
        S3_ENDPOINT: 'http://127.0.0.1:1',
        S3_BUCKET: 'configured',
        S3_ACCESS_KEY_ID: 'id',
        S3_SECRET_ACCESS_KEY: 'secret',
      }),
    );
    expect(store).toBeInstanceOf(S3BlobStore);
    await expect(store.start()).rejects.toThrow(/bucket "configured" at http:\/\/127\.0\.0\.1:1/);
    (store as S3BlobStore).onModuleDestroy();
  });
});
