import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { FloeError } from '../runtime/errors';
import { parseOptions } from '../runtime/options';
import { withRetry, type RetryOptions } from '../runtime/retry';
import { CheckpointError } from './checkpoint-metadata';
import {
  BaseCheckpointStorage,
  splitCheckpointPath,
  type CheckpointStorageOptions,
} from './checkpoint-storage';

export interface S3Settings {
  /** e.g. http://127.0.0.1:4568 for s3rver or MinIO; default: AWS. */
  endpoint?: string;
  /** Default: $AWS_REGION, else us-east-1. */
  region?: string;
  /** Path-style URLs (http://host/bucket/key); default: true when an endpoint is given. */
  forcePathStyle?: boolean;
  /** Default: the AWS SDK's provider chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A ready client (shared, not destroyed by close); the settings above are then ignored. */
  client?: S3Client;
  /** Backoff for retriable errors (throttling, 5xx, network); default 5 attempts, 100 ms .. 5 s. */
  retry?: Partial<Omit<RetryOptions, 'retryOn'>>;
  /** Keys per listing page (1..1000, default 1000); small values exercise pagination in tests. */
  pageSize?: number;
  /** Per-request timeout, ms; default 30 s. */
  requestTimeoutMs?: number;
}

export interface S3CheckpointStorageOptions extends CheckpointStorageOptions, S3Settings {}

/** Options accepted in the query of an s3:// URI. */
const URI_SCHEMA = {
  endpoint: { type: 'string', doc: 'S3 endpoint URL, e.g. http://127.0.0.1:4568 (default: AWS)' },
  region: { type: 'string', doc: 'region (default: $AWS_REGION or us-east-1)' },
  'path-style': { type: 'boolean', doc: 'path-style addressing (default: true with an endpoint)' },
} as const;

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/prefix?endpoint=...`; the prefix is '' or ends with '/'. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string; settings: S3Settings } {
  const invalid = (why: string): FloeError =>
    new FloeError('INVALID_URI', `checkpoint storage ${JSON.stringify(uri)}: ${why}`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid('not a URI');
  }
  if (url.protocol !== 's3:') throw invalid('expected s3://bucket/prefix');
  const bucket = url.hostname;
  if (!BUCKET_PATTERN.test(bucket)) throw invalid(`invalid bucket name ${JSON.stringify(bucket)}`);
  if (url.username || url.password || url.port)
    throw invalid('credentials and ports do not belong in an s3:// URI');
  const prefix = normalizePrefix(decodeURIComponent(url.pathname));
  const query = parseOptions(URI_SCHEMA, Object.fromEntries(url.searchParams), 's3');
  const settings: S3Settings = {};
  if (query.endpoint !== undefined) settings.endpoint = query.endpoint;
  if (query.region !== undefined) settings.region = query.region;
  if (query['path-style'] !== undefined) settings.forcePathStyle = query['path-style'];
  return { bucket, prefix, settings };
}

function normalizePrefix(p: string): string {
  const parts = p.split('/').filter((s) => s !== '');
  return parts.length === 0 ? '' : `${parts.join('/')}/`;
}

const RETRIABLE_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Throttling, 5xx (but 501) and network errors: worth another attempt. */
export function isRetriableS3Error(err: unknown): boolean {
  // Duck-typed, not `instanceof Error`: errors from Node's own modules come from
  // another realm under jest (and in vm contexts).
  if (typeof err !== 'object' || err === null) return false;
  const e = err as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.$retryable) return true;
  if (e.name !== undefined && RETRIABLE_NAMES.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && ((status >= 500 && status !== 501) || status === 429)) return true;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  // The SDK wraps errors that are not `instanceof Error` in its realm (e.g. a
  // socket error under jest) keeping only the message.
  const message = (err as { message?: unknown }).message;
  const code = typeof message === 'string' ? /\b(E[A-Z]+|ERR_[A-Z_]+)\b/.exec(message)?.[1] : undefined;
  return code !== undefined && NETWORK_CODES.has(code);
}

const isNotFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/** The client settings that matter here; see the notes in the class comment. */
export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region ?? process.env.AWS_REGION ?? 'us-east-1',
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined,
    credentials: settings.credentials,
    // Retries are ours (withRetry), with the project's backoff and error classes.
    maxAttempts: 1,
    // Checksums only where the API demands them: with the default (WHEN_SUPPORTED)
    // the SDK sends aws-chunked bodies with trailing checksums, which S3
    // emulators such as s3rver store verbatim, chunk framing included. Data
    // integrity is ours anyway: Content-MD5 on upload, CRC32 in the metadata.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5000, requestTimeout: settings.requestTimeoutMs ?? 30_000 },
  });
}

/**
 * Checkpoints under `s3://bucket/prefix/`. S3 has no folders: `chk-N/` is a
 * key prefix, a single PutObject is atomic (so `_metadata` appears whole or
 * not at all), and listings are paginated. Nothing here relies on conditional
 * writes (s3rver ignores them).
 */
