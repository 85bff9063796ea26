// A viewer for a long, growing, coloured log: each chunk is parsed once into lines of styled runs,
// and only the lines in view are in the DOM (fixed line height, no wrapping), so a log of hundreds of
// thousands of lines follows, scrolls and searches without freezing the page. Rendering happens at
// most once per animation frame, however fast chunks arrive.
import { AnsiParser, type StyledRun } from './ansi';
import { el } from './dom';

/** A line is plain text, or runs when part of it is styled. */
type Line = string | StyledRun[];

export interface LogViewOptions {
  id?: string;
  label?: string;
  /** Lines kept in memory; older ones are dropped with a note (the whole log stays on the server). */
  maxLines?: number;
  /** What the note says after "N earlier lines dropped": where to get them. */
  droppedHint?: string;
  /** Called when following starts or stops (scrolling up stops it, scrolling to the end resumes it). */
  onFollowChange?(following: boolean): void;
}

const OVERSCAN = 20;
const FALLBACK_LINE_HEIGHT = 18;

export class LogView {
  /** The scrolling element to place in the page. */
  readonly element: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private lines: Line[] = [''];
  /** Lines dropped from the front; absolute line numbers are `dropped + index`. */
  private dropped = 0;
  private parser = new AnsiParser();
  /** The open line ended in a carriage return: what comes next overwrites it, unless it is a newline. */
  private carriageReturn = false;
  private lineHeight = 0;
  private following = true;
  private term = '';
  /** Absolute numbers of the lines that contain the search term, and which one is current. */
  private matches: number[] = [];
  private searchedTo = 0;
  private current = -1;
  private frame = 0;
  private readonly maxLines: number;

  constructor(private readonly options: LogViewOptions = {}) {
    this.maxLines = options.maxLines ?? 500_000;
    this.element = el('div', { class: 'log', role: 'log', tabindex: '0', 'aria-label': options.label ?? 'log', ...(options.id ? { id: options.id } : {}) });
    this.spacer = el('div', { 'aria-hidden': 'true' });
    this.rows = el('div', { class: 'log-lines' });
    // Layout the view depends on is set here, so a host's stylesheet only chooses colours and sizes.
    this.element.style.position = 'relative';
    this.element.style.overflow = 'auto';
    this.spacer.style.width = '1px';
    Object.assign(this.rows.style, { position: 'absolute', top: '0', left: '0', right: '0', whiteSpace: 'pre', minWidth: 'max-content' });
    this.element.append(this.spacer, this.rows);
    this.element.addEventListener('scroll', () => {
      const atEnd = this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight < Math.max(4, this.lineHeight);
      if (atEnd !== this.following) this.setFollowing(atEnd);
      this.schedule();
    });
  }

  get isFollowing(): boolean {
    return this.following;
  }

  /** Number of lines held (the open last line included when it has text). */
  get lineCount(): number {
    return this.lines.length - (this.lines[this.lines.length - 1] === '' ? 1 : 0);
  }

  follow(on: boolean): void {
    this.setFollowing(on);
    this.schedule();
  }

  append(chunk: string): void {
    if (!chunk) return;
    for (const run of this.parser.push(chunk)) {
      const pieces = run.text.split('\n');
      pieces.forEach((piece, i) => {
        if (i > 0) {
          this.lines.push('');
          this.carriageReturn = false;
        }
        this.addToOpenLine(piece, run.classes);
      });
    }
    const excess = this.lines.length - this.maxLines;
    // Dropped in batches: splicing the front of a big array on every chunk would be quadratic.
    if (excess > this.maxLines / 20) {
      this.lines.splice(0, excess);
      this.dropped += excess;
      this.searchedTo = Math.max(0, this.searchedTo - excess);
      this.matches = this.matches.filter((n) => n >= this.dropped);
    }
    if (this.term) this.searchNewLines();
    this.schedule();
  }

  clear(): void {
    this.lines = [''];
    this.dropped = 0;
    this.parser = new AnsiParser();
    this.carriageReturn = false;
    this.matches = [];
    this.searchedTo = 0;
    this.current = -1;
    this.schedule();
  }

  /** Highlights `term` (case-insensitive) and shows its first match; returns how many lines match. */
  search(term: string): number {
    this.term = term.toLowerCase();
    this.matches = [];
    this.searchedTo = 0;
    this.current = -1;
    if (this.term) {
      this.searchNewLines();
      if (this.matches.length > 0) this.reveal(0);
    }
    this.schedule();
    return this.matches.length;
  }

  get matchCount(): number {
    return this.matches.length;
  }

  /** Moves to the next (1) or previous (-1) matching line; returns its position among the matches (1-based). */
  nextMatch(direction: 1 | -1 = 1): number {
    if (this.matches.length === 0) return 0;
    this.reveal((this.current + direction + this.matches.length) % this.matches.length);
    return this.current + 1;
  }

  /** The absolute number of the line at the top of the view (where a reader who scrolled up is). */
  get topLine(): number {
    return this.dropped + Math.max(0, Math.floor(this.element.scrollTop / this.measure()) - this.noteLines());
  }

