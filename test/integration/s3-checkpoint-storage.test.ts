import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CheckpointError, dataFileEntry } from '../../src/state/checkpoint-metadata';
import { openCheckpointStorage, type CheckpointWarning } from '../../src/state/checkpoint-storage';
import {
  createS3Client,
  isRetriableS3Error,
  S3CheckpointStorage,
} from '../../src/state/s3-checkpoint-storage';
import { checkpointStorageContract, type StorageUnderTest } from '../support/checkpoint-storage-contract';

/** What scripts/services.js exports (plain JS, so typed here). */
interface ServiceHandle {
  pid: number;
  line: string;
  info: {
    port: number;
    endpoint: string;
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  stop(): Promise<void>;
}
interface ServicesModule {
  startService(
    name: string,
    options: { port?: number; stateDir?: string; detached?: boolean; timeoutMs?: number },
  ): Promise<ServiceHandle>;
}
const services = require('../../scripts/services.js') as ServicesModule;

// s3rver is a devDependency and starts from code (scripts/services.js, the
// same code as `npm run services -- start s3`), on 127.0.0.1 and a free port.
// If it cannot start, beforeAll throws and every test here FAILS: never skipped,
// with or without CI=true.
let server: ServiceHandle;
let stateDir: string;
let raw: S3Client;
const run = `run-${Date.now()}-${randomBytes(3).toString('hex')}`;
let caseNo = 0;

beforeAll(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-s3rver-'));
  server = await services.startService('s3', { port: 0, stateDir, detached: false, timeoutMs: 30_000 });
  raw = new S3Client({
    endpoint: server.info.endpoint,
    region: server.info.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.info.accessKeyId, secretAccessKey: server.info.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}, 60_000);

afterAll(async () => {
  raw?.destroy();
  await server?.stop();
  if (stateDir) await fs.rm(stateDir, { recursive: true, force: true });
});

const settings = () => ({
  endpoint: server.info.endpoint,
  region: server.info.region,
  credentials: { accessKeyId: server.info.accessKeyId, secretAccessKey: server.info.secretAccessKey },
});

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await raw.send(
      new ListObjectsV2Command({
        Bucket: server.info.bucket,
        Prefix: prefix,
        ContinuationToken: token,
        MaxKeys: 3,
      }),
    );
    for (const o of page.Contents ?? []) keys.push(o.Key!.slice(prefix.length));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** A fresh prefix per test; pageSize 2 makes every listing paginate. */
async function s3Storage(): Promise<StorageUnderTest> {
  const prefix = `${run}/case-${++caseNo}/`;
  const bucket = server.info.bucket;
  const warnings: CheckpointWarning[] = [];
  return {
    storage: new S3CheckpointStorage(bucket, prefix, {
      ...settings(),
      pageSize: 2,
      retry: { attempts: 2, initialDelayMs: 10 },
      onWarning: (w) => warnings.push(w),
    }),
    warnings,
    putRaw: async (key, data) => {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: data }));
    },
    deleteRaw: async (key) => {
      await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: prefix + key }));
    },
    listRaw: () => listKeys(prefix),
    pathOf: (key) => `s3://${bucket}/${prefix}${key}`,
  };
}

describe('S3CheckpointStorage (s3rver): the checkpoint storage contract', () => {
  checkpointStorageContract(s3Storage);
});

