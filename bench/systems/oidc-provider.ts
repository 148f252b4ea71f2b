import {join} from 'node:path'
import {existsSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {BENCH_DIR, NODE, benchModule} from '../lib/paths.js'
import {freePort, start, waitForPort} from '../lib/proc.js'
import {basicAuth} from '../lib/http.js'
import type {System, TokenServer} from './types.js'

export const oidcProvider: System<TokenServer> = {
  name: 'oidc-provider',
  unavailable: () =>
    existsSync(benchModule('oidc-provider', 'package.json')) ? undefined : 'oidc-provider is not installed in bench/',
  async start() {
    const port = await freePort()
    const id = 'bench'
    const secret = randomBytes(32).toString('base64url')
    const proc = start(NODE, [join(BENCH_DIR, 'peers', 'oidc-provider.mjs'), String(port), id, secret], {
      env: {...process.env, NODE_ENV: 'production'},
    })
    await waitForPort(port, proc)
    return {
      name: 'oidc-provider',
      port,
      pid: proc.pid,
      path: '/token',
      headers: {authorization: basicAuth(id, secret), 'content-type': 'application/x-www-form-urlencoded'},
      body: 'grant_type=client_credentials&scope=mcp',
      stop: () => proc.stop(),
    }
  },
}
