import { Command, Option } from 'commander';
import { FloeError, OptionError } from '../runtime/errors';
import { parseDuration } from '../runtime/options';
import type { CheckpointMetadata } from '../state/checkpoint-metadata';
import type { CheckpointStorage } from '../state/checkpoint-storage';

/** The storage module loads with the command that uses it, not with every `floe` start. */
async function openCheckpointStorage(
  ...args: Parameters<typeof import('../state/checkpoint-storage').openCheckpointStorage>
): Promise<CheckpointStorage> {
  const storage = await import('../state/checkpoint-storage');
  return storage.openCheckpointStorage(...args);
}

const JOB_FILE = 'job.json';

function bytes(meta: CheckpointMetadata): number {
  return meta.files.reduce((n, f) => n + f.size, 0) + meta.sharedFiles.reduce((n, f) => n + f.size, 0);
}

function summary(meta: CheckpointMetadata): Record<string, unknown> {
  return {
    id: meta.id,
    kind: meta.kind,
    time: meta.time,
    job: meta.jobName,
    parallelism: meta.parallelism,
    maxParallelism: meta.maxParallelism,
    files: meta.files.length + meta.sharedFiles.length,
    bytes: bytes(meta),
    /** Of those, written by an earlier checkpoint and referred to (incremental). */
    reusedFiles: meta.sharedFiles.length,
    splits: Object.keys(meta.sourcePositions).length,
  };
}

const dirOption = (): Option =>
  new Option(
    '--checkpoint-dir <path>',
    'checkpoint storage: a folder or s3://bucket/prefix',
  ).makeOptionMandatory();

/** `floe checkpoints list|inspect|delete`: what a checkpoint folder holds. */
export function checkpointsCommand(): Command {
  const cmd = new Command('checkpoints').description('list, inspect and delete checkpoints and savepoints');

  cmd
    .command('list')
    .description('completed checkpoints and savepoints, newest first (corrupt ones are reported and skipped)')
    .addOption(dirOption())
    .option('--json', 'one JSON object per line')
    .action(async (opts: { checkpointDir: string; json?: boolean }) => {
      const storage = await openCheckpointStorage(opts.checkpointDir, {
        onWarning: (w) => process.stderr.write(`warning: ${w.message}\n`),
      });
      try {
        const all = (await storage.listCompleted()).map(summary);
        if (opts.json) {
          for (const s of all) process.stdout.write(JSON.stringify(s) + '\n');
          return;
        }
        process.stdout.write(
          `${'id'.padStart(6)}  ${'kind'.padEnd(10)} ${'time'.padEnd(24)} ${'p'.padStart(3)} ${'files'.padStart(6)} ${'bytes'.padStart(12)} ${'splits'.padStart(6)}\n`,
        );
        for (const s of all) {
          process.stdout.write(
            `${String(s.id).padStart(6)}  ${String(s.kind).padEnd(10)} ${String(s.time).padEnd(24)} ${String(s.parallelism).padStart(3)} ${String(s.files).padStart(6)} ${String(s.bytes).padStart(12)} ${String(s.splits).padStart(6)}\n`,
          );
        }
      } finally {
        await storage.close();
      }
    });

  cmd
    .command('inspect')
    .description(
      'one checkpoint, verified (sizes and CRCs): source positions, parallelism, key groups per operator',
    )
    .argument('<id>', 'checkpoint id, folder name or path')
    .addOption(dirOption())
    .action(async (id: string, opts: { checkpointDir: string }) => {
      const storage = await openCheckpointStorage(opts.checkpointDir);
      try {
        const loaded = await storage.load(id);
        const job = loaded.files.find((f) => f.name === JOB_FILE);
        const jobFile =
          job === undefined ? undefined : (JSON.parse(job.data.toString('utf8')) as Record<string, unknown>);
        const operators = (jobFile?.operators ?? {}) as Record<string, number[]>;
        const deltas = (jobFile?.deltas ?? []) as {
          operator: string;
          keyGroups: { start: number; end: number };
        }[];
        // Key groups with state per operator: keyed files, and the worker ranges of incremental deltas.
        const keyGroups = new Map<string, Set<number>>();
        for (const [op, kgs] of Object.entries(operators)) keyGroups.set(op, new Set(kgs));
        for (const d of deltas) {
          let set = keyGroups.get(d.operator);
          if (set === undefined) keyGroups.set(d.operator, (set = new Set()));
          for (let kg = d.keyGroups.start; kg <= d.keyGroups.end; kg++) set.add(kg);
        }
        const deltaCounts: Record<string, number> = {};
        for (const d of deltas) deltaCounts[d.operator] = (deltaCounts[d.operator] ?? 0) + 1;
        process.stdout.write(
          JSON.stringify(
            {
              ...summary(loaded.metadata),
              location: loaded.location,
              finished: jobFile?.finished ?? false,
              sourcePositions: loaded.metadata.sourcePositions,
              keyGroups: Object.fromEntries([...keyGroups].map(([op, kgs]) => [op, kgs.size])),
              deltas: deltaCounts,
              operatorWatermarks: jobFile?.watermarks ?? [],
            },
            null,
            2,
          ) + '\n',
        );
      } finally {
        await storage.close();
      }
    });

  cmd
    .command('delete')
    .description('deletes a checkpoint or savepoint (files other checkpoints still use are kept)')
    .argument('<id>', 'checkpoint id')
    .addOption(dirOption())
    .action(async (id: string, opts: { checkpointDir: string }) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 1)
        throw new OptionError('id', `expected a checkpoint id (a whole number), got ${id}`);
      const storage = await openCheckpointStorage(opts.checkpointDir);
      try {
        await storage.delete(n);
        process.stdout.write(`deleted checkpoint ${n}\n`);
      } finally {
        await storage.close();
      }
    });
  return cmd;
}

/** `floe savepoint`: asks a running job (by pid) for a savepoint and waits until it is committed. */
export function savepointCommand(): Command {
  return new Command('savepoint')
    .description(
      'ask a running job for a savepoint (a checkpoint kept until deleted); prints its id when committed',
    )
    .requiredOption('--pid <pid>', 'process id of the running `floe run` (it must run with --checkpoint-dir)')
    .addOption(dirOption())
    .option('--timeout <duration>', 'give up after this long', '60s')
    .action(async (opts: { pid: string; checkpointDir: string; timeout: string }) => {
      const pid = Number(opts.pid);
      if (!Number.isInteger(pid) || pid < 1)
        throw new OptionError('pid', `expected a process id, got ${opts.pid}`);
      const timeoutMs = parseDuration(opts.timeout);
      if (timeoutMs === undefined)
        throw new OptionError('timeout', `expected a duration like 60s, got ${opts.timeout}`);
      const storage = await openCheckpointStorage(opts.checkpointDir);
      try {
        const newest = async (): Promise<number> =>
          Math.max(
            0,
            ...(await storage.listCompleted()).filter((m) => m.kind === 'savepoint').map((m) => m.id),
          );
        const before = await newest();
        try {
          process.kill(pid, 'SIGUSR2');
        } catch (err) {
          throw new FloeError('JOB_ABORTED', `cannot signal process ${pid}: ${(err as Error).message}`);
        }
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const now = await newest();
          if (now > before) {
            process.stdout.write(`savepoint ${now} committed in ${storage.location}\n`);
            return;
          }
          if (Date.now() > deadline) {
            throw new FloeError(
              'JOB_ABORTED',
              `no savepoint appeared in ${storage.location} within ${opts.timeout}`,
            );
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        await storage.close();
      }
    });
}
