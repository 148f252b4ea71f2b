// Policy enforcement at the gateway, through the real daemon (in process) gating a real SDK file
// server (test/fixtures/file-server.mjs, which reads `file:` URIs as a real one does:
// fileURLToPath + path.normalize). Issue 11, items 1, 2, 3, 4, 23 and 28.
// Rules: RFC 3986 §6.2.2 (normalisation), RFC 8089 §2 (file URI authority), WHATWG URL;
// JSON-RPC 2.0 §4.1 (notifications), §5.1 (-32600, -32602); MCP 2025-11-25 authorization §Scope
// Challenge Handling; MCP 2025-03-26 transports (batches) and §Resumability; RFC 9110 §5.5 and
// RFC 6750 §3 (header values); RFC 8259 §9 (depth limits).
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {assertStillServes, perFile} from '../helpers/attacks.js'
import {fetchToken} from '../helpers/clients.js'
import {fixture} from '../helpers/gateway.js'
import {startInProcess} from '../helpers/server.js'
import {tempDir} from '../helpers/tmp.js'

const POLICY = `tools:
  "delete_*": files:admin
resources:
  "file:///private/*": files:private
prompts:
  "secret_*": files:private
`
const ALL = 'mcp files:private files:admin'

const server = perFile(async (t) => {
  const dir = tempDir(t)
  const policyFile = join(dir, 'policy.yaml')
  writeFileSync(policyFile, POLICY)
  const s = await startInProcess(t, {policyFile, command: {command: process.execPath, args: [fixture('file-server.mjs')]}})
  const client = await s.client({name: 'files-agent', scopes: ALL.split(' ')})
  const narrow = await fetchToken(s.issuer, client, {scope: 'mcp'})
  const wide = await fetchToken(s.issuer, client, {scope: ALL})
  return {s, client, narrow, wide, mcp: `${s.issuer}/mcp`}
})

interface Answer {
  status: number
  headers: Headers
  /** The JSON-RPC messages of the answer (JSON or SSE), by id. */
  byId: Map<unknown, Record<string, unknown>>
  eventIds: string[]
  text: string
}

