import {
  BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BLOB_HASH, BlobStore, ByteRange } from './blob-store';

/** Where the bucket is and how to sign requests to it (AppConfig `files.s3`, bucket and keys required). */
export interface S3BlobStoreOptions {
  /** An S3-compatible server (MinIO, Garage, …); unset: Amazon S3 itself. */
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `http://host/bucket/key` rather than `http://bucket.host/key`: what most self-hosted servers expect. */
  forcePathStyle: boolean;
}

/** Parts of a multipart upload: S3's minimum is 5 MB; 8 MB keeps the part count low with little memory. */
const PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight at once (each is held in memory while it is sent, so at most 32 MB per upload). */
const QUEUE_SIZE = 4;

/**
 * Blobs as objects `blobs/<aa>/<bb>/<hash>` in one bucket. The prefix leaves
 * room for other things in the bucket; the fan-out mirrors the local store so
 * both lay out alike. A blob appears whole or not at all: a single PUT or a
 * completed multipart upload is atomic in S3, and a failed multipart upload is
 * aborted (its parts are never visible as an object).
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // By default the SDK adds a CRC32 checksum to every upload: in a header
      // for a body of known length (each part lib-storage sends), and for a
      // stream as a trailer in "aws-chunked" encoding. Some S3-compatible
      // servers refuse those headers, and some do not understand the chunked
      // encoding and store its framing as part of the object (s3rver does).
      // Checksums only where an operation requires them keep requests plain.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** The endpoint and bucket, for error messages (never the keys). */
  private get where(): string {
    const server = this.options.endpoint ?? `Amazon S3 (${this.options.region})`;
    return `bucket "${this.bucket}" at ${server}`;
  }

  keyOf(hash: string): string {
    if (!BLOB_HASH.test(hash)) throw new Error(`not a blob hash: ${hash}`);
    return `blobs/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;
  }

  /** Checks that the bucket is there and reachable with the credentials given; creates it when it is missing. */
  async start(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) {
        throw new Error(`S3 ${this.where} is not usable (check S3_ENDPOINT, S3_BUCKET and the access key): ${describe(error)}`, {
          cause: error,
        });
      }
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // Amazon S3 wants the region spelt out everywhere but in its first one.
          ...(this.options.region !== 'us-east-1' && { CreateBucketConfiguration: { LocationConstraint: this.options.region as BucketLocationConstraint } }),
        }),
      );
    } catch (error) {
      // Another instance starting at the same time may have just created it.
      if (errorName(error) === 'BucketAlreadyOwnedByYou') return;
      throw new Error(
        `S3 ${this.where} does not exist and could not be created (check S3_ENDPOINT, S3_BUCKET and the access key): ${describe(error)}`,
        { cause: error },
      );
    }
  }

  async put(hash: string, sourcePath: string, size: number): Promise<void> {
    const key = this.keyOf(hash);
    // The upload is sized from `size` (it decides single PUT or multipart), so
    // a wrong size must fail here rather than as a truncated request.
    const actual = (await stat(sourcePath)).size;
    if (actual !== size) throw new Error(`${sourcePath} has ${actual} bytes, not ${size}`);
    // Read from disk a part at a time: only the parts in flight are in memory.
    const body = createReadStream(sourcePath);
    try {
      // Storing the same hash again overwrites the object with the same bytes, so a repeated put is harmless.
      await new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: body, ContentLength: size, ContentType: 'application/octet-stream' },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        // A failed multipart upload is aborted, so its parts do not linger (and cost) in the bucket.
        leavePartsOnError: false,
      }).done();
    } finally {
      body.destroy();
    }
  }

  async has(hash: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async read(hash: string, range?: ByteRange): Promise<Readable> {
    const response = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.keyOf(hash),
        ...(range && { Range: `bytes=${range.start}-${range.end}` }),
      }),
    );
    const body = response.Body;
    // In Node the SDK answers with the HTTP response itself, a Readable.
    if (!(body instanceof Readable)) throw new Error(`S3 ${this.where} sent no body for ${hash}`);
    if (range && !servesRange(response.ContentRange, range)) {
      // A server that ignored the Range header would answer with the whole
      // object; handing that out as the range would corrupt the download.
      body.destroy();
      throw new Error(`S3 ${this.where} answered range ${range.start}-${range.end} of ${hash} with ${response.ContentRange ?? 'the whole object'}`);
    }
    return body;
  }

  async delete(hash: string): Promise<void> {
    try {
      // S3 answers a delete of a missing object with success already; some compatible servers say 404.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Closes the client's connections when the app shuts down. */
  onModuleDestroy(): void {
    this.client.destroy();
  }
}

/**
 * Whether a Content-Range answer (`bytes 0-99/1234`) is the range asked for:
 * the same start, and the same end unless the blob ends before it (S3 stops at
 * the last byte, as a file read does).
 */
function servesRange(contentRange: string | undefined, range: ByteRange): boolean {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange ?? '');
  if (!match) return false;
  const [start, end, total] = match.slice(1).map(Number);
  return start === range.start && (end === range.end || (end === total - 1 && end < range.end));
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

/** A 404: no such bucket or object (HEAD answers have no body, so the SDK only knows the status). */
function isNotFound(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const name = errorName(error);
  return status === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchBucket';
}

/** What went wrong, short: the HTTP status and S3 error code, or the network error. */
function describe(error: unknown): string {
  const failure = error as { name?: string; message?: string; cause?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = failure?.$metadata?.httpStatusCode;
  if (status) {
    // HEAD answers carry no body, so the SDK knows only the status there and names the error "Unknown".
    const code = failure?.name && !/^(Unknown|UnknownError|\d+)$/.test(failure.name) ? ` ${failure.name}` : '';
    const hint = status === 403 ? ' (access denied: wrong access key or secret, or no permission on the bucket)' : '';
    return `HTTP ${status}${code}${hint}`;
  }
  // A network failure (refused, unknown host, TLS): the SDK wraps Node's error, whose message says it best.
  const cause = failure?.cause as { message?: string } | undefined;
  return (cause?.message ?? failure?.message ?? String(error)).replace(/^AWS SDK error wrapper for (Error: )?/, '');
}
