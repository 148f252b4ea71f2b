/**
 * Several daemons on one real PostgreSQL (issue 14): what one node issues or changes, the others
 * honour; the database lost and back; the start refusals (no key-encryption key, a wrong one,
 * an unreachable or refusing database) each with its message and exit status.
 */
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test, type TestContext} from 'node:test'
import {createClientAdmin} from '../../src/clients/admin.js'
import {GatehouseError} from '../../src/errors.js'
import {memoryLogger} from '../../src/log.js'
import {createServer, type RunningServer} from '../../src/server.js'
import {openStore} from '../../src/store/open-store.js'
import {runBin} from '../helpers/cli.js'
import {startPostgres, type PostgresServer} from '../helpers/postgres.js'
import {tempDir} from '../helpers/tmp.js'
import {testServerCommand} from '../helpers/gateway.js'

let pg: PostgresServer
before(async () => {
  pg = await startPostgres()
})
after(async () => {
  await pg?.stop()
})

function kekFile(t: TestContext): string {
  const file = join(tempDir(t), 'kek')
  writeFileSync(file, randomBytes(32).toString('base64') + '\n', {mode: 0o600})
  return file
}

async function node(t: TestContext, databaseUrl: string, keyEncryptionKeyFile: string): Promise<RunningServer> {
  // Behind one balancer every node has the same public issuer (and so the same token audience).
  const server = await createServer({dataDir: tempDir(t), databaseUrl, keyEncryptionKeyFile, issuer: 'https://mcp.example.test', port: 0, logger: memoryLogger(), useKeychain: false})
  t.after(() => server.close())
  return server
}

async function token(server: RunningServer, id: string, secret: string): Promise<{status: number; body: Record<string, unknown>; headers: Headers}> {
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: {authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded'},
    body: 'grant_type=client_credentials',
  })
  return {status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers}
}

const accepted = async (server: RunningServer, accessToken: string) => (await fetch(`${server.url}/oauth/info`, {headers: {authorization: `Bearer ${accessToken}`}})).status === 200

test('a token issued by one node is accepted by another; a CLI revocation and a CLI key rotation reach every node within a second', async (t) => {
  const databaseUrl = await pg.database()
  const kek = kekFile(t)
  const [a, b] = [await node(t, databaseUrl, kek), await node(t, databaseUrl, kek)]
  const cli = await openStore({dataDir: tempDir(t), databaseUrl, watch: false})
  t.after(() => cli.close())
  const {client, secret} = await createClientAdmin({store: cli, clock: {now: () => Date.now()}}).generate({name: 'agent'}, cliActor())
  const issued = await token(a, client.id, secret!)
  assert.equal(issued.status, 200)
  assert.equal(await accepted(b, issued.body.access_token as string), true, 'node b accepts node a\'s token')

  // Key rotation by the CLI against the database: the next token is signed with the new key on
  // one node and verifies on the other.
  const before = JSON.parse(Buffer.from((issued.body.access_token as string).split('.')[0]!, 'base64url').toString()).kid
  const rotated = await runBin('run', ['keys', 'rotate', '--json'], {dataDir: tempDir(t), env: {GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: kek}})
  assert.equal(rotated.code, 0, rotated.stderr)
  const kid = JSON.parse(rotated.stdout).kid as string
  assert.notEqual(kid, before)
  const fresh = await token(b, client.id, secret!)
  assert.equal(JSON.parse(Buffer.from((fresh.body.access_token as string).split('.')[0]!, 'base64url').toString()).kid, kid)
  assert.equal(await accepted(a, fresh.body.access_token as string), true)

  // oauth-revoke-client against the database: refused by both nodes within one second of its exit.
  const revoked = await runBin('oauth-revoke-client', [client.id, '--yes', '--database-url', databaseUrl], {dataDir: tempDir(t)})
  assert.equal(revoked.code, 0, revoked.stderr)
  const exitedAt = performance.now()
  for (const server of [a, b]) {
    while (await accepted(server, fresh.body.access_token as string)) {
      assert.ok(performance.now() - exitedAt < 1000, 'the revocation was not enforced within one second')
      await new Promise((r) => setTimeout(r, 20))
    }
  }
})