async function post(token: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(server().mcp, {
    method: 'POST',
    headers: {authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...headers},
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await res.text()
  const byId = new Map<unknown, Record<string, unknown>>()
  const eventIds: string[] = []
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    for (const line of text.split('\n')) {
      if (line.startsWith('id: ')) eventIds.push(line.slice(4))
      if (line.startsWith('data: ')) {
        const m = JSON.parse(line.slice(6)) as Record<string, unknown>
        byId.set(m.id, m)
      }
    }
  } else if (text !== '') {
    const m = JSON.parse(text) as Record<string, unknown>
    byId.set(m.id, m)
  }
  return {status: res.status, headers: res.headers, byId, eventIds, text}
}

/** A session (initialize + initialized) at the given protocol version; returns the headers its requests carry. */
async function session(token: string, version = '2025-11-25') {
  const init = await post(token, {jsonrpc: '2.0', id: 0, method: 'initialize', params: {protocolVersion: version, capabilities: {}, clientInfo: {name: 'raw', version: '1'}}})
  assert.equal(init.status, 200, init.text)
  const headers = {'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': version}
  assert.equal((await post(token, {jsonrpc: '2.0', method: 'notifications/initialized'}, headers)).status, 202)
  return headers
}

const read = (uri: string, id = 1) => ({jsonrpc: '2.0', id, method: 'resources/read', params: {uri}})

// Spellings a file server reads as /private/secret.txt (item 1). Each must meet the rule for
// file:///private/*, however it is written.
const SAME_FILE = [
  'file:///private/secret.txt',
  'file:///public/../private/secret.txt',
  'file:///public/./../private/./secret.txt',
  'FILE:///private/secret.txt',
  'File:///private/secret.txt',
  'file:///%70rivate/secret.txt',
  'file:///%70%72%69vate/secret.txt',
  'file://localhost/private/secret.txt',
  'file://LOCALHOST/private/secret.txt',
  'file:///../../private/secret.txt',
]

// Spellings whose meaning depends on who decodes them: refused with -32602 whatever the token.
const AMBIGUOUS = [
  'file:///private%2Fsecret.txt',
  'file:///public/%2E%2E/private/secret.txt',
  'file:///public/.%2e/private/secret.txt',
  'file:///public/..%2Fprivate/secret.txt',
  'file:///public\\..\\private\\secret.txt',
  'file:///public/..\\private/secret.txt',
  'file:////private/secret.txt',
  'file:///private//secret.txt',
  'file:///private/secret.txt%00',
  'file:///private/secret.txt\u0000',
  'file:///%2570rivate/secret.txt',
  'file:///%7',
  'file://evil.example/private/secret.txt',
  'file://user@localhost/private/secret.txt',
  'file:///pri\u202Evate/secret.txt',
  'file:///\u200Bprivate/secret.txt',
  ' file:///private/secret.txt',
  'file:///private/secret.txt\n',
  'file:///private/\tsecret.txt',
  'not a uri',
  '',
]

test('item 1: every spelling of a protected URI meets its rule: 403 without the scope, read in normal form with it', async () => {
  const {narrow, wide} = server()
  const n = await session(narrow)
  for (const uri of SAME_FILE) {
    const r = await post(narrow, read(uri), n)
    assert.equal(r.status, 403, `${uri}: ${r.text}`)
    assert.match(r.headers.get('www-authenticate')!, /^Bearer error="insufficient_scope", scope="mcp files:private"/, uri)
  }
  // With the scope, the child is asked for the normal form: the URI that was checked (it echoes it).
  const w = await session(wide)
  const ok = await post(wide, read('FILE://localhost/public/../%70rivate/secret.txt'), w)
  const contents = (ok.byId.get(1)!.result as {contents: Array<{uri: string; text: string}>}).contents
  assert.deepEqual(contents.map((c) => [c.uri, c.text]), [['file:///private/secret.txt', '/private/secret.txt: TOP SECRET']])
  // An unprotected file is read by either token.
  const pub = await post(narrow, read('file:///public/readme.txt'), n)
  assert.equal((pub.byId.get(1)!.result as {contents: Array<{text: string}>}).contents[0]!.text, '/public/readme.txt: hello')
})

test('item 1: ambiguous or unparseable URIs are refused with JSON-RPC -32602, for every token, and never reach the child', async () => {
  const {narrow, wide} = server()
  for (const token of [narrow, wide]) {
    const h = await session(token)
    let id = 10
    for (const uri of AMBIGUOUS) {
      const r = await post(token, read(uri, ++id), h)
      assert.equal(r.status, 200, `${JSON.stringify(uri)}: ${r.text}`)
      const error = r.byId.get(id)?.error as {code: number; message: string} | undefined
      assert.equal(error?.code, -32602, `${JSON.stringify(uri)}: ${r.text}`)
      assert.match(error.message, /resource URI refused/)
    }
  }
})

test('item 1: resources/subscribe, resources/unsubscribe and completion refs meet the same rule', async () => {
  const {narrow, wide} = server()
  const n = await session(narrow)
  const uri = 'file:///public/../private/secret.txt'
  for (const method of ['resources/subscribe', 'resources/unsubscribe']) {
    assert.equal((await post(narrow, {jsonrpc: '2.0', id: 1, method, params: {uri}}, n)).status, 403, method)
    const bad = await post(narrow, {jsonrpc: '2.0', id: 2, method, params: {uri: 'file:///private%2Fsecret.txt'}}, n)
    assert.equal((bad.byId.get(2)!.error as {code: number}).code, -32602, method)
  }
  const complete = (ref: Record<string, unknown>) => ({jsonrpc: '2.0', id: 3, method: 'completion/complete', params: {ref, argument: {name: 'name', value: ''}}})
  for (const ref of [{type: 'ref/resource', uri: 'FILE:///private/{name}'}, {type: 'ref/resource', uri: 'file://localhost/public/../private/{name}'}, {type: 'ref/prompt', name: 'secret_plan'}]) {
    assert.equal((await post(narrow, complete(ref), n)).status, 403, JSON.stringify(ref))
  }
  const badRef = await post(narrow, complete({type: 'ref/resource', uri: 'file:///private%2F{name}'}), n)
  assert.equal((badRef.byId.get(3)!.error as {code: number}).code, -32602)
  const noRef = await post(narrow, complete({type: 'ref/other', uri: 'file:///private/{name}'}), n)
  assert.equal((noRef.byId.get(3)!.error as {code: number}).code, -32602)
  // The wide token completes the template, spelled any way: the child gets the normal form.
  const w = await session(wide)
  const done = await post(wide, complete({type: 'ref/resource', uri: 'FILE://LOCALHOST/private/{name}'}), w)
  assert.deepEqual((done.byId.get(3)!.result as {completion: {values: string[]}}).completion.values, ['secret.txt'])
  // What the child was asked to subscribe to: only what was allowed, in normal form.
  await post(wide, {jsonrpc: '2.0', id: 4, method: 'resources/subscribe', params: {uri: 'file://localhost/%70rivate/secret.txt'}}, w)
  const who = await post(wide, {jsonrpc: '2.0', id: 5, method: 'tools/call', params: {name: 'whoami', arguments: {}}}, w)
  const {subscribed} = JSON.parse((who.byId.get(5)!.result as {content: Array<{text: string}>}).content[0]!.text) as {subscribed: string[]}
  assert.deepEqual(subscribed, ['file:///private/secret.txt'])
})

test('item 2: a JSON-RPC batch (2025-03-26) goes through the same policy step: lists filtered, calls checked, URIs normalised', async () => {
  const {narrow} = server()
  const h = await session(narrow, '2025-03-26')
  const lists = await post(
    narrow,
    [
      {jsonrpc: '2.0', id: 2, method: 'tools/list'},
      {jsonrpc: '2.0', id: 3, method: 'resources/list'},
      {jsonrpc: '2.0', id: 4, method: 'prompts/list'},
      read('file:///private%2Fsecret.txt', 5),
      read('file:///public/readme.txt', 6),
    ],
    h,
  )
  assert.equal(lists.status, 200, lists.text)
  const names = (id: number, field: string, key: string) => ((lists.byId.get(id)!.result as Record<string, Array<Record<string, string>>>)[field] ?? []).map((x) => x[key]).sort()
  assert.deepEqual(names(2, 'tools', 'name'), ['read_notes', 'shout', 'whoami'])
  assert.deepEqual(names(3, 'resources', 'uri'), ['file:///public/readme.txt'])
  assert.deepEqual(names(4, 'prompts', 'name'), ['public_hello'])
  assert.equal((lists.byId.get(5)!.error as {code: number}).code, -32602)
  assert.ok(lists.byId.get(6)!.result)
  // One forbidden member refuses the whole batch: nothing of it is forwarded.
  for (const member of [{jsonrpc: '2.0', id: 7, method: 'tools/call', params: {name: 'delete_notes', arguments: {}}}, read('FILE:///public/../private/secret.txt', 8)]) {
    const r = await post(narrow, [{jsonrpc: '2.0', id: 9, method: 'tools/list'}, member], h)
    assert.equal(r.status, 403, r.text)
  }
})

test('item 2: an SSE stream answered under wider scopes cannot be resumed (Last-Event-ID) by a token without them', async () => {
  const {narrow, wide} = server()
  const h = await session(wide, '2025-03-26')
  const batch = await post(wide, [{jsonrpc: '2.0', id: 2, method: 'tools/list'}], h)
  const tools = (batch.byId.get(2)!.result as {tools: Array<{name: string}>}).tools.map((t) => t.name)
  assert.ok(tools.includes('delete_notes'))
  const eventId = batch.eventIds[0]!
  const resume = (token: string) =>
    fetch(server().mcp, {headers: {authorization: `Bearer ${token}`, accept: 'text/event-stream', 'last-event-id': eventId.replace(/-\d+$/, '-0'), ...h}, signal: AbortSignal.timeout(10_000)})
  const refused = await resume(narrow)
  assert.equal(refused.status, 403)
  assert.match(refused.headers.get('www-authenticate')!, /error="insufficient_scope"/)
  assert.ok(!(await refused.text()).includes('delete_notes'))
  const replayed = await resume(wide)
  assert.equal(replayed.status, 200)
  assert.ok((await replayed.text()).includes('delete_notes'))
})

test('item 3: a notification (no id) whose method is a request method is refused with 400 and not forwarded', async () => {
  const {narrow} = server()
  const h = await session(narrow)
  for (const msg of [
    {jsonrpc: '2.0', method: 'tools/call', params: {name: 'delete_notes', arguments: {}}},
    {jsonrpc: '2.0', method: 'resources/read', params: {uri: 'file:///private/secret.txt'}},
    {jsonrpc: '2.0', method: 'resources/subscribe', params: {uri: 'file:///private/secret.txt'}},
    {jsonrpc: '2.0', method: 'prompts/get', params: {name: 'secret_plan'}},
    {jsonrpc: '2.0', method: 'tools/list'},
  ]) {
    const r = await post(narrow, msg, h)
    assert.equal(r.status, 400, `${msg.method}: ${r.text}`)
    assert.equal((r.byId.get(null)!.error as {code: number}).code, -32600)
  }
  const b = await session(narrow, '2025-03-26')
  const inBatch = await post(narrow, [{jsonrpc: '2.0', id: 1, method: 'tools/list'}, {jsonrpc: '2.0', method: 'tools/call', params: {name: 'delete_notes'}}], b)
  assert.equal(inBatch.status, 400)
  // Real notifications still pass.
  assert.equal((await post(narrow, {jsonrpc: '2.0', method: 'notifications/cancelled', params: {requestId: 99}}, h)).status, 202)
})

test('item 4: a refused name in any script or with quotes and line breaks gives a 403 with a valid challenge, and is audited', async () => {
  const {narrow, s, client} = server()
  const h = await session(narrow)
  const names = ['delete_中', 'delete_"quoted"\\', 'delete_\r\nX-Injected: 1', 'delete_\u0000\u202E', 'delete_😀']
  for (const [i, name] of names.entries()) {
    const r = await post(narrow, {jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: {name, arguments: {}}}, h)
    assert.equal(r.status, 403, `${JSON.stringify(name)}: ${r.text}`)
    assert.equal(r.headers.get('x-injected'), null)
    const challenge = r.headers.get('www-authenticate')!
    // RFC 6750 §3: scope and error_description hold %x20-21 / %x23-5B / %x5D-7E only.
    const description = /error_description="([^"]*)"$/.exec(challenge)?.[1]
    assert.ok(description, challenge)
    assert.match(description, /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/)
    assert.equal(decodeURIComponent(description), `tool ${name} needs scope files:admin`)
    assert.match(((r.byId.get(null)!.error as {message: string}).message), /needs scope files:admin/)
  }
  assert.deepEqual(await auditedRefusals(s, client.client_id, names), names)
})

