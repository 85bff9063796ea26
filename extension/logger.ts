// The one logger every part of the extension writes to; extension.ts backs it with a LogOutputChannel.

export interface Logger {
  trace(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error): void;
}

