import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {binEnv, repoRoot, runBin} from '../helpers/cli.js'
import {traceResolvedModules} from '../helpers/module-trace.js'
import {tempDir} from '../helpers/tmp.js'

/**
 * `oauth-list-clients` starts from the one-file bundle `npm run build` makes (bin/bundle.js;
 * issue 15: spawn to exit under 400 ms with 10,000 clients, most of which was loading oclif's
 * and the command's modules one by one). These hold that the executable really runs the bundle,
 * and that it answers as the oclif-dispatched command does.
 */

/** Runs bin/oauth-list-clients.js --json, tracing the ES modules it resolves. */
const listWithResolveTrace = (dataDir: string, dir: string) => traceResolvedModules(dir, [join(repoRoot, 'bin', 'oauth-list-clients.js'), '--json'], binEnv(dataDir))

test('oauth-list-clients runs from its bundle: neither oclif nor the command is loaded module by module', async (t) => {
  assert.ok(existsSync(join(repoRoot, 'dist', 'bundle', 'oauth-list-clients.cjs')), 'dist/bundle/oauth-list-clients.cjs is missing: run `npm run build`')
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const made = await runBin('oauth-generate-client', ['--name', 'bundled', '--json'], {dataDir})
  assert.equal(made.code, 0, made.stderr)
  const {client_id: id} = JSON.parse(made.stdout) as {client_id: string}

  const {stdout, resolved} = listWithResolveTrace(dataDir, dir)
  const listed = JSON.parse(stdout) as Array<{client_id: string}>
  assert.deepEqual(listed.map((c) => c.client_id), [id])
  const unbundled = resolved.filter((url) => url.includes('/node_modules/@oclif/') || url.includes('/dist/commands/'))
  assert.deepEqual(unbundled, [], 'modules resolved one by one although the bundle exists')
})

test('the bundled oauth-list-clients answers as `gatehouse oauth-list-clients` does: listing, --help, bad flags', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  for (const name of ['one', 'two']) assert.equal((await runBin('oauth-generate-client', ['--name', name], {dataDir})).code, 0)

  const flat = await runBin('oauth-list-clients', ['--json', '--all'], {dataDir})
  const viaOclif = await runBin('run', ['oauth-list-clients', '--json', '--all'], {dataDir})
  assert.equal(flat.code, 0, flat.stderr)
  assert.equal(flat.stdout, viaOclif.stdout)

  const help = await runBin('oauth-list-clients', ['--help'], {dataDir})
  assert.equal(help.code, 0, help.stderr)
  assert.match(help.stdout, /\$ gatehouse oauth-list-clients/)
  assert.match(help.stdout, /--all/)

  const bad = await runBin('oauth-list-clients', ['--no-such-flag'], {dataDir})
  const badViaOclif = await runBin('run', ['oauth-list-clients', '--no-such-flag'], {dataDir})
  assert.equal(bad.code, 2)
  assert.equal(bad.code, badViaOclif.code)
  assert.match(bad.stderr, /Nonexistent flag: --no-such-flag/)
})
