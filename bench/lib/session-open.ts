import {performance} from 'node:perf_hooks'
import {McpHttpSession} from './mcp-http.js'
import {RawPool} from './raw-http.js'
import {StdioMcp} from './stdio-client.js'
import {ECHO_ARGV} from './paths.js'
import type {Gateway} from '../systems/types.js'

/** Opens one MCP session over HTTP (initialize, initialized, tools/list) on a new connection. */
export async function openSession(g: Gateway, bearer = g.bearer): Promise<{ms: number; session: McpHttpSession; pool: RawPool}> {
  const pool = new RawPool(g.port, 1)
  const session = new McpHttpSession(pool, g.path, bearer)
  const t0 = performance.now()
  await session.initialize()
  await session.listTools()
  const ms = performance.now() - t0
  return {ms, session, pool}
}

export async function closeSession(s: {session: McpHttpSession; pool: RawPool}): Promise<void> {
  await s.session.close()
  s.pool.close()
}

/** The floor for a new client: spawn the echo server, initialize, list tools, over stdio. */
export async function spawnAndOpen(): Promise<number> {
  const t0 = performance.now()
  const c = new StdioMcp(ECHO_ARGV[0]!, ECHO_ARGV.slice(1))
  try {
    await c.initialize()
    await c.listTools()
    return performance.now() - t0
  } finally {
    await c.stop()
  }
}
