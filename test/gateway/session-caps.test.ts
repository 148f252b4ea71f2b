/**
 * Session and child caps (issue 11, item 13): one client cannot take every session, and in
 * `session` isolation the number of child processes is bounded.
 *
 * Statuses: over the client's own share, 429 Too Many Requests (RFC 6585 §4: this client sent
 * too many; other clients are unaffected); over a cap of the whole gateway (sessions or
 * processes), 503 Service Unavailable (RFC 9110 §15.6.4: overloaded for now). Both with
 * Retry-After (RFC 9110 §10.2.3). Never 400/404/405, on which MCP clients fall back to the old
 * HTTP+SSE transport (MCP 2025-11-25 transports §Backwards Compatibility).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {startDaemon} from '../helpers/daemon.js'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {startHarness, type Harness} from '../helpers/gateway.ts'
import {mcpPost, openSession, PROTOCOL_VERSION, type RawSession} from '../helpers/mcp-raw.js'
import {tempDir} from '../helpers/tmp.js'

const initialize = {jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: {name: 'raw', version: '1'}}}

async function tryInit(url: string, token: string): Promise<{status: number; retryAfter: string | null; session: string | null}> {
  const res = await mcpPost(url, initialize, {authorization: `Bearer ${token}`})
  await res.arrayBuffer()
  return {status: res.status, retryAfter: res.headers.get('retry-after'), session: res.headers.get('mcp-session-id')}
}

const statuses = (list: Array<{status: number}>) => {
  const out: Record<number, number> = {}
  for (const r of list) out[r.status] = (out[r.status] ?? 0) + 1
  return out
}

test('one client cannot take every session: beyond its share (a quarter of --max-sessions) it gets 429 with Retry-After, others still get theirs', async (t) => {
  const h = await startHarness(t, {limits: {maxSessions: 20}})
  const hog = await h.token('hog')
  // 30 concurrent initializes: places are reserved before anything is awaited, so the cap holds exactly.
  const tries = await Promise.all(Array.from({length: 30}, () => tryInit(h.url.href, hog)))
  assert.deepEqual(statuses(tries), {200: 5, 429: 25})
  assert.ok(tries.filter((r) => r.status === 429).every((r) => r.retryAfter !== null && Number(r.retryAfter) > 0))
  // Another client is not locked out.
  const other = await h.token('other')
  for (let i = 0; i < 5; i++) assert.equal((await tryInit(h.url.href, other)).status, 200)
  assert.equal((await tryInit(h.url.href, other)).status, 429)
  assert.equal(h.gateway.stats().sessions, 10)
  // Ending a session frees its place (transports §Session Management, 5).
  const one = tries.find((r) => r.status === 200)!
  const del = await fetch(h.url, {method: 'DELETE', headers: {authorization: `Bearer ${hog}`, 'mcp-session-id': one.session!}})
  assert.equal(del.status, 200)
  assert.equal((await tryInit(h.url.href, hog)).status, 200)
})

test('the official SDK client sees the refusal as an HTTP 429 error on connect', async (t) => {
  const h = await startHarness(t, {limits: {maxSessions: 4, maxSessionsPerClient: 1}})
  await h.connect('alice')
  const token = await h.token('alice')
  const client = new Client({name: 'second', version: '1'})
  const transport = new StreamableHTTPClientTransport(h.url, {requestInit: {headers: {authorization: `Bearer ${token}`}}})
  await assert.rejects(client.connect(transport), (error: Error & {code?: number}) => error.code === 429)
  await client.close()
})

test('the global cap is still a 503 with Retry-After, and a client\'s own setting wins over the default share', async (t) => {
  const h: Harness = await startHarness(t, {limits: {maxSessions: 8}, sessionLimit: (p) => (p.clientId === 'vip' ? 6 : null)})
  const vip = await h.token('vip')
  const vipTries = await Promise.all(Array.from({length: 8}, () => tryInit(h.url.href, vip)))
  assert.deepEqual(statuses(vipTries), {200: 6, 429: 2})
  const a = await h.token('a')
  assert.equal((await tryInit(h.url.href, a)).status, 200)
  assert.equal((await tryInit(h.url.href, a)).status, 200)
  const full = await tryInit(h.url.href, a)
  assert.equal(full.status, 503)
  assert.ok(full.retryAfter !== null)
})

test('session isolation: child processes are capped (503 with Retry-After); an ended session\'s child makes room', async (t) => {
  const h = await startHarness(t, {isolation: 'session', limits: {maxSessions: 50, maxChildren: 3, maxSessionsPerClient: 50, sweepIntervalMs: 3_600_000}})
  const tokens = await Promise.all(['a', 'b', 'c', 'd'].map((c) => h.token(c)))
  const open: RawSession[] = []
  for (const token of tokens.slice(0, 3)) open.push(await openSession(h.url.href, token))
  assert.equal(h.gateway.stats().children, 3)
  const refused = await tryInit(h.url.href, tokens[3]!)
  assert.equal(refused.status, 503)
  assert.ok(refused.retryAfter !== null)
  assert.equal(h.gateway.stats().children, 3)
  // The first session ends: its child is idle, and is stopped to make room for the new one.
  await open[0]!.close()
  assert.equal((await tryInit(h.url.href, tokens[3]!)).status, 200)
  assert.ok(h.gateway.childPids().length <= 4)
})

test('in session isolation the default share follows --max-children: one client cannot take every process', async (t) => {
  const h = await startHarness(t, {isolation: 'session', limits: {maxSessions: 100, maxChildren: 8, sweepIntervalMs: 3_600_000}})
  const hog = await h.token('hog')
  const tries = await Promise.all(Array.from({length: 6}, () => tryInit(h.url.href, hog)))
  assert.deepEqual(statuses(tries), {200: 2, 429: 4})
  assert.equal((await tryInit(h.url.href, await h.token('other'))).status, 200)
})

test('real daemon: oauth-generate-client --max-sessions and oauth-server --max-sessions-per-client', async (t) => {
  const dataDir = tempDir(t, 'gatehouse-caps-')
  const daemon = await startDaemon(t, {dataDir, args: ['--max-sessions', '20', '--max-sessions-per-client', '3']})
  const small = await generateClient(dataDir, ['--name', 'small', '--max-sessions', '1'])
  const plain = await generateClient(dataDir, ['--name', 'plain'])
  const mcp = `${daemon.issuer}/mcp`
  const smallToken = await fetchToken(daemon.issuer, small)
  assert.equal((await tryInit(mcp, smallToken)).status, 200)
  assert.equal((await tryInit(mcp, smallToken)).status, 429)
  const plainToken = await fetchToken(daemon.issuer, plain)
  assert.deepEqual(statuses(await Promise.all(Array.from({length: 5}, () => tryInit(mcp, plainToken)))), {200: 3, 429: 2})
  const bad = await generateClient(dataDir, ['--name', 'bad', '--max-sessions', '0']).catch((error: Error) => error)
  assert.ok(bad instanceof Error && /session cap/.test(bad.message))
})

test('log lines name each session by its own random part, not by the node id every session id starts with', async (t) => {
  // On several nodes a session id is `<node id>.<random>` (README, several daemons); its first
  // eight characters were the node's, so every "session started" line looked the same.
  const h = await startHarness(t, {nodeId: 'nodeAAAA'})
  const token = await h.token('alice')
  const ids = [(await tryInit(h.url.href, token)).session, (await tryInit(h.url.href, token)).session]
  assert.ok(ids.every((id) => id?.startsWith('nodeAAAA.')), String(ids))
  const tags = h.logger.lines.filter((l) => l.message === 'session started').map((l) => String(l.fields.session))
  assert.equal(tags.length, 2)
  assert.notEqual(tags[0], tags[1])
  for (const [i, tag] of tags.entries()) assert.ok(ids[i]!.split('.')[1]!.startsWith(tag) && tag.length === 8, `${tag} is part of ${ids[i]}`)
})
