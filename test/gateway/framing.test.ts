import assert from 'node:assert/strict'
import {test} from 'node:test'
import fc from 'fast-check'
import {LineSplitter} from '../../src/gateway/framing.js'
import {replaceTrailingId, startsAsResult, trailingId} from '../../src/gateway/response-line.js'

function split(chunks: Buffer[], maxLineBytes: number) {
  const lines: string[] = []
  const oversize: Array<{bytes: number; tail: string}> = []
  const s = new LineSplitter({maxLineBytes, onLine: (l) => lines.push(l), onOversize: (bytes, tail) => oversize.push({bytes, tail})})
  for (const c of chunks) s.push(c)
  return {lines, oversize}
}

test('lines survive any chunking, multi-byte characters included; CRLF and empty lines are handled', () => {
  fc.assert(
    fc.property(fc.array(fc.string({unit: 'grapheme', maxLength: 40}).map((s) => s.replace(/[\r\n]/g, '')), {maxLength: 20}), fc.array(fc.nat(50)), (lines, cuts) => {
      const data = Buffer.from(lines.map((l) => l + '\n').join(''))
      const chunks: Buffer[] = []
      let at = 0
      for (const cut of cuts) {
        const end = Math.min(data.length, at + cut)
        chunks.push(data.subarray(at, end))
        at = end
      }
      chunks.push(data.subarray(at))
      assert.deepEqual(split(chunks, 1000).lines, lines.filter((l) => l !== ''))
    }),
  )
  assert.deepEqual(split([Buffer.from('a\r\nb\n\n')], 10).lines, ['a', 'b'])
})

test('a line over the limit is dropped whole, in one chunk or many, and reported with its tail', () => {
  const long = 'x'.repeat(100) + ',"id":42}'
  for (const chunks of [[Buffer.from(`ok\n${long}\nnext\n`)], [Buffer.from('ok\nxxxxx'), Buffer.from(long.slice(5)), Buffer.from('\nnext\n')]]) {
    const {lines, oversize} = split(chunks, 50)
    assert.deepEqual(lines, ['ok', 'next'])
    assert.equal(oversize.length, 1)
    assert.equal(oversize[0]!.bytes, long.length)
    assert.ok(oversize[0]!.tail.endsWith(',"id":42}'))
  }
})

test('the trailing-id shortcut finds only a top-level id at the very end', () => {
  const line = '{"result":{"content":[{"type":"text","text":"a\\"id\\":3}"}]},"jsonrpc":"2.0","id":17}'
  const t = trailingId(line)!
  assert.equal(t.id, 17)
  assert.ok(startsAsResult(line))
  assert.deepEqual(JSON.parse(replaceTrailingId(line, t.at, '"client-1"')), {...JSON.parse(line), id: 'client-1'})
  for (const bad of ['{"result":{"id":17}}', '{"result":1,"id":"17"}', '{"result":1,"xid":17}', '{"result":1,"id": 17}', '{"result":1,"id":017}']) {
    assert.equal(trailingId(bad), undefined, bad)
  }
  assert.equal(startsAsResult('{"jsonrpc":"2.0","id":1,"result":{}}'), false)
})
