import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnsiParser } from '../../ui/ansi';

test('colours and bold become classes, reset clears them', () => {
  const runs = new AnsiParser().push('a\u001b[31mred\u001b[1mbold\u001b[0mz');
  assert.deepEqual(runs, [
    { text: 'a', classes: '' },
    { text: 'red', classes: 'ansi-fg-1' },
    { text: 'bold', classes: 'ansi-fg-1 ansi-bold' },
    { text: 'z', classes: '' },
  ]);
});

test('a style carries over to the next chunk, and an escape split across chunks is joined', () => {
  const parser = new AnsiParser();
  assert.deepEqual(parser.push('\u001b[32mgreen '), [{ text: 'green ', classes: 'ansi-fg-2' }]);
  assert.deepEqual(parser.push('still\u001b[3'), [{ text: 'still', classes: 'ansi-fg-2' }]);
  assert.deepEqual(parser.push('9mplain'), [{ text: 'plain', classes: '' }]);
});

test('bright, background and 256-colour forms', () => {
  const runs = new AnsiParser().push('\u001b[91;44mx\u001b[38;5;200my\u001b[38;2;1;2;3mz');
  // 38;5;200 is beyond the 16 themed colours and 38;2 is RGB: both are skipped, the style stays.
  assert.deepEqual(runs, [{ text: 'xyz', classes: 'ansi-fg-9 ansi-bg-4' }]);
  assert.deepEqual(new AnsiParser().push('\u001b[38;5;3mq'), [{ text: 'q', classes: 'ansi-fg-3' }]);
});

test('text that merely looks like markup stays text', () => {
  assert.deepEqual(new AnsiParser().push('<b>&amp;</b>'), [{ text: '<b>&amp;</b>', classes: '' }]);
});
