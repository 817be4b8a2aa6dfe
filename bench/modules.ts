import * as path from 'node:path';
import type { BenchModule } from './bench-module';

/**
 * The suite's modules, in the order they run. A module is bench/<file>.ts
 * exporting `benchModule` (see bench-module.ts); an entry whose file is not
 * there yet (kafka comes with the Kafka connector) is reported as not available instead of failing the suite.
 */
export interface ModuleEntry {
  name: string;
  /** File name in bench/, without extension. */
  file: string;
}

export const SUITE_MODULES: readonly ModuleEntry[] = [
  { name: 'inprocess', file: 'inprocess' },
  { name: 'latency', file: 'latency' },
  { name: 'kafka', file: 'kafka' },
  { name: 'memory-topics', file: 'memory-topics' },
  { name: 'memory-span', file: 'memory-span' },
  { name: 'state-backend', file: 'state-backend-module' },
  { name: 'checkpoint', file: 'checkpoint' },
  { name: 'dedupe-spill', file: 'dedupe-spill' },
];

/** Loads a module, or says why it cannot be loaded. `dir`: where the compiled modules are. */
export function loadModule(
  entry: ModuleEntry,
  dir: string = __dirname,
): BenchModule | { unavailable: string } {
  const file = path.join(dir, entry.file);
  let exported: { benchModule?: BenchModule };
  try {
    exported = require(file) as { benchModule?: BenchModule };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Only the module's own file missing means "not built yet"; a missing import inside it is a real error.
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${file}'`))
      return { unavailable: `not available: bench/${entry.file}.ts is not in this build` };
    throw err;
  }
  const m = exported.benchModule;
  if (m === undefined || typeof m.run !== 'function' || m.name !== entry.name)
    throw new Error(`bench/${entry.file}.ts must export benchModule: BenchModule named "${entry.name}"`);
  return m;
}
