// A client that never reads its SSE response must not grow the daemon's memory without bound:
// past maxUnsentBytes the connection is cut, other sessions go on, and the client can resume
// with Last-Event-ID from the bounded replay buffer (MCP 2025-11-25 transports §Resumability).
import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {test} from 'node:test'
import {startHarness, textOf} from '../helpers/gateway.js'

test('an SSE response nobody reads is cut past maxUnsentBytes; others are served; the client resumes', {timeout: 150_000}, async (t) => {
  const h = await startHarness(t, {limits: {maxUnsentBytes: 64 * 1024, replayBufferEvents: 50}})
  const token = await h.token('stalled')
  const init = await fetch(h.url, {
    method: 'POST',
    headers: {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json'},
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 's', version: '1'}}}),
  })
  const session = init.headers.get('mcp-session-id')!
  await init.text()

  // A raw client that asks for a flood of notifications and never reads.
  const body = JSON.stringify({jsonrpc: '2.0', id: 7, method: 'tools/call', params: {name: 'flood', arguments: {count: 100_000}, _meta: {progressToken: 'p'}}})
  const socket = connect(Number(h.url.port), '127.0.0.1')
  t.after(() => socket.destroy())
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  socket.pause()
  socket.write(
    `POST /mcp HTTP/1.1\r\nHost: ${h.url.host}\r\nAuthorization: Bearer ${token}\r\nMcp-Session-Id: ${session}\r\nMCP-Protocol-Version: 2025-11-25\r\n` +
      `Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  // The daemon cuts it rather than buffering 100,000 events (about 12 MB; loopback socket
  // buffers take the first few MB, then the gateway's own queue grows past the limit).
  const isCut = () => h.logger.lines.some((l) => l.message.startsWith('SSE connection cut'))
  for (let i = 0; i < 2000 && !isCut(); i++) await new Promise((resolve) => setTimeout(resolve, 20)) // bounded: 40 s at most
  assert.ok(isCut(), 'the stalled connection was cut')
  const cutAt = Date.now()
  const cut = h.logger.lines.find((l) => l.message.startsWith('SSE connection cut'))!
  assert.equal(cut.fields.client_id, 'stalled')

  // Another client is served throughout.
  const other = await h.connect('bystander')
  assert.equal(textOf(await other.callTool({name: 'echo', arguments: {text: 'still here'}})), 'still here')

  // The child answers in order: once a later call of the same client is answered, the flood and
  // its result have passed through the gateway into the replay buffer, so the resumed stream
  // below replays a finished request instead of racing a live flood (which, read slowly on a
  // busy machine, is past maxUnsentBytes again and is cut too).
  const after = await fetch(h.url, {
    method: 'POST',
    headers: {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json', 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25'},
    body: JSON.stringify({jsonrpc: '2.0', id: 8, method: 'tools/call', params: {name: 'echo', arguments: {text: 'after the flood'}}}),
  })
  assert.equal(after.status, 200)
  assert.match(await after.text(), /after the flood/)
  t.diagnostic(`the flood had passed the gateway ${Date.now() - cutAt} ms after the cut`)

  // The stalled client comes back with Last-Event-ID and gets what the replay buffer holds.
  const resumed = await fetch(h.url, {
    headers: {Authorization: `Bearer ${token}`, Accept: 'text/event-stream', 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25', 'Last-Event-ID': '1-1'},
  })
  assert.equal(resumed.status, 200)
  const reader = resumed.body!.getReader()
  let text = ''
  while (!text.includes('"id":7')) {
    const {value, done} = await reader.read()
    if (done) break
    text += Buffer.from(value).toString('utf8')
  }
  await reader.cancel()
  const events = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as {id?: number})
  assert.ok(events.length <= 50, `at most the replay buffer's 50 events (${events.length})`)
  assert.ok(events.some((e) => e.id === 7), 'including the tool result')
})
