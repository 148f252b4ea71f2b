import {join} from 'node:path'
import {BENCH_DIR, NODE} from '../lib/paths.js'
import {freePort, start, waitForPort} from '../lib/proc.js'
import {basicAuth} from '../lib/http.js'
import type {ChildSpec} from '../lib/children.js'
import type {Gateway, System, TokenServer} from './types.js'

/**
 * The floors (issue 15): plain node:http servers from `fixtures/floor-server.mjs`, pinned and
 * measured like every other system (server CPU of the whole process tree per operation), so
 * each Gatehouse path can be read as a ratio to what the machine allows in the same run.
 */
const FLOOR = join(BENCH_DIR, 'fixtures', 'floor-server.mjs')

/** Stand-in credentials: the floors check nothing, the signing floor hashes the Basic header. */
const HEADERS = {authorization: basicAuth('floor-client', 'x'.repeat(43)), 'content-type': 'application/x-www-form-urlencoded'}
const BODY = 'grant_type=client_credentials&scope=mcp'

function tokenFloor(name: string, mode: 'plain' | 'sign'): System<TokenServer> {
  return {
    name,
    unavailable: () => undefined,
    async start() {
      const port = await freePort()
      const proc = start(NODE, [FLOOR, String(port), mode])
      await waitForPort(port, proc)
      return {name, port, pid: proc.pid, path: '/token', headers: HEADERS, body: BODY, stop: () => proc.stop()}
    },
  }
}

/** node:http answering a fixed token-sized JSON body (an ES256 JWT signed once at start). */
export const httpFloor = tokenFloor('node:http (floor)', 'plain')
/** node:http doing one SHA-256 and one ES256 signature (node:crypto) per request. */
export const signingFloor = tokenFloor('signing floor', 'sign')

export const HTTP_FLOOR = httpFloor.name
export const SIGNING_FLOOR = signingFloor.name
export const BRIDGE_FLOOR = 'bridge floor'

/** node:http plus one stdio round trip to `child` per message; no authorization, one session. */
export const bridgeFloor: System<Gateway> = {
  name: BRIDGE_FLOOR,
  unavailable: () => undefined,
  async start(options?: {child?: ChildSpec}) {
    const child = options?.child
    if (!child) throw new Error('bridge floor: no child given')
    const port = await freePort()
    const proc = start(NODE, [FLOOR, String(port), 'bridge', '--', ...child.argv])
    await waitForPort(port, proc)
    return {name: BRIDGE_FLOOR, port, pid: proc.pid, path: '/mcp', stop: () => proc.stop()}
  },
}
