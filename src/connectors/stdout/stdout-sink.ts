import { parseOptions } from '../../runtime/options';
import type { OutputKind, ParsedUri, SinkConnector, SinkWriter } from '../contract';

const stdoutSchema = {
  counts: { type: 'boolean', default: true, doc: 'print counts records too (trends are always printed)' },
} as const;

/** Results as JSON lines on stdout; dead-letter records on stderr, so a pipe gets clean results. */
class StdoutSinkWriter implements SinkWriter {
  readonly transactional = false;
  constructor(private readonly withCounts: boolean) {}

  write(kind: OutputKind, lines: string): void {
    if (kind === 'dead-letter') process.stderr.write(lines);
    else if (kind === 'trends' || this.withCounts) process.stdout.write(lines);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  }

  describe(): string {
    return 'stdout';
  }
}

export const stdoutSink: SinkConnector = {
  scheme: 'stdout',
  usage:
    'stdout  counts and trends as JSON lines on stdout, dead-letter on stderr; stdout?counts=false for trends only',
  async open(uri: ParsedUri): Promise<SinkWriter> {
    const opts = parseOptions(stdoutSchema, uri.params, 'stdout');
    return new StdoutSinkWriter(opts.counts);
  },
};
