import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { REMOVED_FROM_CHILD_ENV } from './floe-process';

/** The machine a result was measured on, captured with every result. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  /** 1-minute load average when the suite started: a busy machine explains noisy numbers. */
  loadAverage: number;
  /**
   * Variables set in the bench's environment that it removed from its
   * children's (see REMOVED_FROM_CHILD_ENV in floe-process.ts). Absent in
   * results written before this was recorded.
   */
  removedFromChildEnv?: string[];
}

export function describeMachine(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${type()} ${release()}`,
    loadAverage: Math.round(loadavg()[0] * 100) / 100,
    removedFromChildEnv: REMOVED_FROM_CHILD_ENV.filter((name) => process.env[name] !== undefined),
  };
}

export function machineLine(m: MachineInfo): string {
  const removed =
    m.removedFromChildEnv !== undefined && m.removedFromChildEnv.length > 0
      ? `, ${m.removedFromChildEnv.join(' and ')} removed from the runs' environment`
      : '';
  return `${m.cores} x ${m.cpu}, ${m.memoryGb} GB RAM, ${m.os}, Node ${m.node}, load average ${m.loadAverage} at start${removed}`;
}
