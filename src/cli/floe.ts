#!/usr/bin/env node
import { Command, Option } from 'commander';
import { parseUri } from '../connectors/contract';
import { sinkConnector, sinkSchemes, sourceConnector, sourceSchemes } from '../connectors/registry';
import { jobs } from '../jobs/jobs';
import { systemClock } from '../runtime/clock';
import { FloeError, OptionError } from '../runtime/errors';
import { parseOptions } from '../runtime/options';
import { runtimeSchema } from '../runtime/runtime-options';
import { WorkerSlots } from '../runtime/worker-slots';
import { checkpointsCommand, savepointCommand } from './checkpoints-command';
import { generateCommand } from './generate-command';
import { produceCommand } from './produce-command';
import { addSchemaOptions, pickSchemaOptions } from './schema-options';

function connectorHelp(): string {
  const src = sourceSchemes.map((s) => `  ${sourceConnector(s).usage}`);
  const snk = sinkSchemes.map((s) => `  ${sinkConnector(s).usage}`);
  return `\nSources:\n${src.join('\n')}\n\nSinks:\n${snk.join('\n')}\n`;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('floe')
    .description('Floe: a stateful stream processor on Node.js worker threads')
    .version('0.1.0')
    .showHelpAfterError();

  const run = program
    .command('run')
    .description('run a job until its sources end (bounded) or Ctrl-C (unbounded)')
    .argument('<job>', `job to run: ${Object.keys(jobs).join(', ')}`)
    .option('--source <uri>', 'where records come from', 'generator')
    .option('--sink <uri>', 'where results go', 'file:out')
    .addOption(
      new Option('--view <mode>', 'live terminal view').choices(['auto', 'on', 'off']).default('auto'),
    )
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    );
  addSchemaOptions(run, runtimeSchema);
  addSchemaOptions(run, jobs.trending.schema);
  run.addHelpText('after', () => connectorHelp());
  run.action(async (jobName: string, opts: Record<string, unknown>) => {
    const job = jobs[jobName];
    if (job === undefined)
      throw new OptionError('job', `unknown job "${jobName}" (known: ${Object.keys(jobs).join(', ')})`);
    const rt = parseOptions(runtimeSchema, pickSchemaOptions(runtimeSchema, opts));
    if (rt.parallelism > rt['max-parallelism']) {
      throw new OptionError('parallelism', `must not exceed max-parallelism (${rt['max-parallelism']})`);
    }
    if (rt.restore !== undefined && rt['checkpoint-dir'] === undefined) {
      throw new OptionError('restore', 'needs --checkpoint-dir (where the checkpoints are)');
    }
    const jobOptions = job.resolve(pickSchemaOptions(job.schema, opts));
    const source = parseUri(String(opts.source));
    const sink = parseUri(String(opts.sink));
    // The options are valid: start the worker threads now, and load the job runtime while they boot.
    const slots = new WorkerSlots(rt.parallelism);
    let view: import('../runtime/live-view').LiveView | null = null;
    try {
      const { runJob } = await import('../runtime/job-runner');
      const { createLogger } = await import('../runtime/logger');
      const log = createLogger(String(opts.logLevel));
      const viewMode = String(opts.view);
      if (viewMode === 'on' || (viewMode === 'auto' && process.stdout.isTTY && sink.scheme !== 'stdout')) {
        const { LiveView } = await import('../runtime/live-view');
        view = new LiveView(process.stdout);
      }
      view?.start();
      const result = await runJob({
        slots,
        job: job.name,
        jobOptions,
        createMain: (ctx) =>
          job.createMain(jobOptions, ctx, {
            onWindowTrends: (w) => view?.onWindow(w.start, w.end, w.trends),
          }),
        parallelism: rt.parallelism,
        maxParallelism: rt['max-parallelism'],
        runtime: {
          outOfOrdernessMs: rt['out-of-orderness'],
          watermarkAlignmentMs: rt['watermark-alignment'],
          idleTimeoutMs: rt['idle-timeout'],
          maxRecordBytes: rt['max-record-bytes'],
          batchSize: rt['batch-size'],
          maxInFlight: 8,
          progressIntervalMs: 500,
        },
        source,
        sink,
        log,
        clock: systemClock,
        handleSignals: true,
        onProgress: (p) => view?.onProgress(p),
        metricsFile: rt['metrics-file'],
        stateDir: rt['state-dir'],
        checkpoint:
          rt['checkpoint-dir'] === undefined
            ? undefined
            : {
                storage: rt['checkpoint-dir'],
                intervalMs: rt['checkpoint-interval'],
                retained: rt['checkpoints-retained'],
                restore: rt.restore,
              },
      });
      view?.onProgress(result.progress);
    } finally {
      view?.stop();
      // runJob destroys them; this covers a failure before it was called.
      await slots.destroy();
    }
  });

  program.addCommand(generateCommand());
  program.addCommand(produceCommand());
  program.addCommand(checkpointsCommand());
  program.addCommand(savepointCommand());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`floe: ${err.message}\n`);
      return 2;
    }
    if (err instanceof FloeError) {
      process.stderr.write(`floe: ${err.code}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`floe: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