  /**
   * Stops following and scrolls absolute line `line` to the top of the view (as near as the lines held allow);
   * false while too few lines are held after it to put it there.
   */
  scrollToLine(line: number): boolean {
    this.setFollowing(false);
    const lh = this.measure();
    this.sizeSpacer(lh); // the next frame's render would, but scrollTop is clamped to the height there is now
    const target = (Math.max(0, line - this.dropped) + this.noteLines()) * lh;
    this.element.scrollTop = target;
    this.schedule();
    return this.element.scrollTop >= target - 1;
  }

  /** The text of the lines held, without colours (what is on screen, not the whole log when lines were dropped). */
  text(): string {
    return this.lines.map(lineText).join('\n');
  }

  private reveal(index: number): void {
    this.current = index;
    this.setFollowing(false);
    const line = this.matches[index]! - this.dropped;
    const lh = this.measure();
    this.element.scrollTop = Math.max(0, (line + this.noteLines()) * lh - this.element.clientHeight / 2);
    this.schedule();
  }

  private searchNewLines(): void {
    // The last line searched may have grown since: search it again.
    const from = Math.max(0, this.searchedTo - 1);
    if (this.matches[this.matches.length - 1] === this.dropped + from) this.matches.pop();
    for (let i = from; i < this.lines.length; i++) if (lineText(this.lines[i]!).toLowerCase().includes(this.term)) this.matches.push(this.dropped + i);
    this.searchedTo = this.lines.length;
  }

  private addToOpenLine(piece: string, classes: string): void {
    const last = this.lines.length - 1;
    if (this.carriageReturn && piece) {
      this.lines[last] = '';
      this.carriageReturn = false;
    }
    let text = piece;
    if (text.endsWith('\r')) {
      text = text.slice(0, -1);
      this.carriageReturn = true;
    }
    const cr = text.lastIndexOf('\r');
    if (cr >= 0) {
      this.lines[last] = '';
      text = text.slice(cr + 1);
    }
    if (!text) return;
    const line = this.lines[last]!;
    if (typeof line === 'string' && !classes) this.lines[last] = line + text;
    else {
      const runs = typeof line === 'string' ? (line ? [{ text: line, classes: '' }] : []) : line;
      const prev = runs[runs.length - 1];
      if (prev && prev.classes === classes) prev.text += text;
      else runs.push({ text, classes });
      this.lines[last] = runs;
    }
  }

  private setFollowing(on: boolean): void {
    if (on === this.following) return;
    this.following = on;
    this.options.onFollowChange?.(on);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private noteLines(): number {
    return this.dropped > 0 ? 1 : 0;
  }

  private measure(): number {
    if (this.lineHeight > 0) return this.lineHeight;
    const probe = el('div', { class: 'log-line' }, 'M');
    this.rows.append(probe);
    const h = probe.getBoundingClientRect().height;
    probe.remove();
    if (h > 0) this.lineHeight = h;
    return h > 0 ? h : FALLBACK_LINE_HEIGHT;
  }

  private sizeSpacer(lh: number): void {
    this.spacer.style.height = `${(this.lines.length + this.noteLines()) * lh}px`;
  }

  private render(): void {
    const lh = this.measure();
    const note = this.noteLines();
    const total = this.lines.length + note;
    this.sizeSpacer(lh);
    if (this.following) this.element.scrollTop = this.element.scrollHeight;
    const top = this.element.scrollTop;
    const first = Math.max(0, Math.floor(top / lh) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + (this.element.clientHeight || 600)) / lh) + OVERSCAN);
    const nodes: Node[] = [];
    const currentLine = this.current >= 0 ? this.matches[this.current] : undefined;
    for (let row = first; row < last; row++) {
      if (row < note) {
        nodes.push(el('div', { class: 'log-line dropped' }, `(${this.dropped.toLocaleString()} earlier lines dropped${this.options.droppedHint ? `; ${this.options.droppedHint}` : ''})`));
        continue;
      }
      const index = row - note;
      const node = el('div', { class: this.dropped + index === currentLine ? 'log-line current' : 'log-line' });
      appendLine(node, this.lines[index]!, this.term);
      nodes.push(node);
    }
    this.rows.style.transform = `translateY(${first * lh}px)`;
    this.rows.replaceChildren(...nodes);
  }
}

function lineText(line: Line): string {
  return typeof line === 'string' ? line : line.map((r) => r.text).join('');
}

function appendLine(node: HTMLElement, line: Line, term: string): void {
  const runs = typeof line === 'string' ? [{ text: line, classes: '' }] : line;
  for (const run of runs) {
    const target = run.classes ? el('span', { class: run.classes }) : node;
    if (target !== node) node.append(target);
    if (!term) {
      target.append(run.text);
      continue;
    }
    const lower = run.text.toLowerCase();
    let at = 0;
    for (let i = lower.indexOf(term); i >= 0; i = lower.indexOf(term, i + term.length)) {
      target.append(run.text.slice(at, i), el('mark', {}, run.text.slice(i, i + term.length)));
      at = i + term.length;
    }
    target.append(run.text.slice(at));
  }
  if (runs.every((r) => !r.text)) node.append('\u200b');
}