test('PostgreSQL without a key-encryption key, or with another node\'s, refuses to start and says why', async (t) => {
  const databaseUrl = await pg.database()
  await node(t, databaseUrl, kekFile(t))
  await assert.rejects(
    createServer({dataDir: tempDir(t), databaseUrl, port: 0, logger: memoryLogger(), useKeychain: false}),
    (e: unknown) => e instanceof GatehouseError && e.code === 'CONFIG' && /--key-encryption-key-file/.test(e.message),
  )
  await assert.rejects(
    createServer({dataDir: tempDir(t), databaseUrl, keyEncryptionKeyFile: kekFile(t), port: 0, logger: memoryLogger(), useKeychain: false}),
    (e: unknown) => e instanceof GatehouseError && e.code === 'KEY_ENCRYPTION' && /not the key the other nodes use/.test(e.message),
  )
  const cli = await runBin('run', ['keys', 'rotate'], {dataDir: tempDir(t), env: {GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: kekFile(t)}})
  assert.equal(cli.code, 14, cli.stderr)
  const bad = join(tempDir(t), 'short')
  writeFileSync(bad, 'c2hvcnQ=\n')
  const short = await runBin('run', ['keys', 'rotate'], {dataDir: tempDir(t), env: {GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: bad}})
  assert.equal(short.code, 11)
  assert.match(short.stderr, /32 random bytes in base64/)
})

test('an unreachable database and a refusing one each have their exit status and a one-line message', async (t) => {
  const closed = `postgres://postgres@127.0.0.1:${pg.port + 1}/nothing`
  const unreachable = await runBin('oauth-list-clients', ['--database-url', closed], {dataDir: tempDir(t)})
  assert.equal(unreachable.code, 12, unreachable.stderr)
  assert.match(unreachable.stderr, /cannot reach the database 127\.0\.0\.1:\d+\/nothing: ECONNREFUSED/)
  const missing = await runBin('oauth-list-clients', ['--database-url', `postgres://postgres@127.0.0.1:${pg.port}/no_such_db`], {dataDir: tempDir(t)})
  assert.equal(missing.code, 13, missing.stderr)
  assert.match(missing.stderr, /refused the connection: database "no_such_db" does not exist/)
  const notPg = await runBin('oauth-list-clients', ['--database-url', 'mysql://x@127.0.0.1/db'], {dataDir: tempDir(t)})
  assert.equal(notPg.code, 3)
})

test('the database lost while running: refusals with Retry-After and no 5xx, /healthz 503; back to normal when it returns, without a restart', async (t) => {
  const databaseUrl = await pg.database()
  const a = await node(t, databaseUrl, kekFile(t))
  const cli = await openStore({dataDir: tempDir(t), databaseUrl, watch: false})
  const {client, secret} = await createClientAdmin({store: cli, clock: {now: () => Date.now()}}).generate({name: 'agent'}, cliActor())
  await cli.close()
  assert.equal((await token(a, client.id, secret!)).status, 200)
  assert.equal((await fetch(`${a.url}/healthz`)).status, 200)

  await pg.kill()
  // The lost LISTEN connection makes every cache reload before it answers: the store is asked, and refuses.
  let refused: Awaited<ReturnType<typeof token>> | undefined
  for (let i = 0; i < 100 && !refused; i++) {
    const r = await token(a, client.id, secret!)
    assert.ok(r.status < 500, `a ${r.status} while the database is away`)
    if (r.status === 429) refused = r
    else await new Promise((res) => setTimeout(res, 50))
  }
  assert.ok(refused, 'the node kept answering from caches it could not check')
  assert.equal(refused.body.error, 'temporarily_unavailable')
  assert.ok(Number(refused.headers.get('retry-after')) >= 1)
  const health = await fetch(`${a.url}/healthz`)
  assert.equal(health.status, 503)
  assert.deepEqual(await health.json(), {status: 'unavailable'})

  await pg.start()
  let ok = false
  for (let i = 0; i < 200 && !ok; i++) {
    const r = await token(a, client.id, secret!)
    assert.ok(r.status < 500, `a ${r.status} while the database comes back`)
    ok = r.status === 200
    if (!ok) await new Promise((res) => setTimeout(res, 50))
  }
  assert.ok(ok, 'normal service did not resume')
  assert.equal((await fetch(`${a.url}/healthz`)).status, 200)
})

