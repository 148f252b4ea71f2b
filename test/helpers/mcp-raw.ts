/**
 * MCP over raw fetch (no SDK), for load and abuse tests where every status must be seen: open a
 * session, call a tool, close the session. Each request is bounded by `timeoutMs` so that a
 * stuck daemon fails the test instead of hanging it.
 */
export const ACCEPT_BOTH = 'application/json, text/event-stream'
export const PROTOCOL_VERSION = '2025-11-25'

export class McpRawError extends Error {}

export function mcpPost(url: string, body: unknown, headers: Record<string, string>, timeoutMs = 30_000): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers},
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
}

/** The JSON-RPC response with `id` in a JSON or SSE answer. */
export async function rpcResult(res: Response, id: number | string): Promise<Record<string, unknown>> {
  const text = await res.text()
  const type = res.headers.get('content-type') ?? ''
  const messages: Array<Record<string, unknown>> = type.startsWith('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>)
    : [JSON.parse(text) as Record<string, unknown>]
  const answer = messages.find((m) => m.id === id)
  if (!answer) throw new McpRawError(`no response with id ${id} in ${text.slice(0, 200)}`)
  if (answer.error) throw new McpRawError(`JSON-RPC error: ${JSON.stringify(answer.error)}`)
  return answer.result as Record<string, unknown>
}

export interface RawSession {
  headers: Record<string, string>
  call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>
  close(): Promise<void>
}

/** initialize + notifications/initialized; throws on any unexpected status. */
export async function openSession(mcpUrl: string, accessToken: string, timeoutMs = 30_000): Promise<RawSession> {
  const authorization = `Bearer ${accessToken}`
  const init = await mcpPost(
    mcpUrl,
    {jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: {name: 'raw', version: '1'}}},
    {authorization},
    timeoutMs,
  )
  if (init.status !== 200) throw new McpRawError(`initialize: ${init.status} ${await init.text()}`)
  const session = init.headers.get('mcp-session-id')
  if (!session) throw new McpRawError('initialize: no Mcp-Session-Id')
  await rpcResult(init, 1)
  const headers = {authorization, 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL_VERSION}
  const initialized = await mcpPost(mcpUrl, {jsonrpc: '2.0', method: 'notifications/initialized'}, headers, timeoutMs)
  await initialized.arrayBuffer()
  if (initialized.status !== 202) throw new McpRawError(`notifications/initialized: ${initialized.status}`)
  let id = 1
  return {
    headers,
    async call(name, args) {
      const n = ++id
      const res = await mcpPost(mcpUrl, {jsonrpc: '2.0', id: n, method: 'tools/call', params: {name, arguments: args}}, headers, timeoutMs)
      if (res.status !== 200) throw new McpRawError(`tools/call ${name}: ${res.status} ${await res.text()}`)
      return rpcResult(res, n)
    },
    async close() {
      const res = await fetch(mcpUrl, {method: 'DELETE', headers, signal: AbortSignal.timeout(timeoutMs)})
      await res.arrayBuffer()
      if (res.status >= 300) throw new McpRawError(`DELETE: ${res.status}`)
    },
  }
}

export const toolText = (result: Record<string, unknown>): string =>
  ((result.content as Array<{text?: string}> | undefined) ?? []).map((c) => c.text ?? '').join('')