/** The names among `names` audited as forbidden tools/call for the client, in order, once all are there. */
async function auditedRefusals(s: ReturnType<typeof server>['s'], clientId: string, names: string[]): Promise<string[]> {
  // The audit trail is written in batches off the request path: poll the store until it has them.
  let found: string[] = []
  for (let i = 0; i < 200; i++) {
    const rows = await s.store.audit.query({clientId, limit: 10_000})
    found = rows.filter((e) => e.event === 'mcp.request' && e.outcome === 'forbidden' && e.method === 'tools/call' && names.includes(e.name ?? '')).map((e) => e.name!)
    if (found.length >= names.length) return found
    await new Promise((r) => setTimeout(r, 50))
  }
  return found
}

test('item 23: JSON nested 10,000 deep in tool arguments is JSON-RPC invalid request (400), never a 5xx', async () => {
  const {narrow, s} = server()
  const h = await session(narrow)
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
  const call = (args: string, id = 1) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"read_notes","arguments":{"x":${args}}}}`
  for (const body of [call(deep(10_000)), call(`{"a":${deep(200)}}`), `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///x","_meta":${deep(5000)}}}`]) {
    const r = await post(narrow, body, h)
    assert.equal(r.status, 400, r.text.slice(0, 200))
    assert.equal((r.byId.get(null)!.error as {code: number}).code, -32600)
  }
  const b = await session(narrow, '2025-03-26')
  const batch = await post(narrow, `[${call(deep(10_000))}]`, b)
  assert.equal(batch.status, 400)
  // A message of ordinary depth still works, in the same session.
  const ok = await post(narrow, call(deep(50)), h)
  assert.equal(ok.status, 200, ok.text)
  await assertStillServes(s.issuer)
})

test("item 28: the child's GATEHOUSE_SCOPES is the client's registered scopes, never the first token's", async () => {
  const {s} = server()
  const other = await s.client({name: 'env-agent', scopes: ALL.split(' ')})
  // The child is started for this client by a narrow token...
  const narrow = await fetchToken(s.issuer, other, {scope: 'mcp'})
  const h = await session(narrow)
  const r = await post(narrow, {jsonrpc: '2.0', id: 1, method: 'tools/call', params: {name: 'whoami', arguments: {}}}, h)
  const {env} = JSON.parse((r.byId.get(1)!.result as {content: Array<{text: string}>}).content[0]!.text) as {env: Record<string, string>}
  // ... and says what the client may be granted, not what that token holds.
  assert.equal(env.GATEHOUSE_CLIENT_ID, other.client_id)
  assert.equal(env.GATEHOUSE_SCOPES, ALL)
})
