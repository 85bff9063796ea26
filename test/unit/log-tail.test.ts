// The shared log tail against a real file being appended to: every follower gets every byte from its
// offset, in order, exactly once, whether it follows live, catches up from the past, is paused by a
// slow client or does not follow; one leaving disturbs no other.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogTails, wholeCharacters, type LogChunk, type LogFollower, type LogReader } from '../../server/logs/log-tail';

/** A reader that checks as it goes that each chunk starts where the previous one ended. */
class Recorder implements LogReader {
  text = '';
  offset: number;
  chunks = 0;
  ends = 0;
  after: string[] = [];
  closed = false;
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  follower?: LogFollower;

  constructor(
    readonly from: number,
    /** Asked after each chunk: false pauses this reader. */
    private readonly keepGoing: (r: Recorder) => boolean = () => true,
  ) {
    this.offset = from;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  onChunk(chunk: LogChunk): boolean {
    if (this.closed) this.after.push('chunk after close');
    if (chunk.start !== this.offset) this.after.push(`chunk at ${chunk.start}, expected ${this.offset}`);
    this.offset = chunk.end;
    this.text += chunk.text;
    this.chunks++;
    return this.keepGoing(this);
  }

  onEnd(): void {
    if (this.closed) this.after.push('end after close');
    this.ends++;
    this.resolveEnded();
  }
}

describe('shared log tail', () => {
  let dir: string;
  let file: string;
  let done: boolean;
  let wakes: Set<() => void>;
  let tails: LogTails;
  const source = {
    isDone: () => done,
    subscribeWake: (wake: () => void) => (wakes.add(wake), () => wakes.delete(wake)),
  };
  const finishWriting = () => {
    done = true;
    for (const wake of wakes) wake();
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'skydeck-log-tail-'));
    file = path.join(dir, 'request.log');
    done = false;
    wakes = new Set();
    tails = new LogTails();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Lines with one-, two-, three- and four-byte characters, so that writes split characters. */
  const line = (i: number) => `line ${i} é € 😀 ${'x'.repeat(i % 97)}\n`;
  const whole = (n: number) => Array.from({ length: n }, (_, i) => line(i)).join('');

  /** Appends `text` in pieces of `piece` bytes, cut anywhere (inside characters too), yielding between. */
  async function write(text: string, piece: number): Promise<void> {
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += piece) {
      appendFileSync(file, bytes.subarray(at, at + piece));
      if ((at / piece) % 8 === 0) await sleep(1);
    }
  }

  it('gives live, late, offset, paused and non-following followers every byte once, in order', async () => {
    const first = whole(3000);
    const second = whole(6000).slice(first.length);
    const all = first + second;
    const bytes = Buffer.from(all);
    const follow = (r: Recorder, options = { follow: true }) => {
      r.follower = tails.follow(file, source, r.from, r, options);
      return r;
    };

    // Before the file exists: waits for it, then follows live.
    const early = follow(new Recorder(0));
    await write(first, 1000);
    // Joins late, from the start: reads the past on its own, then joins the shared tail.
    const late = follow(new Recorder(0));
    // From an offset in the middle of what is written so far (a character boundary, as offsets sent are).
    const middle = Buffer.byteLength(first.slice(0, first.length >> 1));
    const fromOffset = follow(new Recorder(middle));
    // A slow client: pauses after every third chunk and is resumed a little later.
    const slow = follow(
      new Recorder(0, (r) => {
        if (r.chunks % 3 !== 0) return true;
        setTimeout(() => r.follower!.resume(), 5);
        return false;
      }),
    );
    // Not following: the file as it is when it subscribes (at least `first`), then the end.
    const snapshot = follow(new Recorder(0), { follow: false });
    // Leaves after its first few chunks.
    const leaver = follow(
      new Recorder(0, (r) => {
        if (r.chunks === 2) {
          r.closed = true;
          r.follower!.close();
        }
        return true;
      }),
    );

    await write(second, 777);
    finishWriting();
    await Promise.all([early, late, fromOffset, slow, snapshot].map((r) => r.ended));

    for (const [name, r, from, to] of [
      ['early', early, 0, bytes.length],
      ['late', late, 0, bytes.length],
      ['fromOffset', fromOffset, middle, bytes.length],
      ['slow', slow, 0, bytes.length],
      ['snapshot', snapshot, 0, snapshot.offset],
    ] as const) {
      assert.deepEqual(r.after, [], name);
      assert.equal(r.ends, 1, `${name} ends once`);
      assert.equal(r.offset, to, `${name} ends at byte ${to}`);
      assert.ok(r.text === bytes.subarray(from, to).toString('utf8'), `${name} got every byte from ${from} in order`);
    }
    assert.ok(snapshot.offset >= Buffer.byteLength(first), `the non-following follower stopped at ${snapshot.offset}`);
    assert.ok(slow.chunks > 3, 'the slow follower was paused and resumed');
    assert.deepEqual(leaver.after, []);
    assert.equal(leaver.chunks, 2, 'nothing reaches a follower after it has left');
    assert.equal(leaver.ends, 0);
    assert.equal(tails.size, 0, 'the tail closes once its last follower has ended');
  });

