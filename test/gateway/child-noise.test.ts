// What a child writes on stdout that is not a JSON-RPC message is noise: logged (without its
// content) and dropped, never taken for an answer or forwarded (JSON-RPC 2.0 §4, §5: a message
// has "jsonrpc": "2.0" and the shape of a request, notification or response; MCP 2025-11-25
// transports §stdio; the SDK's own stdio client drops what fails its schema). And a line over the
// line limit fails the request it answered at once, wherever its id sits (issue 11, items 16, 17).
// Through the real daemon, a hand-written noisy child and the official MCP SDK client.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {LoggingMessageNotificationSchema} from '@modelcontextprotocol/sdk/types.js'
import {generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {fixture} from '../helpers/gateway.js'
import {connectWithClientCredentials, firstText} from '../helpers/mcp-client.js'
import {tempDir} from '../helpers/tmp.js'

test('log lines with an id or a method on the child stdout neither answer requests nor reach the client', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir, args: ['--', process.execPath, fixture('noisy-server.mjs')]})
  // Before the fix, `{"level":"info","msg":"handling","id":1}` answered the gateway's own
  // initialize (id 1) with no result, and every session was refused.
  const client = await connectWithClientCredentials(t, `${daemon.issuer}/mcp`, {clientId: agent.client_id, clientSecret: agent.client_secret, issuer: daemon.issuer})
  const logged: unknown[] = []
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(n.params))
  assert.deepEqual((await client.listTools()).tools.map((x) => x.name), ['echo', 'leak', 'big'])
  // Each request is preceded by noise carrying its own id: only the real answer counts.
  for (const text of ['one', 'two', 'three']) assert.equal(firstText(await client.callTool({name: 'echo', arguments: {text}})), text)
  assert.equal(firstText(await client.callTool({name: 'leak', arguments: {}})), 'leak done')
  // The answer to the next request has been read, so the leak's log line would have arrived by now.
  assert.equal(firstText(await client.callTool({name: 'echo', arguments: {text: 'after'}})), 'after')
  assert.deepEqual(logged, [], 'a method-bearing log line is not forwarded')
  const log = daemon.stdout() + daemon.stderr()
  assert.match(log, /not a JSON-RPC message/)
  assert.match(log, /no \\?"jsonrpc\\?": \\?"2\.0\\?" member|no "jsonrpc"/)
  assert.doesNotMatch(log, /secret-log-line/, 'noise is logged without its content')
})

test('a line over the line limit fails its request at once, with the id before or after the result', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir, args: ['--', process.execPath, fixture('noisy-server.mjs')]})
  const client = await connectWithClientCredentials(t, `${daemon.issuer}/mcp`, {clientId: agent.client_id, clientSecret: agent.client_secret, issuer: daemon.issuer})
  // The line limit is 16 MiB (the daemon's floor); the request timeout is 5 minutes, and the
  // SDK's own 30 s bound turns a hang into a different error.
  for (const order of ['result-first', 'id-first', 'jsonrpc-last']) {
    await assert.rejects(
      client.callTool({name: 'big', arguments: {bytes: 17 * 1024 * 1024, order}}, undefined, {timeout: 30_000}),
      /exceeded the 16777216-byte line limit/,
      order,
    )
  }
  // Small answers still pass, and the session lives on.
  assert.equal(firstText(await client.callTool({name: 'big', arguments: {bytes: 10, order: 'id-first'}})), 'x'.repeat(10))
  assert.equal(firstText(await client.callTool({name: 'echo', arguments: {text: 'ok'}})), 'ok')
})
