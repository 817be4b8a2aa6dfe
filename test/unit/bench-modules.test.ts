import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadModule, SUITE_MODULES } from '../../bench/modules';

describe('bench module registry', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'floe-bench-modules-'));
    writeFileSync(
      path.join(dir, 'good.js'),
      "exports.benchModule = { name: 'good', title: 'a module', run: async () => ({ metrics: [] }) };\n",
    );
    writeFileSync(
      path.join(dir, 'misnamed.js'),
      "exports.benchModule = { name: 'other', run: async () => ({}) };\n",
    );
    writeFileSync(path.join(dir, 'broken.js'), "require('./not-there');\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a module listed before its file exists is not available, not an error', () => {
    expect(loadModule({ name: 'kafka', file: 'kafka' }, dir)).toEqual({
      unavailable: 'not available: bench/kafka.ts is not in this build',
    });
  });

  test('loads a module exporting benchModule', () => {
    const m = loadModule({ name: 'good', file: 'good' }, dir);
    expect('unavailable' in m).toBe(false);
    expect((m as { title: string }).title).toBe('a module');
  });

  test('a wrong export or a missing import inside the module is an error', () => {
    expect(() => loadModule({ name: 'misnamed', file: 'misnamed' }, dir)).toThrow(/must export benchModule/);
    expect(() => loadModule({ name: 'broken', file: 'broken' }, dir)).toThrow(/not-there/);
  });

  test('the suite lists its plug-in slots with unique names', () => {
    const names = SUITE_MODULES.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining(['inprocess', 'latency', 'kafka', 'memory-topics', 'state-backend']),
    );
  });
});
