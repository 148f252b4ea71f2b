// First run, as a new user does it (issue 12) and one daemon per data dir (issue 11 item 20):
// the printed settings point at the daemon that runs, `gatehouse status`/`stop` find it through
// its runtime record and owner-only socket, a second daemon on the same data dir is refused
// without touching the first one's children, and the printed SDK snippets work as pasted.
import assert from 'node:assert/strict'
import {execFile, spawn} from 'node:child_process'
import {lstatSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {promisify} from 'node:util'
import {EmptyResultSchema} from '@modelcontextprotocol/sdk/types.js'
import {runtimeRecordFile} from '../../src/daemon/runtime-record.js'
import {statusSocketPath} from '../../src/daemon/status-socket.js'
import {binEnv, repoRoot, runBin} from '../helpers/cli.js'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {isAlive, until} from '../helpers/gateway.js'
import {connectWithClientCredentials, firstText} from '../helpers/mcp-client.js'
import {tempDir} from '../helpers/tmp.js'

const run = promisify(execFile)

/** The lines of one snippet (title line up to the next blank line), unindented. */
function snippet(out: string, title: RegExp): string {
  const lines = out.split('\n')
  const at = lines.findIndex((l) => title.test(l))
  assert.ok(at >= 0, `no snippet ${title} in:\n${out}`)
  const body: string[] = []
  for (const l of lines.slice(at + 1)) {
    if (l !== '' && !l.startsWith('  ')) break
    body.push(l.slice(2))
  }
  return body.join('\n').trim()
}

test('with a daemon on port N, oauth-generate-client prints N: its curl line works as pasted, and its SDK v1 and v2 snippets connect', {timeout: 120_000}, async (t) => {
  const dataDir = tempDir(t)
  const daemon = await startDaemon(t, {dataDir})
  const port = new URL(daemon.issuer).port
  const r = await runBin('oauth-generate-client', ['--name', 'x'], {dataDir})
  assert.equal(r.code, 0, r.stderr)
  assert.doesNotMatch(r.stdout, /:8080/)
  assert.doesNotMatch(r.stderr, /no daemon is running/)
  const secret = /client_secret\s+(\S+)/.exec(r.stdout)![1]!
  const curl = /^\s+(curl -s -u .*)$/m.exec(r.stdout)![1]!
  assert.ok(curl.includes(`:${port}/oauth/token`), curl)
  // As pasted into a shell.
  const {stdout} = await run('bash', ['-c', curl])
  assert.match(stdout, /"access_token":"/)

  // The SDK snippets, written to files in the checkout (so their imports resolve) and run.
  for (const [title, file] of [
    [/TypeScript SDK v1/, '.first-run-sdk-v1.mjs'],
    [/TypeScript SDK v2/, '.first-run-sdk-v2.mjs'],
  ] as const) {
    const code = snippet(r.stdout, title)
    const path = join(repoRoot, file)
    writeFileSync(path, code + '\nawait client.close()\n')
    t.after(() => run('rm', ['-f', path]))
    const out = await run(process.execPath, [path], {env: {...binEnv(dataDir), GATEHOUSE_CLIENT_SECRET: secret}, timeout: 60_000})
    assert.match(out.stdout, /read_graph/, `${file}: ${out.stderr}`)
  }

  // `connect` prints them again, never with the secret.
  const again = await runBin('run', ['connect', '--client-id', 'x'], {dataDir})
  assert.equal(again.code, 0, again.stderr)
  assert.ok(!again.stdout.includes(secret))
  assert.match(again.stdout, new RegExp(`127\\.0\\.0\\.1:${port}/mcp`))
})

test('without a daemon, the printed settings say which URL they assumed', async (t) => {
  const dataDir = tempDir(t)
  const r = await runBin('oauth-generate-client', ['--name', 'x'], {dataDir})
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /no daemon is running on .*assume http:\/\/127\.0\.0\.1:8080/)
  const c = await runBin('run', ['connect', 'vscode'], {dataDir})
  assert.match(c.stderr, /assume http:\/\/127\.0\.0\.1:8080/)
  assert.match(c.stdout, /"url": "http:\/\/127\.0\.0\.1:8080\/mcp"/)
})

test('gatehouse status --json against a running daemon with two clients; the socket is owner-only; stop, then not running', {timeout: 120_000}, async (t) => {
  const dataDir = tempDir(t)
  const alice = await generateClient(dataDir, ['--name', 'alice'])
  const bob = await generateClient(dataDir, ['--name', 'bob'])
  const daemon = await startDaemon(t, {dataDir, args: ['--data-dir', dataDir]})
  const mcpUrl = `${daemon.issuer}/mcp`
  const a = await connectWithClientCredentials(t, mcpUrl, {clientId: alice.client_id, clientSecret: alice.client_secret, issuer: daemon.issuer})
  const b = await connectWithClientCredentials(t, mcpUrl, {clientId: bob.client_id, clientSecret: bob.client_secret, issuer: daemon.issuer})
  await a.callTool({name: 'read_graph', arguments: {}})
  await a.callTool({name: 'read_graph', arguments: {}})
  await b.callTool({name: 'read_graph', arguments: {}})
  // A JSON-RPC error from the child (method not found): counted as an error.
  await b.request({method: 'no/such-method', params: {}}, EmptyResultSchema).catch(() => undefined)

  // The start-up hint names --data-dir when it is not the default.
  assert.match(daemon.stdout(), new RegExp(`oauth-generate-client --name my-agent --data-dir ${dataDir}`))

  const r = await runBin('run', ['status', '--json'], {dataDir})
  assert.equal(r.code, 0, r.stderr)
  const s = JSON.parse(r.stdout) as Record<string, any>
  assert.equal(s.running, true)
  assert.equal(s.url, daemon.url)
  assert.equal(s.pid, daemon.child.pid)
  assert.equal(s.version, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version)
  assert.ok(!Number.isNaN(Date.parse(s.started_at)))
  assert.equal(s.keys.source, 'file')
  assert.equal(typeof s.keys.active_key_age_seconds, 'number')
  assert.deepEqual({...s.store, since: typeof s.store.since}, {kind: 'sqlite', location: join(dataDir, 'gatehouse.db'), reachable: true, since: 'string', last_error: null, last_error_at: null})
  const byId = new Map((s.clients as any[]).map((c) => [c.client_id, c]))
  const sa = byId.get(alice.client_id)
  const sb = byId.get(bob.client_id)
  assert.equal(sa.name, 'alice')
  assert.equal(sa.sessions, 1)
  assert.equal(sa.children.length, 1)
  assert.ok(isAlive(sa.children[0].pid))
  assert.ok(sa.children[0].rss_bytes > 1_000_000)
  assert.ok(sa.requests_5m >= 2, JSON.stringify(sa)) // two tools/call at least
  assert.equal(sa.errors_5m, 0)
  assert.ok(sb.errors_5m >= 1, JSON.stringify(sb))
  assert.ok(sa.last_used_at)

  // Only the owner can reach the channel: a 0700 directory holding a 0600 socket. It is not on
  // the TCP port, so a client's bearer token has nothing to open it with.
  const sock = statusSocketPath(dataDir)
  assert.equal(statSync(sock).mode & 0o777, 0o600)
  assert.equal(statSync(join(dataDir, 'run')).mode & 0o777, 0o700)
  assert.equal(statSync(runtimeRecordFile(dataDir)).mode & 0o777, 0o600)
  const token = await fetchToken(daemon.issuer, alice)
  for (const path of ['/status', '/run/status.sock', '/daemon.json']) {
    const res = await fetch(`${daemon.issuer}${path}`, {headers: {Authorization: `Bearer ${token}`}})
    assert.equal(res.status, 404, path)
  }

  const human = await runBin('run', ['status'], {dataDir})
  assert.match(human.stdout, /running\s+http:\/\/127\.0\.0\.1:\d+\s+pid \d+/)
  assert.match(human.stdout, /alice/)

  const stop = await runBin('run', ['stop'], {dataDir})
  assert.equal(stop.code, 0, stop.stderr)
  assert.equal(await daemon.stop(), 0)
  assert.ok(!isAlive(sa.children[0].pid))
  // Stopped children are logged at info, not warn (issue 12 item 5).
  assert.doesNotMatch(daemon.stderr(), /WARN\s+child exited/)
  assert.match(daemon.stderr(), /INFO\s+child stopped/)
  // A clean stop removes the record and the socket.
  assert.throws(() => lstatSync(runtimeRecordFile(dataDir)))
  assert.throws(() => lstatSync(sock))
  const after = await runBin('run', ['status', '--json'], {dataDir})
  assert.equal(after.code, 15)
  assert.equal(JSON.parse(after.stdout).running, false)
  assert.equal((await runBin('run', ['stop'], {dataDir})).code, 15)
})

test('a second daemon on the same data dir is refused, naming the first one, and leaves its children alone', {timeout: 120_000}, async (t) => {
  const dataDir = tempDir(t)
  const alice = await generateClient(dataDir, ['--name', 'alice'])
  const first = await startDaemon(t, {dataDir})
  const a = await connectWithClientCredentials(t, `${first.issuer}/mcp`, {clientId: alice.client_id, clientSecret: alice.client_secret, issuer: first.issuer})
  await a.callTool({name: 'read_graph', arguments: {}})
  const children = JSON.parse(readFileSync(join(dataDir, 'children.json'), 'utf8')).children as Array<{pid: number}>
  assert.equal(children.length, 1)

  const second = await runBin('oauth-server', ['--port', '0'], {dataDir})
  assert.equal(second.code, 5)
  assert.match(second.stderr, new RegExp(`another gatehouse daemon is running on the data dir .*pid ${first.child.pid}, ${first.url.replace(/\./g, '\\.')}`))
  assert.ok(isAlive(children[0]!.pid), "the first daemon's child was killed")
  assert.match(firstText(await a.callTool({name: 'read_graph', arguments: {}})), /entities/)
})

test('a stale record (pid gone, or reused by another program) reads as not running and is never signalled; a record that is not ours is a one-line error', {timeout: 60_000}, async (t) => {
  const dataDir = tempDir(t)
  const record = (pid: number, start: string | null) => ({
    format: 'gatehouse-daemon/1', pid, process_start: start, started_at: new Date().toISOString(), version: '0.1.0',
    issuer: 'http://127.0.0.1:1', url: 'http://127.0.0.1:1', host: '127.0.0.1', port: 1, data_dir: dataDir, status_socket: null,
  })
  // A pid that is gone: a process that has exited.
  const gone = spawn(process.execPath, ['-e', '0'])
  await new Promise((resolve) => gone.once('exit', resolve))
  writeFileSync(runtimeRecordFile(dataDir), JSON.stringify(record(gone.pid!, '1')), {mode: 0o600})
  let r = await runBin('run', ['status', '--json'], {dataDir})
  assert.equal(r.code, 15)
  assert.match(JSON.parse(r.stdout).reason, /is gone/)

  // A pid reused by another program: a live process (sleep) whose start time differs from the record's.
  const other = spawn('sleep', ['60'])
  t.after(() => other.kill('SIGKILL'))
  writeFileSync(runtimeRecordFile(dataDir), JSON.stringify(record(other.pid!, '1')), {mode: 0o600})
  r = await runBin('run', ['status'], {dataDir})
  assert.equal(r.code, 15)
  assert.match(r.stdout, /not running.*another program/)
  r = await runBin('run', ['stop'], {dataDir})
  assert.equal(r.code, 15)
  assert.match(r.stderr, /nothing was signalled/)
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(other.exitCode, null)
  assert.equal(other.signalCode, null)

  // Not ours: a symlink, and a file that is not a record. One line, exit 16, nothing changed.
  const before = 'not a record'
  writeFileSync(runtimeRecordFile(dataDir), before)
  r = await runBin('run', ['status'], {dataDir})
  assert.equal(r.code, 16)
  assert.equal(r.stderr.trim().split('\n').length, 1)
  assert.equal(readFileSync(runtimeRecordFile(dataDir), 'utf8'), before)
  const elsewhere = join(tempDir(t), 'daemon.json')
  writeFileSync(elsewhere, JSON.stringify(record(other.pid!, null)))
  await run('rm', [runtimeRecordFile(dataDir)])
  symlinkSync(elsewhere, runtimeRecordFile(dataDir))
  r = await runBin('run', ['stop'], {dataDir})
  assert.equal(r.code, 16)
  assert.match(r.stderr, /not a regular file/)
  r = await runBin('oauth-generate-client', ['--name', 'y'], {dataDir})
  assert.equal(r.code, 16)
  assert.equal(JSON.parse((await runBin('oauth-list-clients', ['--json'], {dataDir})).stdout).length, 0)
  await until(() => other.exitCode === null, 'sleep still alive')
})
