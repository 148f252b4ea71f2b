import {existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ECHO_ARGV, NODE, ROOT} from '../lib/paths.js'
import {freePort, runSync, start, waitForPort, type Started} from '../lib/proc.js'
import {basicAuth, checkTokenReply, get, pool, post} from '../lib/http.js'
import {ECHO_CHILD, type ChildSpec} from '../lib/children.js'
import type {Gateway, System, TokenServer} from './types.js'

/**
 * Gatehouse through its public contract only (shared/CONTRACT.md): the `oauth-server` and
 * `oauth-generate-client` executables of this checkout, a data dir of its own per start.
 */
const SERVER_SRC = join(ROOT, 'src', 'commands', 'oauth-server.ts')
const SERVER_DIST = join(ROOT, 'dist', 'commands', 'oauth-server.js')
export const BIN = (name: string) => join(ROOT, 'bin', `${name}.js`)

/**
 * Quiet logs (the peers run with logging off too); signing keys in the temporary data dir, never
 * the OS keychain. Built at each use, after run.ts has cleaned the environment.
 */
const env = () => ({...process.env, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_NO_KEYCHAIN: '1', NO_COLOR: '1'})

export function gatehouseUnavailable(): string | undefined {
  if (!existsSync(SERVER_SRC) && !existsSync(SERVER_DIST)) {
    return 'not available: this checkout has no oauth-server command yet (merge main once the daemon lands)'
  }
  return undefined
}

function newestMtime(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return t
}

let helpText: string | undefined
/** Whether this checkout's daemon has the MCP gateway (its help lists --isolation). */
export function gatewayUnavailable(): string | undefined {
  const why = gatehouseUnavailable()
  if (why) return why
  ensureBuilt()
  helpText ??= runSync(NODE, [BIN('oauth-server'), '--help'], {env: env()}).stdout
  return helpText.includes('--isolation')
    ? undefined
    : 'not available: the oauth-server in this checkout has no MCP gateway yet (merge main once it lands)'
}

