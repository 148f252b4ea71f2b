/**
 * Keep-alive comments on long-lived SSE streams (issue 13): a 2026 `subscriptions/listen` stream
 * and a 2025 session's GET stream that have nothing to carry still get an SSE comment line at a
 * fixed interval, so that a proxy's idle read timeout (nginx proxy_read_timeout, 60 s by
 * default) does not cut a listener. A comment (a line starting with ':') is ignored by every
 * SSE client (HTML Living Standard §9.2.6), so the official v2 client's listen is unaffected.
 * The timer lives as long as its connection: once the client goes, it is cleared.
 *
 * Raw HTTP on loopback, so the bytes on the wire are what is checked.
 */
import assert from 'node:assert/strict'
import {request, type IncomingMessage} from 'node:http'
import {test} from 'node:test'
import {connectV2} from '../helpers/mcp-v2.js'
import {openSession} from '../helpers/mcp-raw.js'
import {startHarness, until} from '../helpers/gateway.js'

const V = '2026-07-28'
const KEEPALIVE = ': keep-alive\n\n'

/** Opens a raw streaming request; `text()` is everything received so far. */
function openStream(url: URL, method: 'GET' | 'POST', headers: Record<string, string>, body?: string) {
  let received = ''
  let response: IncomingMessage | undefined
  const req = request(url, {method, headers, agent: false})
  const opened = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      response = res
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (received += chunk))
      res.on('error', () => {})
      resolve(res)
    })
    req.on('error', reject)
  })
  req.end(body)
  return {
    opened,
    text: () => received,
    close: () => {
      response?.destroy()
      req.destroy()
    },
  }
}

/** A raw 2026 subscriptions/listen POST opting into tools/list_changed. */
function openListen(url: URL, token: string) {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 7,
    method: 'subscriptions/listen',
    params: {
      notifications: {toolsListChanged: true},
      _meta: {'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {}},
    },
  })
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': V,
    'mcp-method': 'subscriptions/listen',
  }
  return openStream(url, 'POST', headers, body)
}

const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

test('an idle 2026 subscriptions/listen stream gets keep-alive comments; the timer ends with the stream', async (t) => {
  const h = await startHarness(t, {limits: {sseKeepAliveMs: 50}})
  const token = await h.token('alice')
  const before = activeTimers()
  const stream = openListen(h.url, token)
  const res = await stream.opened
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/event-stream/)
  // First the acknowledgment (basic-patterns-subscriptions §Acknowledgment), then, with nothing
  // to say, comment lines only: no event, no data.
  await until(() => stream.text().split(KEEPALIVE).length > 3, 'keep-alive comments on the idle listen stream')
  const [ack, ...rest] = stream.text().split('\n\n').filter((f) => f !== '')
  assert.match(ack!, /^data: .*notifications\/subscriptions\/acknowledged/)
  assert.ok(rest.every((f) => f === ': keep-alive'), `only comments after the acknowledgment: ${JSON.stringify(rest)}`)
  assert.ok(activeTimers() > before, 'the stream holds its keep-alive timer')
  stream.close()
  // The listener ends with its connection, and its timer with it (no leaked timer keeps the daemon up).
  await until(() => activeTimers() <= before, 'the keep-alive timer is cleared when the client goes')
})

test('an idle 2025 GET stream gets keep-alive comments; the timer ends with the session', async (t) => {
  const h = await startHarness(t, {limits: {sseKeepAliveMs: 50}})
  const session = await openSession(h.resource, await h.token('alice'))
  const before = activeTimers()
  const stream = openStream(h.url, 'GET', {...session.headers, accept: 'text/event-stream'})
  const res = await stream.opened
  assert.equal(res.statusCode, 200)
  await until(() => stream.text().split(KEEPALIVE).length > 3, 'keep-alive comments on the idle GET stream')
  // Comments only: no event ids (nothing enters the replay buffer), no data.
  assert.equal(stream.text().replaceAll(KEEPALIVE, ''), '')
  assert.ok(activeTimers() > before, 'the stream holds its keep-alive timer')
  // DELETE ends the session and its streams (transports §Session Management, 5): the timer goes too.
  await session.close()
  await until(() => activeTimers() <= before, 'the keep-alive timer is cleared when the session ends')
  stream.close()
})

test('keep-alive comments do not disturb the official v2 client listening', async (t) => {
  const h = await startHarness(t, {limits: {sseKeepAliveMs: 20}})
  const token = await h.token('alice')
  const client = await connectV2(t, h.url, token)
  let changed = 0
  client.setNotificationHandler('notifications/tools/list_changed', () => void changed++)
  const sub = await client.listen({toolsListChanged: true})
  assert.equal(sub.honoredFilter.toolsListChanged, true)
  // A raw listener opened after the client's counts the comments: once it has seen several, the
  // client's stream (open longer, same interval) has carried at least as many through its parser.
  const raw = openListen(h.url, token)
  await raw.opened
  await until(() => raw.text().split(KEEPALIVE).length > 5, 'several keep-alive intervals have passed')
  raw.close()
  await client.callTool({name: 'add_tool', arguments: {name: 'fresh_tool'}})
  await until(() => changed > 0, 'the v2 listener gets tools/list_changed after idle keep-alives')
  assert.equal((await client.listTools()).tools.some((tool) => tool.name === 'fresh_tool'), true)
  await sub.close()
})
