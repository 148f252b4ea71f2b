#!/usr/bin/env node
// Bundles the flat executables whose start-up time is a target (issue 15: `oauth-list-clients
// --json` with 10,000 clients under 400 ms from spawn to exit) into one CommonJS file each under
// dist/bundle/ (run by `npm run build`, after tsc). Measured on this project's machine
// (bench/README.md, "CLI start-up"): loading oclif and the command's ~300 modules one by one is
// most of the start; one CommonJS file of the same code costs about two thirds of the CPU. ESM
// output, or an ESM entry that `import`s the CommonJS file (Node then lexes it for its exports),
// keeps most of the cost, so the executables `require` the bundle (bin/oauth-list-clients.js).
//
// The bundle runs the command class directly (Command.run, as oclif's execute would after finding
// it in the manifest) with oclif's own flush and error handling; --help and --version go through
// oclif's run, as before. Native and optional packages,
// and those only some configurations load, stay outside and are required from node_modules.
import {build} from 'esbuild'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** dist/commands/<name>.js -> dist/bundle/<name>.cjs */
const COMMANDS = ['oauth-list-clients']
const EXTERNAL = ['better-sqlite3', 'keytar', 'pg', 'inquirer', 'openid-client', 'typescript', 'ts-node']

for (const name of COMMANDS) {
  const result = await build({
    stdin: {
      // --help and --version go through oclif's own run (it answers them from the manifest
      // without loading the command); anything else runs the bundled command class.
      contents: `const {flush, handle, run} = require('@oclif/core')
const Command = require('./commands/${name}.js').default
// process.argv is [node, script, '${name}', ...flags]: the executable put the id in.
const argv = process.argv.slice(3)
const direct = !argv.some((a) => a === '--help' || a === '--version')
const ran = direct ? Command.run(argv, __filename) : run(['${name}', ...argv], __filename)
ran.then(() => flush()).catch((error) => handle(error))
`,
      resolveDir: join(root, 'dist'),
      sourcefile: `${name}-entry.cjs`,
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(root, 'dist', 'bundle', `${name}.cjs`),
    external: EXTERNAL,
    logLevel: 'silent',
  })
  // import.meta has no value in CommonJS: a module of the command that reads it would break here.
  const fatal = result.warnings.filter((w) => w.text.includes('import.meta'))
  if (fatal.length > 0) {
    throw new Error(`bundling ${name}: ${fatal.map((w) => `${w.location?.file}:${w.location?.line}: ${w.text}`).join('; ')}`)
  }
}
