/**
 * Isolation modes: which sessions share a child, what the child learns of its client, and that
 * concurrent sessions (of one client and of different clients) never see each other's messages.
 */
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import type {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {CreateMessageRequestSchema} from '@modelcontextprotocol/sdk/types.js'
import {memoryFileName} from '../../src/gateway/default-server.js'
import {startHarness, textOf, type Harness} from '../helpers/gateway.ts'

async function sampler(h: Harness, clientId: string, tag: string): Promise<Client> {
  const client = await h.connect(clientId, {capabilities: {sampling: {}}})
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: 'assistant',
    model: 'm',
    content: {type: 'text', text: `${tag} answers ${(req.params.messages[0]!.content as {text: string}).text}`},
  }))
  return client
}

const whoami = async (c: Client) =>
  JSON.parse(textOf(await c.callTool({name: 'whoami', arguments: {}}))) as {pid: number; env: Record<string, string>}

for (const isolation of ['client', 'session', 'shared'] as const) {
  test(`isolation ${isolation}: children, identities, and no crossed messages under concurrency`, async (t) => {
    const h = await startHarness(t, {isolation})
    const a1 = await sampler(h, 'alice', 'a1')
    const a2 = await sampler(h, 'alice', 'a2')
    const b1 = await sampler(h, 'bob', 'b1')
    const [wa1, wa2, wb1] = await Promise.all([whoami(a1), whoami(a2), whoami(b1)])
    if (isolation === 'client') {
      assert.equal(wa1.pid, wa2.pid)
      assert.notEqual(wa1.pid, wb1.pid)
    } else if (isolation === 'session') {
      assert.equal(new Set([wa1.pid, wa2.pid, wb1.pid]).size, 3)
    } else {
      assert.equal(new Set([wa1.pid, wa2.pid, wb1.pid]).size, 1)
      assert.ok(h.logger.lines.some((l) => l.level === 'warn' && l.message.includes('shared')))
    }
    if (isolation === 'shared') {
      assert.equal(wa1.env.GATEHOUSE_CLIENT_ID, undefined)
    } else {
      assert.equal(wa1.env.GATEHOUSE_CLIENT_ID, 'alice')
      assert.equal(wb1.env.GATEHOUSE_CLIENT_ID, 'bob')
    }
    assert.equal(h.gateway.stats().children, isolation === 'client' ? 2 : isolation === 'session' ? 3 : 1)

    // Many concurrent calls per session: echoes, progress, and sampling round trips. Each
    // session must get exactly its own answers and its own progress.
    const run = async (c: Client, tag: string) => {
      const progress: string[] = []
      const calls: Array<Promise<void>> = []
      for (let i = 0; i < 10; i++) {
        calls.push(
          c.callTool({name: 'echo', arguments: {text: `${tag}-${i}`}}).then((r) => assert.equal(textOf(r), `${tag}-${i}`)),
        )
        calls.push(
          c
            .callTool({name: 'slow', arguments: {steps: 2}}, undefined, {onprogress: (p) => progress.push(`${tag}:${p.message}`)})
            .then((r) => assert.equal(textOf(r), 'done 2')),
        )
        calls.push(
          c
            .callTool({name: 'sample', arguments: {prompt: `${tag}-q${i}`}}, undefined, {onprogress: () => {}})
            .then((r) => assert.equal(textOf(r), `sampled: ${tag} answers ${tag}-q${i}`)),
        )
      }
      await Promise.all(calls)
      assert.equal(progress.length, 20)
      assert.ok(progress.every((p) => p.startsWith(`${tag}:`)))
    }
    await Promise.all([run(a1, 'a1'), run(a2, 'a2'), run(b1, 'b1')])
  })
}

test('client isolation: a server request that cannot be attributed to one session is refused, not guessed', async (t) => {
  const h = await startHarness(t)
  const a1 = await sampler(h, 'alice', 'a1')
  const a2 = await sampler(h, 'alice', 'a2')
  // Both sessions have a call in flight, and the sampling requests carry no progress token.
  let release!: () => void
  const hold = new Promise<void>((resolve) => (release = resolve))
  const hang = a2.callTool({name: 'hang', arguments: {}}, undefined, {onprogress: () => release()})
  await hold
  const result = await a1.callTool({name: 'sample', arguments: {prompt: 'who?'}})
  assert.equal(result.isError, true)
  assert.match(textOf(result), /cannot tell which session/)
  void hang.catch(() => {})
})

test('the default server keeps one memory file per client', async (t) => {
  const h = await startHarness(t, {command: undefined})
  const alice = await h.connect('alice')
  const bob = await h.connect('bob')
  await alice.callTool({name: 'create_entities', arguments: {entities: [{name: 'AliceSecret', entityType: 'note', observations: ['mine']}]}})
  const bobGraph = textOf(await bob.callTool({name: 'read_graph', arguments: {}}))
  assert.ok(!bobGraph.includes('AliceSecret'))
  assert.ok(textOf(await alice.callTool({name: 'read_graph', arguments: {}})).includes('AliceSecret'))
  assert.ok(existsSync(join(h.dataDir, 'memory', 'alice.jsonl')))
  assert.equal(memoryFileName('../../etc/passwd').startsWith('client-'), true)
  assert.notEqual(memoryFileName('a/b'), memoryFileName('a:b'))
})
