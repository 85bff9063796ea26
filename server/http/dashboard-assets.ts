// The dashboard's script and style sheet. The build puts them into the server bundle itself (one file
// to ship, nothing fetched from anywhere else); run from source, they are read from dist/dashboard/.
// Each is gzipped once and named by a content hash, so browsers cache it until the server changes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

declare const __SKYDECK_DASHBOARD__: { js: string; css: string } | undefined;

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  /** Short content hash: the `?v=` of its URL and its ETag. */
  version: string;
}

export type AssetName = 'dashboard.js' | 'dashboard.css';

let assets: Record<AssetName, Asset> | undefined;

export function dashboardAssets(): Record<AssetName, Asset> {
  if (assets) return assets;
  const source =
    typeof __SKYDECK_DASHBOARD__ !== 'undefined'
      ? __SKYDECK_DASHBOARD__
      : (() => {
          // Beside dist/server.js (a watch build), or from the source tree.
          for (const dir of [path.join(__dirname, 'dashboard'), path.resolve(__dirname, '../../dist/dashboard')]) {
            try {
              return { js: readFileSync(path.join(dir, 'dashboard.js'), 'utf8'), css: readFileSync(path.join(dir, 'dashboard.css'), 'utf8') };
            } catch {
              // the next place
            }
          }
          return { js: 'document.body.textContent = "The dashboard is not built: run npm run build.";', css: '' };
        })();
  const asset = (type: string, text: string): Asset => {
    const body = Buffer.from(text);
    return { type, body, gzip: gzipSync(body, { level: 9 }), version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
  };
  assets = { 'dashboard.js': asset('text/javascript; charset=utf-8', source.js), 'dashboard.css': asset('text/css; charset=utf-8', source.css) };
  return assets;
}
