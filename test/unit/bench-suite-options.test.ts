import { parseSuiteArgs, SuiteUsageError } from '../../bench/suite-options';

const KNOWN = ['inprocess', 'latency', 'kafka', 'memory-topics', 'state-backend'];

describe('bench suite options', () => {
  test('defaults: every module, three runs', () => {
    expect(parseSuiteArgs([], KNOWN)).toEqual({ quick: false, runs: 3, readme: false, help: false });
  });

  test('--quick means one run unless --runs says otherwise', () => {
    expect(parseSuiteArgs(['--quick'], KNOWN).runs).toBe(1);
    expect(parseSuiteArgs(['--quick', '--runs', '2'], KNOWN)).toMatchObject({ quick: true, runs: 2 });
    expect(parseSuiteArgs(['--runs=5'], KNOWN).runs).toBe(5);
  });

  test('--only keeps suite order and rejects unknown names', () => {
    expect(parseSuiteArgs(['--only', 'state-backend,inprocess'], KNOWN).only).toEqual([
      'inprocess',
      'state-backend',
    ]);
    expect(parseSuiteArgs(['--only=latency'], KNOWN).only).toEqual(['latency']);
    expect(() => parseSuiteArgs(['--only', 'inprocess,nope'], KNOWN)).toThrow(/unknown module nope/);
    expect(() => parseSuiteArgs(['--only', ','], KNOWN)).toThrow(SuiteUsageError);
  });

  test('bad values and unknown flags are usage errors', () => {
    expect(() => parseSuiteArgs(['--runs', '0'], KNOWN)).toThrow(SuiteUsageError);
    expect(() => parseSuiteArgs(['--runs', '1.5'], KNOWN)).toThrow(SuiteUsageError);
    expect(() => parseSuiteArgs(['--runs'], KNOWN)).toThrow(/needs a value/);
    expect(() => parseSuiteArgs(['--runs', '--quick'], KNOWN)).toThrow(/needs a value/);
    expect(() => parseSuiteArgs(['--fast'], KNOWN)).toThrow(/unknown argument --fast/);
  });

  test('--readme and --help', () => {
    expect(parseSuiteArgs(['--readme', '--help'], KNOWN)).toMatchObject({ readme: true, help: true });
  });

  test('--readme rewrites every table, so it needs the whole suite at full size', () => {
    expect(() => parseSuiteArgs(['--only', 'inprocess', '--readme'], KNOWN)).toThrow(/without --only/);
    expect(() => parseSuiteArgs(['--quick', '--readme'], KNOWN)).toThrow(/without --quick/);
  });
});
