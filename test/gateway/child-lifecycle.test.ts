/**
 * Child lifecycle (issue 11, items 18 and 19), with real child processes that misbehave
 * (test/fixtures/misbehaving-server.mjs: they ignore SIGTERM and outlive their stdin):
 * - a child whose initialize fails (an error, or no answer) is stopped at once, and no failed
 *   attempt leaves a live process (MCP 2025-11-25 lifecycle §Initialization: a server that does
 *   not initialize cannot be used; DESIGN.md principle 8: the child is always reaped);
 * - SIGTERM ends the real daemon and every child within the documented grace (README: "Stopping"),
 *   whatever state the children are in: in use, initializing, failed, or with a grandchild;
 * - in `session` isolation the idle sweep never stops a child whose session is still starting.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {startDaemon} from '../helpers/daemon.js'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {fixture, isAlive, startHarness} from '../helpers/gateway.ts'
import {mcpPost, openSession, PROTOCOL_VERSION} from '../helpers/mcp-raw.js'
import {tempDir} from '../helpers/tmp.js'

const misbehaving = (state: string, modes: string) => ({command: process.execPath, args: [fixture('misbehaving-server.mjs'), '--modes', modes, '--state', state]})

/** Pids the fixture's children (and grandchildren) recorded, with their mode. */
function recorded(state: string): Map<number, string> {
  const out = new Map<number, string>()
  for (const f of readdirSync(state)) if (f.startsWith('pid-')) out.set(Number(f.slice(4)), readFileSync(join(state, f), 'utf8'))
  return out
}

/** Resolves once none of `pids` is alive; rejects after `ms` (a bound, not a measurement). */
async function allGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) throw new Error(`still alive after ${ms} ms: ${pids.filter(isAlive).join(', ')}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Resolves once `check` holds; rejects after `ms`. */
async function within(ms: number, what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const initialize = {jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: {name: 'raw', version: '1'}}}

for (const modes of ['init-error', 'init-hang']) {
  test(`a child that fails to initialize (${modes}) and stays alive is stopped at once; no attempt leaves a live child`, async (t) => {
    const state = tempDir(t, 'gatehouse-mis-')
    const h = await startHarness(t, {command: misbehaving(state, modes), limits: {killGraceMs: 200, initializeTimeoutMs: 300, sweepIntervalMs: 50}})
    const authorization = `Bearer ${await h.token('alice')}`
    for (let i = 0; i < 4; i++) {
      const res = await mcpPost(h.url.href, initialize, {authorization})
      const body = (await res.json()) as {error?: {message: string}}
      assert.equal(res.status, 200)
      assert.match(body.error?.message ?? '', /MCP server unavailable/)
    }
    // The gateway's own record of what it started (a child killed early may not have recorded itself).
    const pids = h.logger.lines.filter((l) => l.message === 'child started').map((l) => Number(l.fields.pid))
    assert.equal(pids.length, 4, 'one child per attempt')
    for (const pid of recorded(state).keys()) assert.ok(pids.includes(pid))
    // Each ignores SIGTERM: only the gateway's SIGKILL after the 200 ms grace ends it. Without
    // the fix they all live on (until the test's own cleanup).
    await allGone(pids, 3000)
    // Dead is not yet reaped: the gateway lets a child go once Node has reaped it ('exit').
    await within(3000, 'the gateway has let every child go', () => h.gateway.childPids().length === 0)
    assert.ok(h.logger.lines.some((l) => l.message === 'stopping a child that failed to initialize'))
  })
}

test('session isolation: 30 concurrent initializes all succeed; the idle sweep never stops a child whose session is still starting', async (t) => {
  // The bundled server (command undefined) has an asynchronous prepare step before its spawn:
  // the window in which the sweep used to take the new child for an idle one. Sweep every ms.
  const h = await startHarness(t, {command: undefined, isolation: 'session', limits: {sweepIntervalMs: 1, maxSessions: 100, maxChildren: 40, maxSessionsPerClient: 40}})
  const token = await h.token('alice')
  const results = await Promise.allSettled(Array.from({length: 30}, () => openSession(h.url.href, token, 120_000)))
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))
  assert.deepEqual(failed, [])
  assert.equal(h.gateway.stats().sessions, 30)
  assert.equal(h.gateway.stats().children, 30)
})

test('SIGTERM ends the daemon and every child within the documented grace, whatever their state', async (t) => {
  const dataDir = tempDir(t, 'gatehouse-term-')
  const state = tempDir(t, 'gatehouse-mis-')
  // Children, in start order: one in use, one that never answers initialize, one whose
  // initialize fails, and one with a grandchild holding its stdout. All ignore SIGTERM.
  const cmd = misbehaving(state, 'ok,init-hang,init-error,grandchild')
  const daemon = await startDaemon(t, {dataDir, args: ['--', cmd.command, ...cmd.args]})
  const clients = await Promise.all([1, 2, 3, 4].map((i) => generateClient(dataDir, ['--name', `c${i}`])))
  const tokens = await Promise.all(clients.map((c) => fetchToken(daemon.issuer, c)))
  const mcp = `${daemon.issuer}/mcp`

  const inUse = await openSession(mcp, tokens[0]!)
  await within(5000, 'the first child', () => recorded(state).size === 1)
  const hanging = mcpPost(mcp, initialize, {authorization: `Bearer ${tokens[1]}`}, 60_000).then(
    (r) => r.status,
    () => 'cut',
  )
  await within(5000, 'the hanging child', () => recorded(state).size === 2)
  const failedRes = await mcpPost(mcp, initialize, {authorization: `Bearer ${tokens[2]}`})
  assert.match(await failedRes.text(), /cannot start today/)
  const withGrandchild = await openSession(mcp, tokens[3]!)
  await within(5000, 'the grandchild', () => recorded(state).size === 5)
  assert.ok(inUse.headers['mcp-session-id'] && withGrandchild.headers['mcp-session-id'])
  const pids = [...recorded(state).keys()]
  assert.deepEqual([...recorded(state).values()].sort(), ['grandchild', 'grandchild-of-' + [...recorded(state)].find(([, m]) => m === 'grandchild')![0], 'init-error', 'init-hang', 'ok'].sort())

  const started = Date.now()
  const code = await daemon.stop('SIGTERM')
  const elapsed = Date.now() - started
  t.diagnostic(`the daemon stopped ${elapsed} ms after SIGTERM`)
  // README "Stopping": children get SIGTERM, then SIGKILL after 3 s; HTTP connections get 2 s.
  // The daemon is gone within 7 s, its children with it.
  assert.ok(elapsed < 7000, `the daemon took ${elapsed} ms to stop`)
  assert.equal(code, 0, daemon.stderr())
  await allGone(pids, 1000)
  // The initialize that was waiting got its answer (an error) or its connection was cut.
  assert.ok([200, 'cut'].includes(await hanging))
})
