import assert from 'node:assert/strict'
import {join} from 'node:path'
import {test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {repoRoot} from '../helpers/cli.js'
import {traceResolvedModules} from '../helpers/module-trace.js'
import {tempDir} from '../helpers/tmp.js'

/**
 * openid-client (and oauth4webapi under it) is only for upstream sign-in (--oidc-issuer), which
 * most daemons do not use: it loads at the first sign-in, not with the daemon's modules (issue 15,
 * idle memory). The upstream sign-in itself is held by test/e2e/upstream-signin.e2e.test.ts.
 */
test("the daemon's modules do not load openid-client until an upstream sign-in needs it", (t) => {
  const dir = tempDir(t)
  const entry = pathToFileURL(join(repoRoot, 'dist', 'commands', 'oauth-server.js')).href
  const {resolved} = traceResolvedModules(dir, ['--input-type=module', '-e', `await import(${JSON.stringify(entry)})`])
  assert.ok(resolved.some((url) => url.endsWith('/dist/users/oidc/upstream-login.js')), 'the trace saw the daemon\'s modules')
  assert.deepEqual(resolved.filter((url) => url.includes('/node_modules/openid-client/') || url.includes('/node_modules/oauth4webapi/')), [])
})
