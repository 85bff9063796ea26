// dist/cli-shared.js: the modules every bundle of the CLI uses one copy of, so that an error thrown in a
// command's bundle is still an instance of the class the error printer knows (`instanceof` holds across
// bundles), and the bundles are loaded by one loader. esbuild.config.mjs makes every other CLI bundle
// require this one instead of carrying these modules itself.
export * from '../errors';
export * from './output';
export * from '../../protocol/task-issues';
export * from './bundle-loader';