test('a multi round-trip retry whose node is gone, or cannot be reached, is refused as an ended request (400, -32602), never a 5xx', async (t) => {
  const databaseUrl = await pg.database()
  const kek = kekFile(t)
  const logB = memoryLogger()
  const start = (nodeId: string, nodeUrl?: string) =>
    createServer({dataDir: tempDir(t), databaseUrl, keyEncryptionKeyFile: kek, issuer: 'http://127.0.0.1:9', port: 0, logger: nodeId === 'b' ? logB : memoryLogger(), useKeychain: false, nodeId, nodeUrl, command: testServerCommand()})
  // Node a advertises a URL where nothing listens; node c stops cleanly (its heartbeat row goes).
  const a = await start('a', 'http://127.0.0.1:1')
  t.after(() => a.close())
  const b = await start('b')
  t.after(() => b.close())
  const c = await start('c')
  t.after(() => c.close())
  const cli = await openStore({dataDir: tempDir(t), databaseUrl, watch: false})
  const {client, secret} = await createClientAdmin({store: cli, clock: {now: () => Date.now()}}).generate({name: 'agent'}, cliActor())
  await cli.close()
  const access = (await token(b, client.id, secret!)).body.access_token as string
  const meta = {'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': {name: 'raw', version: '1'}, 'io.modelcontextprotocol/clientCapabilities': {elicitation: {form: {}}}}
  const call = async (server: RunningServer, id: number, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {authorization: `Bearer ${access}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'elicit'},
      body: JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name: 'elicit', arguments: {message: 'q'}, ...extra, _meta: meta}}),
    })
    return {status: res.status, body: (await res.json()) as Record<string, any>}
  }
  const answer = {inputResponses: {elicitation: {action: 'accept', content: {answer: 'x'}}}}
  const onA = await call(a, 1)
  assert.equal(onA.body.result.resultType, 'input_required')
  const onC = await call(c, 2)
  assert.equal(onC.body.result.resultType, 'input_required')
  await c.close()
  for (const [why, state] of [['unreachable holder', onA.body.result.requestState], ['holder gone', onC.body.result.requestState]] as const) {
    const r = await call(b, 3, {...answer, requestState: state})
    assert.equal(r.status, 400, why)
    assert.equal(r.body.error.code, -32602, why)
    assert.match(r.body.error.message, /send the request again without it/, why)
  }
  // Node b tried: it forwarded to a's advertised URL, and found no row for c.
  assert.ok(logB.lines.some((l) => l.message.includes('could not be forwarded') && l.fields.node === 'a' && l.fields.url === 'http://127.0.0.1:1'))
  assert.ok(logB.lines.some((l) => l.message.includes('names a node that is gone') && l.fields.node === 'c'))
  // A --node-url that is not an http(s) URL is refused at start.
  await assert.rejects(start('d', 'ftp://node-d'), (e: unknown) => e instanceof GatehouseError && e.code === 'INVALID_INPUT' && /--node-url/.test(e.message))
  // The holder itself still resumes its own request.
  const done = await call(a, 4, {...answer, requestState: onA.body.result.requestState})
  assert.equal(done.body.result.content[0].text, 'elicited: accept {"answer":"x"}')
})
