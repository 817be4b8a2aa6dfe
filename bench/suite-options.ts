/** Command line of the suite: `npm run bench -- [--quick] [--runs N] [--only a,b] [--readme]`. */
export interface SuiteOptions {
  quick: boolean;
  runs: number;
  /** Modules to run, in suite order; all when not given. */
  only?: string[];
  /** Also rewrite the results section of bench/README.md. */
  readme: boolean;
  help: boolean;
}

export const SUITE_USAGE = `usage: npm run bench -- [options]
  --quick        small inputs, one run: the whole suite in under two minutes; targets
                 are not judged, and latest.* and the chart are left alone
  --runs N       runs of each measurement (default 3, with --quick 1); medians are reported
  --only a,b     run only these modules (default: all); writes their JSON and
                 a <time>-summary.md, and leaves latest.* and the chart alone
  --readme       write the results tables into bench/README.md (whole suite, full size only)
  --help         this text`;

export class SuiteUsageError extends Error {}

/** Parses the suite's arguments (after `--`); `known` are the module names, for --only. */
export function parseSuiteArgs(argv: readonly string[], known: readonly string[]): SuiteOptions {
  const out: SuiteOptions = { quick: false, runs: 0, readme: false, help: false };
  let runs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') ? splitOnce(argv[i]) : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new SuiteUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        out.quick = true;
        break;
      case '--readme':
        out.readme = true;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      case '--runs': {
        const text = value();
        const n = Number(text);
        if (!Number.isInteger(n) || n < 1)
          throw new SuiteUsageError(`--runs: expected a whole number >= 1, got ${text}`);
        runs = n;
        break;
      }
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const unknown = names.filter((n) => !known.includes(n));
        if (unknown.length > 0)
          throw new SuiteUsageError(
            `--only: unknown module ${unknown.join(', ')} (known: ${known.join(', ')})`,
          );
        if (names.length === 0) throw new SuiteUsageError('--only: no module named');
        // Suite order, not command-line order: later modules may compare against earlier ones.
        out.only = known.filter((n) => names.includes(n));
        break;
      }
      default:
        throw new SuiteUsageError(`unknown argument ${argv[i]}`);
    }
  }
  if (out.readme && out.only !== undefined)
    throw new SuiteUsageError("--readme rewrites every module's table: run the whole suite, without --only");
  if (out.readme && out.quick)
    throw new SuiteUsageError('--readme records the full-size results: run without --quick');
  out.runs = runs ?? (out.quick ? 1 : 3);
  return out;
}

function splitOnce(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return eq === -1 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
}