export class S3CheckpointStorage extends BaseCheckpointStorage {
  readonly bucket: string;
  /** '' or ending with '/'. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly retry: RetryOptions;
  private readonly pageSize: number;

  static fromUri(
    uri: string,
    options: CheckpointStorageOptions & { s3?: S3Settings } = {},
  ): S3CheckpointStorage {
    const { bucket, prefix, settings } = parseS3Uri(uri);
    const { s3, ...rest } = options;
    return new S3CheckpointStorage(bucket, prefix, { ...rest, ...s3, ...settings });
  }

  constructor(bucket: string, prefix: string, options: S3CheckpointStorageOptions = {}) {
    const normalized = normalizePrefix(prefix);
    super(`s3://${bucket}/${normalized}`, options);
    this.bucket = bucket;
    this.prefix = normalized;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? createS3Client(options);
    this.retry = {
      attempts: 5,
      initialDelayMs: 100,
      maxDelayMs: 5000,
      ...options.retry,
      retryOn: isRetriableS3Error,
    };
    const pageSize = options.pageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new CheckpointError(
        'invalid',
        `S3 pageSize must be a whole number in [1, 1000], got ${pageSize}`,
      );
    }
    this.pageSize = pageSize;
  }

  protected describe(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  /** One S3 call with retries; a final failure becomes CheckpointError('io') naming the operation and key. */
  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(fn, this.retry);
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      const e = err as { name?: string; message?: string } | null | undefined;
      throw new CheckpointError('io', `S3 ${op} ${this.describe(key)} failed: ${e?.name}: ${e?.message}`, {
        file: key,
        retriable: isRetriableS3Error(err),
        cause: err,
      });
    }
  }

  protected async putObject(key: string, data: Buffer): Promise<void> {
    await this.call('PutObject', key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: data,
          ContentLength: data.length,
          ContentMD5: createHash('md5').update(data).digest('base64'),
          ContentType: 'application/octet-stream',
        }),
      ),
    );
  }

  protected async getObject(key: string): Promise<Buffer | undefined> {
    return this.call('GetObject', key, async () => {
      try {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
        );
        if (out.Body === undefined) return Buffer.alloc(0);
        const bytes = await out.Body.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
  }

  /** Every page of a listing; a common prefix may repeat across pages. */
  private async listAll(
    keyPrefix: string,
    delimiter: string | undefined,
  ): Promise<ListObjectsV2CommandOutput[]> {
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListObjectsV2', keyPrefix.slice(this.prefix.length), () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: keyPrefix,
            Delimiter: delimiter,
            MaxKeys: this.pageSize,
            ContinuationToken: token,
          }),
        ),
      );
      pages.push(page);
      if (page.IsTruncated && !page.NextContinuationToken) {
        throw new CheckpointError(
          'io',
          `S3 listing of s3://${this.bucket}/${keyPrefix} is truncated without a token`,
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return pages;
  }

  protected async listFolders(): Promise<string[]> {
    const names = new Set<string>();
    for (const page of await this.listAll(this.prefix, '/')) {
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix?.startsWith(this.prefix))
          names.add(p.Prefix.slice(this.prefix.length).replace(/\/$/, ''));
      }
    }
    return [...names];
  }

  protected async listFolder(folder: string): Promise<Map<string, number>> {
    const base = `${this.prefix}${folder}/`;
    const sizes = new Map<string, number>();
    for (const page of await this.listAll(base, '/')) {
      for (const o of page.Contents ?? []) {
        if (o.Key?.startsWith(base)) sizes.set(o.Key.slice(base.length), o.Size ?? 0);
      }
    }
    return sizes;
  }

  protected async deleteObjects(folder: string, names: string[]): Promise<void> {
    await this.deleteKeys(
      folder,
      names.map((name) => `${this.prefix}${folder}/${name}`),
    );
  }

  private async deleteKeys(folder: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.call('DeleteObjects', `${folder}/`, () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new CheckpointError(
          'io',
          `S3 DeleteObjects failed for ${failed.length} key(s), e.g. s3://${this.bucket}/${first.Key}: ${first.Code}: ${first.Message}`,
          { file: first.Key?.slice(this.prefix.length) },
        );
      }
    }
  }

  protected async deleteFolder(folder: string): Promise<void> {
    const base = `${this.prefix}${folder}/`;
    const keys: string[] = [];
    for (const page of await this.listAll(base, undefined)) {
      for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    }
    await this.deleteKeys(folder, keys);
  }

  protected async syncFolder(): Promise<void> {
    // A completed PutObject is durable.
  }

  protected resolveLocation(ref: string): { storage: BaseCheckpointStorage; id: number } | undefined {
    if (!/^s3:\/\//i.test(ref)) return undefined;
    const url = new URL(ref);
    const split = splitCheckpointPath(decodeURIComponent(url.pathname));
    if (split === undefined) return undefined;
    const prefix = normalizePrefix(split.parent);
    if (url.hostname === this.bucket && prefix === this.prefix) return { storage: this, id: split.id };
    const storage = new S3CheckpointStorage(url.hostname, prefix, {
      ...this.options,
      client: this.client,
      pageSize: this.pageSize,
      retry: this.retry,
    });
    return { storage, id: split.id };
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}
