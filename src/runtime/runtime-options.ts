import { availableParallelism } from 'node:os';
import { Schema } from './options';

/** Options every job takes from `floe run`; defaults in one place. */
export const runtimeSchema = {
  parallelism: {
    type: 'int',
    default: availableParallelism(),
    min: 1,
    max: 256,
    doc: 'worker threads (default: the number of cores)',
  },
  'max-parallelism': {
    type: 'int',
    default: 128,
    min: 1,
    max: 32768,
    doc: 'key groups; fixed for the life of a job (state is kept per key group)',
  },
  'out-of-orderness': {
    type: 'duration',
    default: 5000,
    min: 0,
    doc: 'bounded out-of-orderness of each split, for its watermark',
  },
  'watermark-alignment': {
    type: 'duration',
    default: 300_000,
    min: 0,
    doc: "a file split whose watermark is this far ahead of its worker's slowest split waits for it, so windows fire as the file is read instead of all at its end; 0 = read every split at full speed",
  },
  'idle-timeout': {
    type: 'duration',
    default: 30_000,
    min: 0,
    doc: 'a split with no records for this long stops holding the watermark back; 0 = never',
  },
  'max-record-bytes': {
    type: 'bytes',
    default: 16 * 1024 * 1024,
    min: 64,
    doc: 'longer lines go to dead-letter as "oversize"',
  },
  'batch-size': {
    type: 'int',
    default: 1000,
    min: 1,
    max: 100_000,
    doc: 'records per source poll and per exchange batch',
  },
  'state-dir': {
    type: 'string',
    default: 'data/state',
    doc: 'local working directory for state kept on disk (LevelDB, one database per worker); disposable: checkpoints hold what a restore needs',
  },
  'checkpoint-dir': {
    type: 'string',
    doc: 'checkpoint storage, a folder or s3://bucket/prefix; enables exactly-once checkpoints (default: none, state in memory only)',
  },
  'checkpoint-interval': { type: 'duration', default: 10_000, min: 100, doc: 'time between checkpoints' },
  'checkpoints-retained': {
    type: 'int',
    default: 3,
    min: 1,
    doc: 'completed checkpoints kept (savepoints are kept until deleted)',
  },
  restore: {
    type: 'string',
    doc: 'resume from "latest" or a checkpoint id/path in --checkpoint-dir (latest with none: start from the beginning)',
  },
  'metrics-file': {
    type: 'string',
    doc: 'appends a JSON line per window when its results reach the sink: when the watermark passed its end, when they were written, the latency (for benchmarks)',
  },
} satisfies Schema;
