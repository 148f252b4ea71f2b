/**
 * Attribution is never a guess (issue 11, item 14). A message from the child that carries no
 * progress token of a live request is delivered only where that is certain (a child serving a
 * single session of one client); otherwise it goes to no one and is logged, and a
 * server-to-client request gets a JSON-RPC error. "The only session with requests in flight"
 * is not evidence: in `shared` isolation it can be another client's (MCP 2025-11-25
 * security_best_practices §Session Hijacking: one client's data must not reach another;
 * utilities-progress: the progress token is what ties a message to its request).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {CreateMessageRequestSchema, LoggingMessageNotificationSchema} from '@modelcontextprotocol/sdk/types.js'
import {fixture, startHarness, textOf, type Harness} from '../helpers/gateway.ts'
import {mcpPost, openSession} from '../helpers/mcp-raw.js'

const misbehaving = {command: process.execPath, args: [fixture('misbehaving-server.mjs'), '--modes', 'ok']}

async function within(ms: number, what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Reads an SSE body into `into` as it comes. */
function collect(body: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  return (async () => {
    try {
      for (;;) {
        const {done, value} = await reader.read()
        if (done) return
        into.push(decoder.decode(value))
      }
    } catch {
      // cut
    }
  })()
}

const dropped = (h: Harness) => h.logger.lines.some((l) => l.message.startsWith('notification maps to no single session'))

test('shared isolation: a log message tied to no request is delivered to no one, not to the other client whose request is in flight', async (t) => {
  const h = await startHarness(t, {isolation: 'shared', command: misbehaving})
  const alice = await openSession(h.url.href, await h.token('alice'))
  const mallory = await openSession(h.url.href, await h.token('mallory'))
  // Alice's call is in flight on the shared child (its progress turned the POST into a stream).
  const hang = await mcpPost(h.url.href, {jsonrpc: '2.0', id: 7, method: 'tools/call', params: {name: 'hang', arguments: {}, _meta: {progressToken: 'a'}}}, alice.headers)
  assert.match(hang.headers.get('content-type') ?? '', /text\/event-stream/)
  const aliceSaw: string[] = []
  const aliceDone = collect(hang.body!, aliceSaw)
  const aliceGet = await fetch(h.url, {headers: {...alice.headers, accept: 'text/event-stream'}})
  const aliceGetSaw: string[] = []
  void collect(aliceGet.body!, aliceGetSaw)
  // Mallory's call makes the child log something afterwards, tied to no request.
  assert.equal((await mallory.call('log_later', {})).content !== undefined, true)
  await within(5000, 'the unattributed message to be dropped and logged', () => dropped(h))
  // Alice cancels; her POST stream ends, and nothing of the log reached any of her streams.
  await mcpPost(h.url.href, {jsonrpc: '2.0', method: 'notifications/cancelled', params: {requestId: 7}}, alice.headers)
  await aliceDone
  assert.ok(!aliceSaw.join('').includes('secret of whoever asked'), aliceSaw.join(''))
  assert.ok(!aliceGetSaw.join('').includes('secret of whoever asked'))
})

test('shared isolation: a sampling request without a progress token is refused, not routed to the only session with a call in flight; with one it is routed', async (t) => {
  const h = await startHarness(t, {isolation: 'shared'})
  const alice = await h.connect('alice', {capabilities: {sampling: {}}})
  let asked = 0
  alice.setRequestHandler(CreateMessageRequestSchema, async () => {
    asked++
    return {role: 'assistant', model: 'm', content: {type: 'text', text: 'from alice'}}
  })
  const guessed = await alice.callTool({name: 'sample', arguments: {prompt: 'x'}})
  assert.equal(guessed.isError, true)
  assert.match(textOf(guessed), /cannot tell which session/)
  assert.equal(asked, 0)
  const tied = await alice.callTool({name: 'sample', arguments: {prompt: 'x'}}, undefined, {onprogress: () => {}})
  assert.equal(textOf(tied), 'sampled: from alice')
})

test('session isolation: the one session of a child gets its unattributed messages (attribution is certain there)', async (t) => {
  const h = await startHarness(t, {isolation: 'session', command: misbehaving})
  const client = await h.connect('alice')
  const logs: string[] = []
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)))
  await client.callTool({name: 'log_later', arguments: {}})
  await within(5000, 'the log message', () => logs.length > 0)
  assert.deepEqual(logs, ['secret of whoever asked'])
  assert.ok(!dropped(h))
})
