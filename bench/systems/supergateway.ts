import {existsSync} from 'node:fs'
import {NODE, benchModule} from '../lib/paths.js'
import {ECHO_CHILD, cmdline, type ChildSpec} from '../lib/children.js'
import {freePort, start, waitForPort} from '../lib/proc.js'
import type {Gateway, System} from './types.js'

const ENTRY = benchModule('supergateway', 'dist', 'index.js')

/** supergateway 4.x, stdio -> stateful Streamable HTTP (one child per session), logging off. */
export const supergateway: System<Gateway> = {
  name: 'supergateway',
  unavailable: () => (existsSync(ENTRY) ? undefined : 'supergateway is not installed in bench/'),
  async start(options?: {child?: ChildSpec}) {
    const port = await freePort()
    const proc = start(NODE, [
      ENTRY,
      '--stdio',
      cmdline(options?.child ?? ECHO_CHILD),
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--port',
      String(port),
      '--logLevel',
      'none',
    ])
    await waitForPort(port, proc)
    return {name: 'supergateway', port, pid: proc.pid, path: '/mcp', stop: () => proc.stop()}
  },
}
