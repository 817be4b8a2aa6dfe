import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ts from 'typescript';
import { OutputWindow } from '../../src/runtime/output-window';

/** The module as CommonJS, for a worker thread (which cannot load TypeScript). */
const windowModule = ts.transpileModule(
  readFileSync(path.resolve(__dirname, '../../src/runtime/output-window.ts'), 'utf8'),
  { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } },
).outputText;

/** A worker thread that acquires `sizes` in turn on the window and reports each acquisition. */
function acquirer(shared: SharedArrayBuffer, limit: number, sizes: number[]): Worker {
  return new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const module = { exports: {} };
    new Function('module', 'exports', workerData.source)(module, module.exports);
    const w = new module.exports.OutputWindow(workerData.shared, workerData.limit);
    for (const n of workerData.sizes) { w.acquire(n); parentPort.postMessage(n); }
    `,
    { eval: true, workerData: { shared, limit, sizes, source: windowModule } },
  );
}

function acquisitions(worker: Worker): number[] {
  const got: number[] = [];
  worker.on('message', (n: number) => got.push(n));
  return got;
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('OutputWindow', () => {
  it('lets one chunk through whatever its size, then holds the worker until the main side releases', async () => {
    const shared = OutputWindow.allocate();
    const main = new OutputWindow(shared);
    const worker = acquirer(shared, 100, [150, 10, 60, 50]);
    const got = acquisitions(worker);
    await until(() => got.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([150]);
    main.release(150);
    // 10 and 60 fit in 100; 50 more would not.
    await until(() => got.length === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([150, 10, 60]);
    main.release(60);
    await until(() => got.length === 4);
    await worker.terminate();
  });

  it('never holds a worker once closed', async () => {
    const shared = OutputWindow.allocate();
    const main = new OutputWindow(shared);
    const worker = acquirer(shared, 10, [10, 10, 10, 10]);
    const got = acquisitions(worker);
    await until(() => got.length === 1);
    main.close();
    await until(() => got.length === 4);
    await worker.terminate();
  });
});
