#!/usr/bin/env node
// The flat executable for `gatehouse oauth-list-clients` (see package.json "bin"). It runs the
// one-file bundle that `npm run build` makes (bin/bundle.js: a faster start), through require so
// that Node does not lex it as an ES module would; without the bundle, oclif as usual. The command
// id goes into process.argv itself: oclif's error handler reprints help from process.argv, and
// would otherwise show the root help after a flag error.
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

process.argv.splice(2, 0, 'oauth-list-clients')
const bundle = new URL('../dist/bundle/oauth-list-clients.cjs', import.meta.url)
if (existsSync(bundle)) {
  createRequire(import.meta.url)(fileURLToPath(bundle))
} else {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
