import { OptionError } from '../../runtime/errors';
import { parseOptions } from '../../runtime/options';
import type {
  ParsedUri,
  PlanContext,
  PollResult,
  SourceConnector,
  SplitDescriptor,
  SplitReader,
  SplitReaderContext,
} from '../contract';
import { generatorSourceSchema, GeneratorSplitConfig } from './generator-options';
import { defaultGeneratorOptions, TweetGenerator } from './tweet-generator';

const DEFAULT_START = Date.parse('2022-01-01T00:00:00Z');

/** Streams synthetic tweets; throttled to a wall-clock rate when one is set. */
class GeneratorReader implements SplitReader {
  private readonly generator: TweetGenerator;
  private emitted = 0;
  /** Lines emitted before a restore: the wall-clock rate counts from the restart. */
  private resumedFrom = 0;
  private startedAt = -1;
  private stopped = false;

  /** `resumeAfter`: lines emitted before a restore; the generator is deterministic, so they are generated again and dropped. */
  constructor(
    readonly split: SplitDescriptor,
    private readonly cfg: GeneratorSplitConfig,
    private readonly context: SplitReaderContext,
    resumeAfter = 0,
  ) {
    this.generator = new TweetGenerator({
      ...defaultGeneratorOptions,
      seed: cfg.seed,
      splitIndex: cfg.splitIndex,
      splitCount: cfg.splitCount,
      startMs: cfg.startMs,
      eventsPerSecond: cfg.eventsPerSecond,
      disorderMs: cfg.disorderMs,
      duplicateRate: cfg.duplicateRate,
      topics: cfg.topics,
      topicDistribution: cfg.topicDistribution,
      authors: cfg.authors,
      v1Share: cfg.v1Share,
    });
    for (let i = 0; i < resumeAfter; i++) this.generator.nextLine();
    this.emitted = resumeAfter;
    this.resumedFrom = resumeAfter;
  }

  async poll(maxRecords: number): Promise<PollResult> {
    const now = this.context.now();
    if (this.startedAt < 0) this.startedAt = now;
    if (this.stopped) return 'end';
    if (this.cfg.durationMs > 0 && now - this.startedAt >= this.cfg.durationMs) return 'end';
    let budget = maxRecords;
    if (this.cfg.count > 0) {
      budget = Math.min(budget, this.cfg.count - this.emitted);
      if (budget <= 0) return 'end';
    }
    if (this.cfg.rate > 0) {
      const due =
        Math.floor(((now - this.startedAt) / 1000) * this.cfg.rate) - (this.emitted - this.resumedFrom);
      budget = Math.min(budget, due);
      if (budget <= 0) return 'idle';
    }
    const lines = new Array<string>(budget);
    for (let i = 0; i < budget; i++) lines[i] = this.generator.nextLine();
    this.emitted += budget;
    return { lines, oversize: [] };
  }

  position(): unknown {
    return { emitted: this.emitted };
  }

  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {}
}

/** Shares `total` over `parts` so the shares add up exactly. */
function share(total: number, index: number, parts: number): number {
  return Math.floor((total * (index + 1)) / parts) - Math.floor((total * index) / parts);
}

export const generatorSource: SourceConnector = {
  scheme: 'generator',
  usage:
    'generator[?rate=N&count=N&duration=D&seed=N&...]  synthetic tweets (Zipf hashtags, bursts of new tags, ~1% duplicates, seconds of disorder); one split per worker',

  async planSplits(uri: ParsedUri, context: PlanContext): Promise<SplitDescriptor[]> {
    const opts = parseOptions(generatorSourceSchema, uri.params, 'generator');
    let startMs: number;
    if (opts.start !== undefined) {
      startMs = Date.parse(opts.start);
      if (Number.isNaN(startMs))
        throw new OptionError(
          'generator.start',
          `expected an ISO-8601 time, got ${JSON.stringify(opts.start)}`,
        );
    } else {
      startMs = opts.rate > 0 ? context.now() : DEFAULT_START;
    }
    const eventsPerSecond = opts['events-per-second'] ?? (opts.rate > 0 ? opts.rate : 10_000);
    const splitCount = context.parallelism;
    const splits: SplitDescriptor[] = [];
    for (let i = 0; i < splitCount; i++) {
      const config: GeneratorSplitConfig = {
        seed: opts.seed,
        splitIndex: i,
        splitCount,
        count: opts.count > 0 ? share(opts.count, i, splitCount) : 0,
        rate: opts.rate / splitCount,
        durationMs: opts.duration,
        startMs,
        eventsPerSecond: eventsPerSecond / splitCount,
        disorderMs: opts.disorder,
        duplicateRate: opts.duplicates,
        topics: opts.topics,
        topicDistribution: opts['topic-distribution'] as GeneratorSplitConfig['topicDistribution'],
        authors: opts.authors,
        v1Share: opts['v1-share'],
      };
      // A split with count 0 out of a positive total would run forever; leave it out instead.
      if (opts.count > 0 && config.count === 0) continue;
      splits.push({
        id: `generator:${i}`,
        connector: 'generator',
        bounded: opts.count > 0 || opts.duration > 0,
        config,
      });
    }
    return splits;
  },

  createReader(split: SplitDescriptor, context: SplitReaderContext, position?: unknown): SplitReader {
    const at = position as { emitted?: number } | undefined;
    return new GeneratorReader(split, split.config as GeneratorSplitConfig, context, at?.emitted ?? 0);
  },
};
