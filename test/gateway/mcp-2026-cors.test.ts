// CORS preflight for 2026-07-28 requests from an allowed origin: Mcp-Method, Mcp-Name and the
// tool-defined Mcp-Param-* headers (MCP 2026-07-28 transports-streamable-http §Standard
// Request Headers, §Custom Headers from Tool Parameters) must be allowed, or browsers cannot
// send a modern request at all (Fetch standard, CORS-preflight fetch).
import assert from 'node:assert/strict'
import {request} from 'node:http'
import {test} from 'node:test'
import {generousLimits} from '../helpers/attacks.js'
import {startInProcess} from '../helpers/server.js'

test('a preflight from an allowed origin allows Mcp-Method, Mcp-Name and the Mcp-Param-* asked for', async (t) => {
  const s = await startInProcess(t, {...generousLimits, allowedOrigins: ['https://app.example']})
  const r = await new Promise<{status: number; headers: Record<string, string | string[] | undefined>}>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.server.port,
        method: 'OPTIONS',
        path: '/mcp',
        headers: {Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, mcp-method, mcp-name, mcp-param-region, x-other, mcp-param-bad name'},
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve({status: res.statusCode!, headers: res.headers}))
      },
    )
    req.on('error', reject)
    req.end()
  })
  assert.equal(r.status, 204)
  const allowed = String(r.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/)
  for (const h of ['mcp-method', 'mcp-name', 'mcp-param-region', 'mcp-protocol-version']) assert.ok(allowed.includes(h), h)
  assert.ok(!allowed.includes('x-other'), 'only Mcp-Param-* names are echoed')
  assert.ok(!allowed.some((h) => h.includes(' ')), 'a name that is not a token is not echoed')
})
