// Request bodies that are too large, or too many at once (issue 11, items 24 and 25), through the
// real daemon with Node's fetch (undici), which writes the whole body before it reads an answer.
// - 413 (RFC 9110 §15.5.14) with `Connection: close` (RFC 9112 §9.6), read by the client: the
//   daemon discards the rest of the body, within bounds, before closing, instead of resetting a
//   connection the client is still writing to (which fetch reports as EPIPE / "fetch failed").
// - The bytes of bodies held at once are bounded, per client and in total; beyond, 503 with
//   Retry-After (RFC 9110 §15.6.4, §10.2.3). The daemon's peak memory is measured (VmHWM).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {Agent} from 'undici'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {fixture} from '../helpers/gateway.js'
import {ACCEPT_BOTH, openSession, toolText} from '../helpers/mcp-raw.js'
import {tempDir} from '../helpers/tmp.js'

const MiB = 1024 * 1024

/** Peak and current resident memory of a process, MB (Linux /proc). */
function memoryOf(pid: number): {peak: number; now: number} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1])
  return {peak: Math.round(kb('VmHWM') / 1024), now: Math.round(kb('VmRSS') / 1024)}
}

test('a too-large body gets its 413 and Connection: close, even from a client that writes it all first', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir, args: ['--', process.execPath, fixture('mcp-test-server.mjs')]})
  const token = await fetchToken(daemon.issuer, agent)

  // 2 MB to the token endpoint (limit 64 KiB), with a Content-Length.
  const oauth = await fetch(`${daemon.issuer}/oauth/token`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: Buffer.alloc(2_000_000, 'a'),
  })
  assert.equal(oauth.status, 413)
  assert.equal(oauth.headers.get('connection'), 'close')
  assert.equal(((await oauth.json()) as {error: string}).error, 'invalid_request')

  // 64 MB to /mcp (limit 4 MiB), with a valid token: the refusal comes after the bearer check.
  const mcpHeaders = {'content-type': 'application/json', accept: ACCEPT_BOTH, authorization: `Bearer ${token}`}
  const big = await fetch(`${daemon.issuer}/mcp`, {method: 'POST', headers: mcpHeaders, body: Buffer.alloc(64 * 1000 * 1000, 'a')})
  assert.equal(big.status, 413)
  assert.equal(big.headers.get('connection'), 'close')
  assert.equal(((await big.json()) as {error: {code: number}}).error.code, -32600)

  // The same without a Content-Length (chunked): refused once the limit is passed.
  const chunks = async function* () {
    for (let i = 0; i < 24; i++) yield Buffer.alloc(MiB, 'a')
  }
  const chunked = await fetch(`${daemon.issuer}/mcp`, {method: 'POST', headers: mcpHeaders, body: ReadableStream.from(chunks()), duplex: 'half'} as RequestInit)
  assert.equal(chunked.status, 413)
  assert.equal(chunked.headers.get('connection'), 'close')
  await chunked.arrayBuffer()

  // The daemon serves on.
  const session = await openSession(`${daemon.issuer}/mcp`, token)
  assert.equal(toolText(await session.call('echo', {text: 'still here'})), 'still here')
})

test('40 concurrent 4 MiB calls: bodies held at once are bounded (503 + Retry-After beyond), and so is the memory', async (t) => {
  const dataDir = tempDir(t)
  const agents = await Promise.all(['a', 'b', 'c', 'd'].map((name) => generateClient(dataDir, ['--name', name])))
  const daemon = await startDaemon(t, {dataDir, args: ['--', process.execPath, fixture('mcp-test-server.mjs')]})
  const sessions = await Promise.all(agents.map(async (a) => openSession(`${daemon.issuer}/mcp`, await fetchToken(daemon.issuer, a))))
  // Each body just under the 4 MiB limit; the echo's answer is small (the padding is not echoed).
  const pad = 'x'.repeat(4 * MiB - 300)
  // Bodies made before the race, so the test's own serializing does not pace it.
  const bodies = Array.from({length: 40}, (_, i) => Buffer.from(JSON.stringify({jsonrpc: '2.0', id: 1000 + i, method: 'tools/call', params: {name: 'echo', arguments: {text: `n${i}`, pad}}})))
  // Warm up: one call each, so the baseline includes what any call costs.
  for (const s of sessions) assert.equal(toolText(await s.call('echo', {text: 'warm'})), 'warm')
  const pid = daemon.child.pid!
  const before = memoryOf(pid)
  // Fresh connections for the race (none reused from the warm-up, closing as idle meanwhile).
  const race = new Agent({keepAliveTimeout: 60_000})
  t.after(() => race.close())
  const t0 = Date.now()
  const results = await Promise.all(
    bodies.map(async (body, i) => {
      const s = sessions[i % sessions.length]!
      const res = await fetch(`${daemon.issuer}/mcp`, {
        method: 'POST',
        headers: {'content-type': 'application/json', accept: ACCEPT_BOTH, ...s.headers},
        body,
        signal: AbortSignal.timeout(120_000),
        dispatcher: race,
      } as unknown as RequestInit)
      return {status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text()}
    }).map((p) => p.catch((e: Error) => ({status: 0, retryAfter: null, text: `${e.message}: ${String((e.cause as Error | undefined)?.message ?? e.cause)} at ${Date.now() - t0} ms`}))),
  )
  const after = memoryOf(pid)
  const ok = results.filter((r) => r.status === 200)
  const busy = results.filter((r) => r.status === 503)
  t.diagnostic(`peak RSS ${before.peak} MB before, ${after.peak} MB after; ${ok.length} served, ${busy.length} refused with 503`)
  assert.equal(ok.length + busy.length, 40, `only 200 and 503: ${results.map((r) => (r.status === 0 ? r.text : r.status)).join(',')}`)
  assert.ok(busy.length > 0, 'the bound was reached')
  assert.ok(ok.length >= 3, 'bodies within the bound are served')
  for (const r of busy) {
    assert.ok(Number(r.retryAfter) >= 1, 'Retry-After on every 503')
    assert.equal((JSON.parse(r.text) as {error: {code: number}}).error.code, -32603)
  }
  // Before the bound: 68 MB to about 1 GB. 32 MiB of bodies held at once cost a few times that.
  assert.ok(after.peak - before.peak < 300, `peak grew by ${after.peak - before.peak} MB`)
  // Nothing is left held: every client is served again.
  for (const s of sessions) assert.equal(toolText(await s.call('echo', {text: 'again', pad})), 'again')
})
