// Output of multi-node jobs (SSH and Slurm alike): each node's stream goes into the one job log, line by
// line with the node named, and how far each node's stream was copied is kept on disk so a restarted
// server goes on from there instead of copying the log again.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogWriter } from '../logs/log-writer';

/** `(head, rank=0) ` / `(node-2, rank=2) `; nothing when the job has a single node. */
export function nodePrefix(rank: number, numNodes: number): string {
  if (numNodes <= 1) return '';
  return rank === 0 ? '(head, rank=0) ' : `(node-${rank}, rank=${rank}) `;
}

/** Copies one node's stream into the job log, prefixing whole lines (single-node output passes as is). */
export class NodeOutput {
  private partial = '';

  constructor(
    private readonly log: LogWriter,
    private readonly prefix: string,
  ) {}

  /** Returns false when the log's buffer is full: the caller should wait for it (LogWriter.append). */
  write(chunk: Buffer | string): boolean {
    const text = chunk.toString();
    if (this.prefix === '') return this.log.write(text);
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    return lines.length === 0 || this.log.write(lines.map((l) => `${this.prefix}${l}\n`).join(''));
  }

  /** Writes a last line that had no newline. */
  flush(): void {
    if (this.partial !== '') this.log.write(`${this.prefix}${this.partial}\n`);
    this.partial = '';
  }
}

const SAVE_EVERY_MS = 500;

/**
 * Bytes of each node's stream already in the job log, saved every half second. What is saved lags one
 * period behind what was written, so everything counted has surely reached the log file even when the
 * server is killed: a restart may repeat the last second of output but never loses any.
 */
export class StreamOffsets {
  private readonly current: number[];
  private settled: number[];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    numNodes: number,
  ) {
    this.current = StreamOffsets.read(file, numNodes);
    this.settled = [...this.current];
  }

  static read(file: string, numNodes: number): number[] {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(saved) && saved.length === numNodes && saved.every((n) => Number.isInteger(n) && n >= 0)) return saved as number[];
    } catch {
      // No saved offsets: the job has not been followed before.
    }
    return new Array<number>(numNodes).fill(0);
  }

  of(rank: number): number {
    return this.current[rank]!;
  }

  advance(rank: number, bytes: number): void {
    this.current[rank]! += bytes;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.save(this.settled);
      this.settled = [...this.current];
    }, SAVE_EVERY_MS);
    this.timer.unref();
  }

  /** The job has ended and its log is complete: nothing to resume from any more. */
  finish(): void {
    clearInterval(this.timer);
    rmSync(this.file, { force: true });
  }

  private save(offsets: number[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(offsets));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