  it('a follower that does not follow ends at the end of the file as it is, without waiting for the writer', async () => {
    appendFileSync(file, 'so far\n');
    const r = new Recorder(0);
    tails.follow(file, source, 0, r, { follow: false });
    await r.ended;
    assert.equal(r.text, 'so far\n');
    assert.equal(done, false);
    assert.equal(tails.size, 0);
  });

  it('ends followers of a log that never existed once the writer is done', async () => {
    const r = new Recorder(0);
    tails.follow(file, source, 0, r, { follow: true });
    // Long enough for the tail to look for the file a few times (it polls every 25 ms until it exists).
    await sleep(80);
    finishWriting();
    await r.ended;
    assert.equal(r.text, '');
    assert.equal(tails.size, 0);
  });

  it('one follower closing leaves the tail to the others, and a new follower starts a new tail after the last', async () => {
    appendFileSync(file, 'before\n');
    const stays = new Recorder(0);
    const leaves = new Recorder(0);
    tails.follow(file, source, 0, stays, { follow: true });
    const leaving = tails.follow(file, source, 0, leaves, { follow: true });
    while (stays.text === '' || leaves.text === '') await sleep(5);
    leaving.close();
    leaves.closed = true;
    appendFileSync(file, 'after\n');
    finishWriting();
    await stays.ended;
    assert.equal(stays.text, 'before\nafter\n');
    assert.equal(leaves.text, 'before\n');
    assert.deepEqual(leaves.after, []);
    assert.equal(tails.size, 0);
    // A finished log followed again: read to its end, then ended.
    const again = new Recorder(3);
    tails.follow(file, source, 3, again, { follow: true });
    await again.ended;
    assert.equal(again.text, 'ore\nafter\n');
  });

  it('cuts chunks only between UTF-8 characters, except at the very end of a finished log', () => {
    const euro = Buffer.from('a€'); // 61 e2 82 ac
    assert.equal(wholeCharacters(euro, 4), 4);
    assert.equal(wholeCharacters(euro, 3), 1);
    assert.equal(wholeCharacters(euro, 2), 1);
    const emoji = Buffer.from('😀'); // f0 9f 98 80
    assert.equal(wholeCharacters(emoji, 4), 4);
    assert.equal(wholeCharacters(emoji, 3), 0);
    assert.equal(wholeCharacters(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80]), 5), 5, 'not UTF-8: nothing to wait for');
  });

  it('the last bytes of a finished log are delivered even when they end inside a character', async () => {
    appendFileSync(file, Buffer.concat([Buffer.from('ok '), Buffer.from('€').subarray(0, 2)]));
    const r = new Recorder(0);
    tails.follow(file, source, 0, r, { follow: true });
    while (r.offset < 3) await sleep(5);
    await sleep(50);
    assert.equal(r.text, 'ok ', 'an incomplete character waits for the rest');
    finishWriting();
    await r.ended;
    assert.equal(r.offset, 5);
    assert.equal(r.text, 'ok \ufffd');
  });
});
