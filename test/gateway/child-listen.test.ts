/**
 * The gateway's own `subscriptions/listen` on a 2026-07-28 child follows its callers'
 * subscriptions (MCP 2026-07-28 basic-patterns-subscriptions; transports-stdio §Receiving
 * Messages, 3: such a child sends change notifications only on a listen). When a 2026 listener
 * that held a resource subscription goes, the child's listen is narrowed: a new one without that
 * URI is opened and the old one cancelled, so the child stops watching what nobody asked for.
 * A raw child (test/fixtures/modern-listen-server.mjs) reports the listens it receives on stderr.
 */
import assert from 'node:assert/strict'
import {request} from 'node:http'
import {test} from 'node:test'
import {fixture, startHarness, until, type Harness} from '../helpers/gateway.js'

const V = '2026-07-28'

/** A raw 2026 subscriptions/listen POST for `uris`; resolves once the stream is open. */
async function listen(h: Harness, token: string, id: number, uris: string[]): Promise<() => void> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'subscriptions/listen',
    params: {notifications: {resourceSubscriptions: uris}, _meta: {'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {}}},
  })
  const headers = {authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V, 'mcp-method': 'subscriptions/listen'}
  const req = request(h.url, {method: 'POST', headers, agent: false})
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    req.on('response', resolve).on('error', reject)
    req.end(body)
  })
  assert.equal(res.statusCode, 200)
  res.on('data', () => {}).on('error', () => {})
  return () => {
    res.destroy()
    req.destroy()
  }
}

/** The listens the child received, in order: the notifications filter of each. */
const childListens = (h: Harness): Array<{resourceSubscriptions?: string[]}> =>
  (h.gateway.snapshot().children[0]?.stderr ?? []).flatMap((l) => (l.startsWith('listen ') ? [JSON.parse(l.split(' ').slice(2).join(' ')) as {resourceSubscriptions?: string[]}] : []))

test('a 2026 listener that goes narrows the gateway\'s listen on a 2026-07-28 child', async (t) => {
  const h = await startHarness(t, {command: {command: process.execPath, args: [fixture('modern-listen-server.mjs')]}})
  const token = await h.token('alice')
  const closeA = await listen(h, token, 1, ['file:///a.txt'])
  const closeB = await listen(h, token, 2, ['file:///b.txt'])
  t.after(closeB)
  await until(() => childListens(h).some((f) => f.resourceSubscriptions?.length === 2), 'the child is asked for both URIs')
  closeA()
  // The listener's subscription was its alone: the child gets a listen for b only.
  await until(() => {
    const last = childListens(h).at(-1)
    return last !== undefined && JSON.stringify(last.resourceSubscriptions) === JSON.stringify(['file:///b.txt'])
  }, 'the child\'s listen narrowed to the URI still held')
  await until(() => (h.gateway.snapshot().children[0]?.stderr ?? []).some((l) => l.startsWith('cancelled ')), 'the wider listen is cancelled')
})
