// Version and commit, stamped into the bundles by esbuild (see esbuild.config.mjs); plain values under tsx.
declare const __SKYDECK_VERSION__: string | undefined;
declare const __SKYDECK_COMMIT__: string | undefined;

export const VERSION = typeof __SKYDECK_VERSION__ === 'string' ? __SKYDECK_VERSION__ : '0.0.0-dev';
export const COMMIT = typeof __SKYDECK_COMMIT__ === 'string' ? __SKYDECK_COMMIT__ : 'dev';
