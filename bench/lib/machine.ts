// What the figures were measured on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  nproc: number;
  cpuModel: string;
  freeG: string;
  memTotalBytes: number;
  kernel: string;
  node: string;
}

export function describeMachine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  let freeG = '';
  try {
    freeG = execFileSync('free', ['-g'], { encoding: 'utf8' }).trimEnd();
  } catch {
    freeG = '(free not available)';
  }
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    freeG,
    memTotalBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}
