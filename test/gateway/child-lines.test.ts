// The pieces behind items 16 and 17 of issue 11, on their own: which child lines are JSON-RPC
// messages (JSON-RPC 2.0 §4, §5), the fast path's extra checks (src/gateway/response-line.ts),
// and the id of an over-long response recovered from its head or its tail.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import fc from 'fast-check'
import {LineSplitter} from '../../src/gateway/framing.js'
import {classifyChildMessage} from '../../src/gateway/child-message.js'
import {oversizedResponseId} from '../../src/gateway/oversize-line.js'
import {fastResponseId} from '../../src/gateway/response-line.js'

test('only JSON-RPC 2.0 shapes are messages; log lines with an id or a method are noise', () => {
  const noise = [
    {level: 'info', msg: 'handling', id: 1},
    {id: 1, result: {}},
    {method: 'notifications/message', params: {}},
    {jsonrpc: '1.0', id: 1, result: {}},
    {jsonrpc: '2.0', id: 1, result: {}, error: {code: 1, message: 'x'}},
    {jsonrpc: '2.0', id: 1, error: 'x'},
    {jsonrpc: '2.0', id: 1, error: {code: 1.5, message: 'x'}},
    {jsonrpc: '2.0', id: 1},
    {jsonrpc: '2.0', result: {}},
    {jsonrpc: '2.0', id: {}, result: {}},
    {jsonrpc: '2.0', id: 1, method: 'x', result: {}},
    {jsonrpc: '2.0', method: 'x', params: [1]},
    {jsonrpc: '2.0', method: 7},
    [{jsonrpc: '2.0', method: 'x'}],
    'text',
    null,
  ]
  for (const v of noise) assert.equal(classifyChildMessage(v).kind, 'noise', JSON.stringify(v))
  assert.equal(classifyChildMessage({jsonrpc: '2.0', id: 1, result: {}}).kind, 'response')
  assert.equal(classifyChildMessage({jsonrpc: '2.0', id: null, error: {code: -32700, message: 'Parse error'}}).kind, 'response')
  assert.equal(classifyChildMessage({jsonrpc: '2.0', id: 'a', method: 'roots/list'}).kind, 'request')
  assert.equal(classifyChildMessage({jsonrpc: '2.0', method: 'notifications/message', params: {level: 'info'}}).kind, 'notification')
})

test('the fast path takes only `{"result":…,"jsonrpc":"2.0","id":N}` without method or error', () => {
  assert.equal(fastResponseId('{"result":{},"jsonrpc":"2.0","id":7}')?.id, 7)
  for (const line of [
    '{"result":{},"id":7}',
    '{"result":{},"level":"info","id":7}',
    '{"result":{},"jsonrpc":"1.0","id":7}',
    '{"result":{},"x":"\\"jsonrpc\\":\\"2.0","id":7}',
    '{"result":{},"method":"x","jsonrpc":"2.0","id":7}',
    '{"result":{},"error":{},"jsonrpc":"2.0","id":7}',
  ]) {
    assert.equal(fastResponseId(line), undefined, line)
  }
  // Whenever the fast path answers, the full parse agrees: a valid response with that id.
  fc.assert(
    fc.property(fc.jsonValue(), fc.nat(), fc.dictionary(fc.string(), fc.jsonValue(), {maxKeys: 3}), (result, id, extra) => {
      const line = JSON.stringify({result, ...extra, jsonrpc: '2.0', id})
      const fast = fastResponseId(line)
      if (fast === undefined) return
      const parsed = JSON.parse(line) as Record<string, unknown>
      assert.equal(classifyChildMessage(parsed).kind, 'response')
      assert.equal(parsed.id, fast.id)
    }),
  )
})

test('an over-long response gives up its id from either end, and nothing else does', () => {
  const big = JSON.stringify({content: [{type: 'text', text: 'x'.repeat(5000)}]})
  const cut = (line: string) => {
    const got: Array<{tail: string; head: string}> = []
    const s = new LineSplitter({maxLineBytes: 1000, onLine: () => assert.fail('no line'), onOversize: (_b, tail, head) => got.push({tail, head})})
    // In pieces, as a pipe delivers them.
    const data = Buffer.from(line + '\n')
    for (let i = 0; i < data.length; i += 700) s.push(data.subarray(i, i + 700))
    assert.equal(got.length, 1)
    return oversizedResponseId(got[0]!.head, got[0]!.tail)
  }
  assert.equal(cut(`{"result":${big},"jsonrpc":"2.0","id":9}`), 9)
  assert.equal(cut(`{"jsonrpc":"2.0","id":9,"result":${big}}`), 9)
  assert.equal(cut(`{"id":9,"error":{"code":1,"message":"m","data":${big}},"jsonrpc":"2.0"}`), 9)
  assert.equal(cut(`{"jsonrpc":"2.0","result":${big},"id":9}`), 9)
  // Not a JSON-RPC response: no jsonrpc, a method (a request of the child's own), or two ids.
  assert.equal(cut(`{"level":"info","id":9,"data":${big}}`), undefined)
  assert.equal(cut(`{"id":9,"result":${big}}`), undefined)
  assert.equal(cut(`{"jsonrpc":"2.0","id":9,"params":${big},"method":"sampling/createMessage"}`), undefined)
  assert.equal(cut(`{"jsonrpc":"2.0","id":9,"result":${big},"id":10}`), undefined)
  // An id cut by the end of the head is not guessed at.
  assert.equal(oversizedResponseId('{"jsonrpc":"2.0","id":12', 'x"}}'), undefined)
})
