import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The little of s3rver's API used here (the package ships no types). */
interface S3rverObject {
  content: NodeJS.ReadableStream & { destroy(): void };
  range?: { start: number; end: number };
}
interface S3rverStore {
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3rverObject | null>;
  getResourcePath(bucket: string, key: string, resource: string): string;
}
interface S3rverInstance {
  store: S3rverStore;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  resetOnClose: boolean;
  vhostBuckets: boolean;
  allowMismatchedSignatures: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

/** A local S3-compatible server for tests, and what TestApp.start needs to use it. */
export interface TestS3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** A bucket that already exists. */
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** FILES_STORAGE=s3 and the S3_* variables, for TestApp.start. */
  env: Record<string, string>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * s3rver's one account. It refuses any other access key id, but does not verify
 * SigV4 signatures, so a wrong secret goes unnoticed there.
 */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

/**
 * Starts s3rver on 127.0.0.1 and a free port, keeping its buckets in a new
 * temporary directory. `bucket` is created unless `createBucket` is false (to
 * test that the store creates it). `exactFirstByte: false` leaves s3rver's
 * first-byte bug in place (see answerFirstByteExactly).
 */
export async function startS3Server(
  options: { bucket?: string; createBucket?: boolean; exactFirstByte?: boolean } = {},
): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'coderunner-test';
  const directory = await mkdtemp(join(tmpdir(), 'coderunner-s3-'));
  const S3rver = require('s3rver') as S3rverClass;
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    resetOnClose: false,
    // Path-style URLs only (S3_FORCE_PATH_STYLE=true): no bucket-name host names to resolve.
    vhostBuckets: false,
    allowMismatchedSignatures: false,
    configureBuckets: options.createBucket === false ? [] : [{ name: bucket }],
  });
  if (options.exactFirstByte !== false) answerFirstByteExactly(server.store);
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const region = 'us-east-1';
  return {
    endpoint,
    bucket,
    region,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    env: {
      FILES_STORAGE: 's3',
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_REGION: region,
      S3_ACCESS_KEY_ID: ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      S3_FORCE_PATH_STYLE: 'true',
    },
    async stop() {
      await server.close().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver (3.7.1, and its maintained fork too) reads a range's end with
 * `end || Infinity`, so `Range: bytes=0-0`, the first byte alone, is answered
 * with the whole object (and a Content-Range saying so). Every other range is
 * served right. This wraps its store so that one case gets the one byte, as
 * from S3 itself; S3BlobStore refuses such an answer rather than pass it on,
 * which the contract spec checks with the bug left in place.
 */
function answerFirstByteExactly(store: S3rverStore): void {
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await getObject(bucket, key, options);
    if (object?.content && object.range && options?.end === 0) {
      object.content.destroy();
      object.range = { start: 0, end: 0 };
      object.content = await new Promise((resolve, reject) => {
        const stream = createReadStream(store.getResourcePath(bucket, key, 'object'), { start: 0, end: 0 });
        stream.once('open', () => resolve(stream)).once('error', reject);
      });
    }
    return object;
  };
}
