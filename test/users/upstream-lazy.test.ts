import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {repoRoot} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

/**
 * openid-client (and oauth4webapi under it) is only for upstream sign-in (--oidc-issuer), which
 * most daemons do not use: it loads at the first sign-in, not with the daemon's modules (issue 15,
 * idle memory). The upstream sign-in itself is held by test/e2e/upstream-signin.e2e.test.ts.
 */
test("the daemon's modules do not load openid-client until an upstream sign-in needs it", (t) => {
  const dir = tempDir(t)
  const out = join(dir, 'resolved.txt')
  const hooks = join(dir, 'hooks.mjs')
  const register = join(dir, 'register.mjs')
  writeFileSync(out, '')
  writeFileSync(
    hooks,
    `import {appendFileSync} from 'node:fs'
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  appendFileSync(${JSON.stringify(out)}, r.url + '\\n')
  return r
}
`,
  )
  writeFileSync(register, `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`)
  const entry = pathToFileURL(join(repoRoot, 'dist', 'commands', 'oauth-server.js')).href
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', `await import(${JSON.stringify(entry)})`], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  const resolved = readFileSync(out, 'utf8').split('\n').filter(Boolean)
  assert.ok(resolved.some((url) => url.endsWith('/dist/users/oidc/upstream-login.js')), 'the trace saw the daemon\'s modules')
  assert.deepEqual(resolved.filter((url) => url.includes('/node_modules/openid-client/') || url.includes('/node_modules/oauth4webapi/')), [])
})
