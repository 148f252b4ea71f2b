/**
 * A faulty child never takes the daemon down: crash mid-call, hang, garbage, oversized lines,
 * floods, a server that exits at start, and a command that does not exist. Other sessions
 * keep working, and no child process outlives the gateway.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {LoggingMessageNotificationSchema} from '@modelcontextprotocol/sdk/types.js'
import {manualClock} from '../../src/clock.js'
import {fixture, isAlive, startHarness, textOf, until} from '../helpers/gateway.ts'

test('a child crashing mid-call fails the call at once and ends its sessions; other clients are unaffected', async (t) => {
  const h = await startHarness(t)
  const victim = await h.connect('crashy')
  const bystander = await h.connect('steady')
  const pidsBefore = h.gateway.childPids()
  await assert.rejects(victim.callTool({name: 'crash', arguments: {}}), /exited/)
  await until(() => h.gateway.stats().sessions === 1, 'victim session ended')
  // The session is gone: its id now answers 404, which the SDK reports as an error.
  await assert.rejects(victim.listTools(), /404|not found/i)
  assert.equal(textOf(await bystander.callTool({name: 'echo', arguments: {text: 'still here'}})), 'still here')
  // A new session of the crashed client gets a new child.
  const again = await h.connect('crashy')
  assert.equal(textOf(await again.callTool({name: 'echo', arguments: {text: 'back'}})), 'back')
  const pidsAfter = h.gateway.childPids()
  assert.equal(pidsAfter.length, 2)
  assert.ok(pidsBefore.some((pid) => !pidsAfter.includes(pid)))
})

test('a hanging child: the request times out with a JSON-RPC error, the session lives on', async (t) => {
  const clock = manualClock(Date.now())
  const h = await startHarness(t, {clock, limits: {requestTimeoutMs: 1000, sweepIntervalMs: 3_600_000}})
  const client = await h.connect('slowpoke')
  let started!: () => void
  const running = new Promise<void>((resolve) => (started = resolve))
  const call = client.callTool({name: 'hang', arguments: {}}, undefined, {timeout: 600_000, onprogress: () => started()})
  // The child must be running the request before time moves (it reports progress 0 then).
  await running
  let settled = false
  void call.catch(() => {}).finally(() => (settled = true))
  await until(() => {
    clock.advance(600)
    h.gateway.sweep()
    return settled
  }, 'timeout')
  await assert.rejects(call, /did not answer within 1000 ms/)
  assert.equal(textOf(await client.callTool({name: 'echo', arguments: {text: 'ok'}})), 'ok')
  // The gateway told the child to give up on the request.
  assert.equal(textOf(await client.callTool({name: 'cancelled_count', arguments: {}})), '1')
})

test('garbage on stdout is dropped and logged; the call still succeeds', async (t) => {
  const h = await startHarness(t)
  const client = await h.connect('messy')
  assert.equal(textOf(await client.callTool({name: 'garbage', arguments: {}})), 'after garbage')
  assert.ok(h.logger.lines.some((l) => l.message.includes('not a JSON-RPC message')))
  assert.ok(h.logger.lines.some((l) => l.message.includes('unknown or finished request')))
})

test('a line over maxLineBytes is dropped and fails its request at once; the child keeps serving', async (t) => {
  const h = await startHarness(t, {limits: {maxLineBytes: 64 * 1024}})
  const client = await h.connect('verbose')
  await assert.rejects(client.callTool({name: 'big', arguments: {bytes: 200 * 1024}}), /line limit/)
  assert.ok(h.logger.lines.some((l) => l.message.includes('longer than maxLineBytes')))
  assert.equal(textOf(await client.callTool({name: 'big', arguments: {bytes: 10}})), 'x'.repeat(10))
})

test('a flood of notifications reaches the client in order, and other clients are served meanwhile', async (t) => {
  const h = await startHarness(t)
  const flooder = await h.connect('flooder')
  const other = await h.connect('other')
  const seen: string[] = []
  flooder.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => void seen.push(String(n.params.data)))
  const flood = flooder.callTool({name: 'flood', arguments: {count: 5000}})
  assert.equal(textOf(await other.callTool({name: 'echo', arguments: {text: 'meanwhile'}})), 'meanwhile')
  assert.equal(textOf(await flood), 'flooded 5000')
  assert.equal(seen.length, 5000)
  assert.equal(seen[4999], 'flood 4999')
})

test('a server that exits at start: the client gets a JSON-RPC error, the daemon keeps serving', async (t) => {
  const h = await startHarness(t, {command: {command: process.execPath, args: [fixture('exits-at-start.mjs')]}})
  await assert.rejects(h.connect('unlucky'), /MCP server unavailable/)
  assert.deepEqual(h.gateway.stats(), {sessions: 0, children: 0})
  assert.ok(h.logger.lines.some((l) => l.message === 'child stderr' && l.fields.line === 'exits-at-start: goodbye'))
  await assert.rejects(h.connect('unlucky'), /MCP server unavailable/)
})

test('a command that does not exist: a JSON-RPC error, nothing left running', async (t) => {
  const h = await startHarness(t, {command: {command: '/nonexistent/mcp-server', args: []}})
  await assert.rejects(h.connect('hopeful'), /could not be started/)
  assert.deepEqual(h.gateway.stats(), {sessions: 0, children: 0})
  assert.ok(h.logger.lines.some((l) => l.message === 'child could not be started'))
})

test('a child that ignores SIGTERM is killed after the grace period', async (t) => {
  const h = await startHarness(t, {
    command: {command: process.execPath, args: [fixture('mcp-test-server.mjs'), '--stubborn']},
    limits: {killGraceMs: 100},
  })
  await h.connect('stubborn')
  const [pid] = h.gateway.childPids()
  await h.close()
  assert.equal(isAlive(pid!), false)
  assert.ok(h.logger.lines.some((l) => l.message.includes('did not stop after SIGTERM')))
})
