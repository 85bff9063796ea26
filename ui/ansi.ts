// ANSI SGR colour codes to styled text runs, for the log views of the webview panels and the dashboard.
// Stateful across chunks, since a colour set in one chunk may apply to the next. Produces class names, never HTML.

export interface AnsiStyle {
  fg?: number;
  bg?: number;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

export interface StyledRun {
  text: string;
  /** Space-separated classes (`ansi-fg-1 ansi-bold`), empty for plain text. */
  classes: string;
}

export class AnsiParser {
  private style: AnsiStyle = {};
  /** An escape sequence cut off at the end of a chunk, kept for the next one. */
  private partial = '';

  push(chunk: string): StyledRun[] {
    const text = this.partial + chunk;
    this.partial = '';
    const runs: StyledRun[] = [];
    // eslint-disable-next-line no-control-regex
    const escape = /\u001b(?:\[([0-9;?]*)([@-~])|\][^\u0007\u001b]*(?:\u0007|\u001b\\))/g;
    let last = 0;
    for (let m = escape.exec(text); m; m = escape.exec(text)) {
      if (m.index > last) runs.push({ text: text.slice(last, m.index), classes: classesOf(this.style) });
      if (m[2] === 'm') this.apply(m[1] ?? '');
      last = escape.lastIndex;
    }
    let rest = text.slice(last);
    const cut = rest.lastIndexOf('\u001b');
    if (cut >= 0 && cut > rest.length - 32 && !/[@-~]/.test(rest.slice(cut + 2))) {
      this.partial = rest.slice(cut);
      rest = rest.slice(0, cut);
    }
    if (rest) runs.push({ text: rest, classes: classesOf(this.style) });
    return merge(runs);
  }

  private apply(params: string): void {
    const codes = params === '' ? [0] : params.split(';').map((p) => Number(p) || 0);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c === 0) this.style = {};
      else if (c === 1) this.style.bold = true;
      else if (c === 2) this.style.dim = true;
      else if (c === 3) this.style.italic = true;
      else if (c === 4) this.style.underline = true;
      else if (c === 22) this.style.bold = this.style.dim = false;
      else if (c === 23) this.style.italic = false;
      else if (c === 24) this.style.underline = false;
      else if (c >= 30 && c <= 37) this.style.fg = c - 30;
      else if (c === 39) this.style.fg = undefined;
      else if (c >= 40 && c <= 47) this.style.bg = c - 40;
      else if (c === 49) this.style.bg = undefined;
      else if (c >= 90 && c <= 97) this.style.fg = c - 90 + 8;
      else if (c === 38 || c === 48) {
        // 256-colour and RGB forms: keep the 16 basic colours, skip the rest.
        const kind = codes[i + 1];
        const index = kind === 5 ? codes[i + 2] : undefined;
        if (index !== undefined && index < 16) this.style[c === 38 ? 'fg' : 'bg'] = c === 48 ? index % 8 : index;
        i += kind === 5 ? 2 : kind === 2 ? 4 : 0;
      }
    }
  }
}

function classesOf(style: AnsiStyle): string {
  const classes: string[] = [];
  if (style.fg !== undefined) classes.push(`ansi-fg-${style.fg}`);
  if (style.bg !== undefined) classes.push(`ansi-bg-${style.bg}`);
  if (style.bold) classes.push('ansi-bold');
  if (style.dim) classes.push('ansi-dim');
  if (style.italic) classes.push('ansi-italic');
  if (style.underline) classes.push('ansi-underline');
  return classes.join(' ');
}

function merge(runs: StyledRun[]): StyledRun[] {
  const out: StyledRun[] = [];
  for (const run of runs) {
    const prev = out[out.length - 1];
    if (prev && prev.classes === run.classes) prev.text += run.text;
    else if (run.text) out.push({ ...run });
  }
  return out;
}
