/**
 * MCP 2026-07-28 at /mcp beside the 2025 revisions (issue 13), with the official v2 SDK client
 * pinned to 2026-07-28 and in auto mode, and the v1 client, on one gateway at once.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {connectV2} from '../helpers/mcp-v2.js'
import {startHarness, textOf} from '../helpers/gateway.js'

test('a v2 client pinned to 2026-07-28 lists and calls tools', async (t) => {
  const h = await startHarness(t)
  const client = await connectV2(t, h.url, await h.token('alice'))
  assert.equal(client.getNegotiatedProtocolVersion?.() ?? '2026-07-28', '2026-07-28')
  const tools = await client.listTools()
  assert.ok(tools.tools.some((x) => x.name === 'echo'))
  const r = await client.callTool({name: 'echo', arguments: {text: 'hi 2026'}})
  assert.equal(textOf(r), 'hi 2026')
})