describe('S3CheckpointStorage specifics', () => {
  it('the services script reports the endpoint it serves', () => {
    expect(server.line).toBe(`s3 http://127.0.0.1:${server.info.port} bucket floe-test`);
    expect(server.info.port).toBeGreaterThan(0);
  });

  it('stores objects byte for byte (no aws-chunked framing), seen with a plain client', async () => {
    const t = await s3Storage();
    const data = randomBytes(200_000);
    await t.storage.writeFile(1, 'blob', data);
    const prefix = (t.storage as S3CheckpointStorage).prefix;
    const out = await raw.send(
      new GetObjectCommand({ Bucket: server.info.bucket, Key: `${prefix}chk-0000000001/blob` }),
    );
    expect(Buffer.from(await out.Body!.transformToByteArray()).equals(data)).toBe(true);
    await t.storage.close();
  });

  it('opens s3:// URIs with the endpoint in the query', async () => {
    const uri = `s3://${server.info.bucket}/${run}/by-uri?endpoint=${encodeURIComponent(server.info.endpoint)}`;
    const storage = openCheckpointStorage(uri, { s3: { credentials: settings().credentials } });
    const data = Buffer.from('via uri');
    await storage.writeFile(3, 'state', data);
    await storage.commit({
      id: 3,
      time: new Date().toISOString(),
      kind: 'savepoint',
      jobName: 'trending',
      parallelism: 1,
      maxParallelism: 4,
      sourcePositions: {},
      files: [dataFileEntry('state', data, [{ start: 0, end: 3 }])],
      sharedFiles: [],
    });
    expect((await storage.latest())?.kind).toBe('savepoint');
    expect(
      (await storage.load(`s3://${server.info.bucket}/${run}/by-uri/chk-0000000003`)).files[0].data,
    ).toEqual(data);
    await storage.close();
  });

  /** A client whose first `failures` requests fail with `error` before reaching the server. */
  function flakyClient(failures: number, error: () => Error): { client: S3Client; attempts: () => number } {
    const client = createS3Client(settings());
    let attempts = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        attempts++;
        if (attempts <= failures) throw error();
        return next(args);
      },
      { step: 'initialize', name: 'floeFaultInjection' },
    );
    return { client, attempts: () => attempts };
  }

  const s3Error = (name: string, status: number): Error =>
    Object.assign(new Error(`injected ${name}`), { name, $metadata: { httpStatusCode: status } });

  it('retries throttling and 5xx with backoff', async () => {
    const { client, attempts } = flakyClient(2, () => s3Error('SlowDown', 503));
    const retries: number[] = [];
    const storage = new S3CheckpointStorage(server.info.bucket, `${run}/flaky-${++caseNo}`, {
      client,
      retry: { attempts: 3, initialDelayMs: 1, onRetry: (_err, attempt) => retries.push(attempt) },
    });
    await storage.writeFile(1, 'state', Buffer.from('eventually'));
    expect(retries).toEqual([1, 2]);
    expect(attempts()).toBe(3);
    expect((await storage.readFile(1, 'state')).toString()).toBe('eventually');
    client.destroy();
  });

  it('does not retry client errors, and reports them as CheckpointError io naming the key', async () => {
    const { client, attempts } = flakyClient(1, () => s3Error('AccessDenied', 403));
    const storage = new S3CheckpointStorage(server.info.bucket, `${run}/denied`, {
      client,
      retry: { attempts: 5, initialDelayMs: 1 },
    });
    const err = await storage.writeFile(1, 'state', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err).toMatchObject({ code: 'CHECKPOINT_IO', problem: 'io', retriable: false });
    expect((err as Error).message).toContain(`s3://${server.info.bucket}/${run}/denied/chk-0000000001/state`);
    expect(attempts()).toBe(1);
    client.destroy();
  });

  it('gives up after the configured attempts on a server that is down', async () => {
    let retries = 0;
    const storage = new S3CheckpointStorage(server.info.bucket, run, {
      ...settings(),
      endpoint: 'http://127.0.0.1:9', // discard port: connection refused
      retry: { attempts: 3, initialDelayMs: 1, onRetry: () => retries++ },
    });
    const err = await storage.listCompleted().catch((e: unknown) => e);
    expect(err).toMatchObject({ problem: 'io', retriable: true });
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect(retries).toBe(2);
    await storage.close();
  });

  it('classifies S3 errors for retry', () => {
    expect(isRetriableS3Error(s3Error('SlowDown', 503))).toBe(true);
    expect(isRetriableS3Error(s3Error('InternalError', 500))).toBe(true);
    expect(isRetriableS3Error(s3Error('Whatever', 502))).toBe(true);
    expect(isRetriableS3Error(s3Error('TooManyRequestsException', 429))).toBe(true);
    expect(isRetriableS3Error(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(
      isRetriableS3Error(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9')),
    ).toBe(true);
    expect(isRetriableS3Error(s3Error('NotImplemented', 501))).toBe(false);
    expect(isRetriableS3Error(s3Error('AccessDenied', 403))).toBe(false);
    expect(isRetriableS3Error(s3Error('NoSuchBucket', 404))).toBe(false);
    expect(isRetriableS3Error('not an error')).toBe(false);
  });
});
