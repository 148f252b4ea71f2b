import {existsSync} from 'node:fs'
import {NODE, benchModule} from '../lib/paths.js'
import {ECHO_CHILD, type ChildSpec} from '../lib/children.js'
import {freePort, start, waitForPort} from '../lib/proc.js'
import type {Gateway, System} from './types.js'

const ENTRY = benchModule('mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs')

/** punkpeye's mcp-proxy 6.x: the stream (Streamable HTTP) endpoint only, stateful sessions. */
export const mcpProxy: System<Gateway> = {
  name: 'mcp-proxy',
  unavailable: () => (existsSync(ENTRY) ? undefined : 'mcp-proxy is not installed in bench/'),
  async start(options?: {child?: ChildSpec}) {
    const port = await freePort()
    const proc = start(NODE, [
      ENTRY,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--server',
      'stream',
      '--',
      ...(options?.child ?? ECHO_CHILD).argv,
    ])
    await waitForPort(port, proc)
    return {name: 'mcp-proxy', port, pid: proc.pid, path: '/mcp', stop: () => proc.stop()}
  },
}
