import { MultiBar, Presets } from 'cli-progress';
import type { ProgressBar } from './bench-module';

/**
 * Progress of the suite on stderr: a bar per module on a terminal, plain
 * lines otherwise (CI logs, redirected output), so stdout keeps only the summary.
 */
export class SuiteProgress {
  private readonly multi: MultiBar | null;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.multi = stream.isTTY
      ? new MultiBar(
          {
            stream,
            format: '{module} |{bar}| {value}/{total} {step}',
            hideCursor: true,
            clearOnComplete: false,
            autopadding: true,
          },
          Presets.shades_classic,
        )
      : null;
  }

  bar(module: string, total: number): ProgressBar {
    const name = module.padEnd(14);
    if (this.multi === null) {
      let done = 0;
      return {
        tick: (label) => {
          done++;
          this.stream.write(`${module}: ${done}/${total}${label ? ` ${label}` : ''}\n`);
        },
        stop: () => undefined,
      };
    }
    const bar = this.multi.create(total, 0, { module: name, step: '' });
    return {
      tick: (label) => bar.increment(1, { step: label ?? '' }),
      stop: () => bar.stop(),
    };
  }

  log(line: string): void {
    if (this.multi === null) this.stream.write(line + '\n');
    else this.multi.log(line + '\n');
  }

  stop(): void {
    this.multi?.stop();
  }
}
