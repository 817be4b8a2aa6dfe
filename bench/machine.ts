import { cpus, loadavg, release, totalmem, type } from 'node:os';

/** The machine a result was measured on, captured with every result. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  /** 1-minute load average when the suite started: a busy machine explains noisy numbers. */
  loadAverage: number;
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
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cores} x ${m.cpu}, ${m.memoryGb} GB RAM, ${m.os}, Node ${m.node}, load average ${m.loadAverage} at start`;
}
