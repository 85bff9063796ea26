// Who sent each upload. An upload id is the hash of its content, so it is no secret (it shows in every
// request's body): what lets a task name it is having sent it. One small file per upload lists the
// ids of the users who did (the same files sent by two users are one upload with two owners).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { UPLOAD_ID } from '../protocol/upload';

export class UploadOwners {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  add(uploadId: string, userId: string): void {
    if (!this.owns(uploadId, userId)) appendFileSync(this.file(uploadId), `${userId}\n`, { mode: 0o600 });
  }

  owns(uploadId: string, userId: string): boolean {
    try {
      return readFileSync(this.file(uploadId), 'utf8').split('\n').includes(userId);
    } catch {
      return false;
    }
  }

  /** Forgets the owners of uploads that retention removed. */
  expire(uploadsDir: string): void {
    for (const name of readdirSync(this.dir)) if (!existsSync(path.join(uploadsDir, name))) rmSync(path.join(this.dir, name), { force: true });
  }

  private file(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new Error(`not an upload id: ${uploadId.slice(0, 40)}`);
    return path.join(this.dir, uploadId);
  }
}