let built = false
/** Builds dist/ when it is missing or older than src/ (the executables run dist/). */
export function ensureBuilt(): void {
  if (built) return
  const stale = !existsSync(SERVER_DIST) || statSync(SERVER_DIST).mtimeMs < newestMtime(join(ROOT, 'src'))
  if (stale) {
    process.stderr.write('bench: building gatehouse (npm run build)...\n')
    const r = runSync('npm', ['run', 'build'], {cwd: ROOT, timeoutMs: 300000})
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`)
    // tsc is incremental: it leaves an unchanged output's mtime alone, so a checkout whose
    // sources are newer than their (unchanged) outputs would rebuild on every run. Mark it built.
    const now = new Date()
    utimesSync(SERVER_DIST, now, now)
  }
  built = true
}

const dataDirs: string[] = []
export function newDataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  dataDirs.push(d)
  return d
}
export function removeDataDirs(): void {
  for (const d of dataDirs.splice(0)) rmSync(d, {recursive: true, force: true})
}

export interface Credentials {
  client_id: string
  client_secret: string
}

export function generateClient(dataDir: string, name: string): Credentials {
  const r = runSync(NODE, [BIN('oauth-generate-client'), '--name', name, '--data-dir', dataDir, '--json'], {env: env()})
  if (r.status !== 0) throw new Error(`oauth-generate-client failed: ${r.stderr.trim()}`)
  const j = JSON.parse(r.stdout) as Credentials
  if (!j.client_id || !j.client_secret) throw new Error(`oauth-generate-client printed no credentials: ${r.stdout}`)
  return j
}

export interface Daemon {
  port: number
  pid: number
  dataDir: string
  stop(): Promise<void>
}

/**
 * Extra Node flags for the daemon, read at each start: BENCH_GATEHOUSE_NODE_FLAGS="--cpu-prof
 * --cpu-prof-dir=DIR" (what `npm run bench -- --cpu-prof` sets). The daemon writes its profile when
 * it exits after SIGTERM (its graceful stop), which is how the bench stops it.
 */
const nodeFlags = () => (process.env.BENCH_GATEHOUSE_NODE_FLAGS ?? '').split(' ').filter(Boolean)

/** Starts oauth-server; with `child`, gating that stdio server (the echo server by default). */
export async function startDaemon(dataDir: string, isolation?: string, child: string[] | null = ECHO_ARGV): Promise<Daemon> {
  ensureBuilt()
  const port = await freePort()
  const args = [...nodeFlags(), BIN('oauth-server'), '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir]
  if (isolation) args.push('--isolation', isolation)
  if (child) args.push('--', ...child)
  const proc = start(NODE, args, {env: env()})
  await waitForPort(port, proc, 30000)
  await waitReady(port, proc)
  return {port, pid: proc.pid, dataDir, stop: () => proc.stop()}
}

export const TOKEN_PATH = '/oauth/token'
export const TOKEN_BODY = 'grant_type=client_credentials&scope=mcp'

export function tokenHeaders(c: Credentials): Record<string, string> {
  return {authorization: basicAuth(c.client_id, c.client_secret), 'content-type': 'application/x-www-form-urlencoded'}
}

export async function fetchToken(port: number, c: Credentials): Promise<string> {
  const p = pool(port, 1)
  try {
    return checkTokenReply(await post(p.conn(0), TOKEN_PATH, tokenHeaders(c), TOKEN_BODY))
  } finally {
    p.close()
  }
}

/**
 * Waits until a daemon that listens also serves. It listens before it is ready (it needs its
 * port for the issuer) and answers 503 until its store, keys and child are up; on a busy machine
 * that outlasts waitForPort. `GET /healthz` answers 200 once it serves. Bounded by `timeoutMs`.
 */
export async function waitReady(port: number, started: Started, timeoutMs = 30000): Promise<void> {
  const p = pool(port, 1)
  const deadline = Date.now() + timeoutMs
  try {
    for (;;) {
      const r = await get(p.conn(0), '/healthz').catch(() => undefined)
      if (r?.status === 200) return
      if (Date.now() > deadline) throw new Error(`gatehouse on port ${port} did not become ready within ${timeoutMs} ms: ${started.output().slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    p.close()
  }
}

export interface GatehouseTokenOptions {
  /** Called with the data dir after the benchmark client exists and before the daemon starts. */
  prepare?: (dataDir: string) => void
}

export const gatehouseTokens: System<TokenServer> = {
  name: 'gatehouse',
  unavailable: gatehouseUnavailable,
  async start(options?: GatehouseTokenOptions) {
    ensureBuilt()
    const dataDir = newDataDir()
    const creds = generateClient(dataDir, 'bench')
    options?.prepare?.(dataDir)
    const d = await startDaemon(dataDir, undefined, null)
    return {
      name: 'gatehouse',
      port: d.port,
      pid: d.pid,
      path: TOKEN_PATH,
      headers: tokenHeaders(creds),
      body: TOKEN_BODY,
      stop: d.stop,
    }
  },
}

export const gatehouseGateway: System<Gateway> = {
  name: 'gatehouse',
  unavailable: gatewayUnavailable,
  async start(options?: {isolation?: string; child?: ChildSpec}) {
    ensureBuilt()
    const dataDir = newDataDir()
    const creds = generateClient(dataDir, 'bench')
    const d = await startDaemon(dataDir, options?.isolation, (options?.child ?? ECHO_CHILD).argv)
    const bearer = await fetchToken(d.port, creds)
    let n = 0
    return {
      name: 'gatehouse',
      port: d.port,
      pid: d.pid,
      path: '/mcp',
      bearer,
      newClient: async () => fetchToken(d.port, generateClient(dataDir, `bench-${++n}`)),
      stop: d.stop,
    }
  },
}
