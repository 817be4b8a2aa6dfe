/**
 * The two Kafka requests the native fetch path sends, encoded and decoded:
 * Metadata v4 (where each partition's leader is) and Fetch v4 (records,
 * read_committed). v4 of both is the oldest version with what we need
 * (Fetch: isolation level and aborted transactions; Metadata: no automatic
 * topic creation) and neither is flexible (no tagged fields), which keeps the
 * codec small; Kafka 3.9 serves both (tested against 3.9.1). Kafka 4.0
 * removed old protocol versions (KIP-896): not tried against 4.x.
 */
import { RequestWriter, ResponseReader } from './kafka-connection';
import type { AbortedTransaction } from './record-batch-decoder';

export const API_FETCH = 1;
export const API_METADATA = 3;
export const FETCH_VERSION = 4;
export const METADATA_VERSION = 4;

/** Kafka error codes the fetch path acts on (the rest are reported by name or number). */
export const ERROR = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  REPLICA_NOT_AVAILABLE: 9,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  NOT_ENOUGH_REPLICAS: 19,
  TOPIC_AUTHORIZATION_FAILED: 29,
  KAFKA_STORAGE_ERROR: 56,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  OFFSET_NOT_AVAILABLE: 78,
} as const;

/** Errors a metadata refresh and another fetch cure (leadership moving, a broker restarting). */
const RETRIABLE = new Set<number>([
  ERROR.CORRUPT_MESSAGE,
  ERROR.UNKNOWN_TOPIC_OR_PARTITION,
  ERROR.LEADER_NOT_AVAILABLE,
  ERROR.NOT_LEADER_OR_FOLLOWER,
  ERROR.REQUEST_TIMED_OUT,
  ERROR.REPLICA_NOT_AVAILABLE,
  ERROR.NETWORK_EXCEPTION,
  ERROR.COORDINATOR_LOAD_IN_PROGRESS,
  ERROR.NOT_ENOUGH_REPLICAS,
  ERROR.KAFKA_STORAGE_ERROR,
  ERROR.FENCED_LEADER_EPOCH,
  ERROR.UNKNOWN_LEADER_EPOCH,
  ERROR.OFFSET_NOT_AVAILABLE,
]);

export function retriableErrorCode(code: number): boolean {
  return RETRIABLE.has(code);
}

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(ERROR).map(([k, v]) => [v, k]));

export function errorName(code: number): string {
  return NAMES[code] ?? `error code ${code}`;
}

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface TopicMetadata {
  brokers: Map<number, BrokerAddress>;
  /** Topic-level error (0: none). */
  errorCode: number;
  /** Partition -> leader node id (-1: no leader right now) and its error. */
  partitions: Map<number, { leader: number; errorCode: number }>;
}

export function encodeMetadataRequest(topic: string): Buffer {
  return new RequestWriter()
    .int32(1)
    .string(topic)
    .int8(0) // allow_auto_topic_creation: never create the topic we read
    .bytes();
}

export function decodeMetadataResponse(body: Buffer, topic: string): TopicMetadata {
  const r = new ResponseReader(body);
  r.int32(); // throttle_time_ms
  const brokers = new Map<number, BrokerAddress>();
  for (let n = r.count(), i = 0; i < n; i++) {
    const nodeId = r.int32();
    const host = r.string() ?? '';
    const port = r.int32();
    r.string(); // rack
    brokers.set(nodeId, { nodeId, host, port });
  }
  r.string(); // cluster_id
  r.int32(); // controller_id
  const result: TopicMetadata = {
    brokers,
    errorCode: ERROR.UNKNOWN_TOPIC_OR_PARTITION,
    partitions: new Map(),
  };
  for (let n = r.count(), i = 0; i < n; i++) {
    const errorCode = r.int16();
    const name = r.string();
    r.int8(); // is_internal
    const partitions = new Map<number, { leader: number; errorCode: number }>();
    for (let pn = r.count(), j = 0; j < pn; j++) {
      const perr = r.int16();
      const index = r.int32();
      const leader = r.int32();
      for (let rn = r.count(), k = 0; k < rn; k++) r.int32(); // replica_nodes
      for (let rn = r.count(), k = 0; k < rn; k++) r.int32(); // isr_nodes
      partitions.set(index, { leader, errorCode: perr });
    }
    if (name === topic) {
      result.errorCode = errorCode;
      result.partitions = partitions;
    }
  }
  return result;
}

export interface FetchPartitionRequest {
  partition: number;
  offset: number;
}

export interface FetchRequestOptions {
  topic: string;
  partitions: FetchPartitionRequest[];
  maxWaitMs: number;
  maxBytes: number;
  partitionMaxBytes: number;
}

export function encodeFetchRequest(o: FetchRequestOptions): Buffer {
  const w = new RequestWriter()
    .int32(-1) // replica_id: a consumer
    .int32(o.maxWaitMs)
    .int32(1) // min_bytes: answer as soon as anything is there
    .int32(o.maxBytes)
    .int8(1) // isolation_level: read_committed (the job must never see aborted records)
    .int32(1)
    .string(o.topic)
    .int32(o.partitions.length);
  for (const p of o.partitions) w.int32(p.partition).int64(p.offset).int32(o.partitionMaxBytes);
  return w.bytes();
}

export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: number;
  abortedTransactions: AbortedTransaction[] | null;
  /** The record set: body[recordsStart, recordsEnd) (empty when there is none). */
  recordsStart: number;
  recordsEnd: number;
}

/** The partitions of `topic` in a Fetch v4 response body; record sets stay in the body, located, not copied. */
export function decodeFetchResponse(body: Buffer, topic: string): FetchedPartition[] {
  const r = new ResponseReader(body);
  r.int32(); // throttle_time_ms
  const out: FetchedPartition[] = [];
  for (let tn = r.count(), t = 0; t < tn; t++) {
    const name = r.string();
    for (let pn = r.count(), i = 0; i < pn; i++) {
      const partition = r.int32();
      const errorCode = r.int16();
      const highWatermark = r.int64();
      r.int64(); // last_stable_offset
      let abortedTransactions: AbortedTransaction[] | null = null;
      const an = r.count();
      if (an >= 0) {
        abortedTransactions = [];
        for (let k = 0; k < an; k++)
          abortedTransactions.push({ producerId: r.int64(), firstOffset: r.int64() });
      }
      const size = r.int32();
      const recordsStart = r.pos;
      const recordsEnd = size > 0 ? recordsStart + size : recordsStart;
      r.pos = recordsEnd;
      if (name === topic)
        out.push({ partition, errorCode, highWatermark, abortedTransactions, recordsStart, recordsEnd });
    }
  }
  return out;
}
