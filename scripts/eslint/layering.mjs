// ESLint rule `layering/boundaries`: an import (static, dynamic, type-only or re-export) that resolves into
// a part of the project its file's part may not use is an error. Parts are the top-level folders; the
// allowed arrows are drawn in docs/architecture.md.
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** Which parts each part may not import from. protocol/ may import nothing of ours outside itself. */
export const FORBIDDEN = {
  protocol: ['server', 'client', 'extension', 'webview', 'ui', 'dashboard', 'shared', 'scripts', 'test', 'bench'],
  // Node-only helpers server/ and client/ both use (the hidden terminal prompt): they use only protocol/.
  shared: ['server', 'client', 'extension', 'webview', 'ui', 'dashboard'],
  server: ['client', 'extension', 'webview', 'ui', 'dashboard'],
  client: ['server', 'extension', 'webview', 'ui', 'dashboard'],
  extension: ['server', 'dashboard'],
  webview: ['extension', 'server', 'client', 'dashboard', 'shared'],
  ui: ['extension', 'server', 'client', 'webview', 'dashboard', 'shared'],
  dashboard: ['extension', 'server', 'webview', 'shared'],
};

/** Parts that run in a browser or everywhere: no Node built-ins (DESIGN: protocol/ has no Node-only imports). */
export const NODE_FREE = ['protocol', 'webview', 'ui', 'dashboard'];

const partOf = (file) => path.relative(root, file).split(path.sep)[0];

const rule = {
  meta: { type: 'problem', schema: [], messages: {
      crossing: '{{from}}/ may not import from {{to}}/ ({{source}}); see docs/architecture.md',
      nodeBuiltin: '{{from}}/ runs outside Node and may not import {{source}}; Node-only code both sides use goes in shared/',
    },
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const from = partOf(file);
    const forbidden = FORBIDDEN[from];
    if (!forbidden) return {};
    const nodeFree = NODE_FREE.includes(from);
    const check = (node) => {
      const source = node?.value;
      if (typeof source !== 'string') return;
      if (nodeFree && source.startsWith('node:')) return context.report({ node, messageId: 'nodeBuiltin', data: { from, source } });
      if (!source.startsWith('.')) return; // packages are not parts
      const to = partOf(path.resolve(path.dirname(file), source));
      if (forbidden.includes(to)) context.report({ node, messageId: 'crossing', data: { from, to, source } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
      TSImportType: (n) => check(n.argument?.literal ?? n.argument),
    };
  },
};

export default { rules: { boundaries: rule } };
