import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { sinkConnector, sinkSchemes, sourceConnector, sourceSchemes } from '../../src/connectors/registry';
import { OptionError } from '../../src/runtime/errors';

describe('connector registry', () => {
  it('each scheme loads the connector that names it', () => {
    expect([...sourceSchemes].sort()).toEqual(['file', 'generator', 'kafka']);
    expect([...sinkSchemes].sort()).toEqual(['file', 'kafka', 'stdout']);
    for (const s of sourceSchemes) expect(sourceConnector(s).scheme).toBe(s);
    for (const s of sinkSchemes) expect(sinkConnector(s).scheme).toBe(s);
  });

  it('an unknown scheme is an option error that names the known ones', () => {
    expect(() => sourceConnector('ftp')).toThrow(OptionError);
    expect(() => sourceConnector('ftp')).toThrow(/unknown source "ftp" \(known: file, generator, kafka\)/);
    expect(() => sinkConnector('toString')).toThrow(/unknown sink "toString"/);
  });

  it('loads a connector only when asked for it (a file job never loads kafkajs)', () => {
    // The built registry in a fresh process: jest's module registry does not show what Node loads.
    const registry = path.resolve(__dirname, '../../dist/src/connectors/registry.js');
    const script = `
      const r = require(${JSON.stringify(registry)});
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/kafkajs/'));
      const before = loaded();
      r.sourceConnector('file'); r.sinkConnector('file');
      const afterFile = loaded();
      r.sourceConnector('kafka');
      console.log(JSON.stringify([before, afterFile, loaded()]));`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([false, false, true]);
  });
});
