/**
 * Test harness for the gateway: real ES256-signed JWTs checked by a real verifier (jose), a real
 * node:http server on a free loopback port, and the official MCP SDK client.
 */
import {readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type {ClientCapabilities} from '@modelcontextprotocol/sdk/types.js'
import {generateKeyPair, jwtVerify, SignJWT, type CryptoKey} from 'jose'
import {randomUUID} from 'node:crypto'
import {systemClock, type Clock} from '../../src/clock.js'
import {memoryLogger} from '../../src/log.js'
import {createGateway, type Gateway, type GatewayLimits, type GatewayOptions} from '../../src/gateway/gateway.js'
import {InvalidTokenError, type Principal, type TokenVerifier} from '../../src/principal/principal.js'
import {repoRoot} from './cli.js'
import {tempDir} from './tmp.js'

export const fixture = (name: string) => join(repoRoot, 'test', 'fixtures', name)
export const testServerCommand = (...extra: string[]) => ({command: process.execPath, args: [fixture('mcp-test-server.mjs'), ...extra]})

export interface TestAuth {
  verifier: TokenVerifier
  sign(clientId: string, options?: {scope?: string; audience?: string; expiresIn?: string}): Promise<string>
}

export async function createTestAuth(resource: string): Promise<TestAuth> {
  const {privateKey, publicKey}: {privateKey: CryptoKey; publicKey: CryptoKey} = await generateKeyPair('ES256')
  const issuer = new URL(resource).origin
  return {
    async sign(clientId, {scope = 'mcp', audience = resource, expiresIn = '5m'} = {}) {
      return new SignJWT({client_id: clientId, scope})
        .setProtectedHeader({alg: 'ES256', typ: 'at+jwt'})
        .setIssuer(issuer)
        .setSubject(clientId)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .setJti(randomUUID())
        .sign(privateKey)
    },
    verifier: {
      async verify(token): Promise<Principal> {
        try {
          const {payload} = await jwtVerify(token, publicKey, {issuer, typ: 'at+jwt', algorithms: ['ES256']})
          return {
            clientId: String(payload.client_id),
            clientName: String(payload.client_id),
            subject: String(payload.sub),
            scopes: String(payload.scope ?? '').split(' ').filter(Boolean),
            audience: Array.isArray(payload.aud) ? String(payload.aud[0]) : String(payload.aud),
            tokenId: String(payload.jti),
            expiresAt: (payload.exp ?? 0) * 1000,
          }
        } catch (error) {
          throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token')
        }
      },
    },
  }
}

export const defaultLimits: GatewayLimits = {
  maxSessions: 50,
  sessionIdleTimeoutMs: 30 * 60_000,
  childIdleTimeoutMs: 5 * 60_000,
  maxLineBytes: 1024 * 1024,
  maxBodyBytes: 1024 * 1024,
  replayBufferEvents: 100,
  killGraceMs: 2000,
}

export interface Harness {
  url: URL
  resource: string
  gateway: Gateway
  auth: TestAuth
  logger: ReturnType<typeof memoryLogger>
  dataDir: string
  server: Server
  token(clientId: string, scope?: string): Promise<string>
  connect(clientId: string, options?: ConnectOptions): Promise<Client>
  close(): Promise<void>
}

export interface ConnectOptions {
  capabilities?: ClientCapabilities
  token?: string
}

export async function startHarness(
  t: TestContext,
  overrides: Partial<Omit<GatewayOptions, 'limits'>> & {limits?: Partial<GatewayLimits>; clock?: Clock} = {},
): Promise<Harness> {
  const dataDir = overrides.dataDir ?? tempDir(t, 'gatehouse-gw-')
  const logger = memoryLogger()
  let gateway: Gateway | undefined
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/mcp') return void gateway!.handle(req, res)
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, {'content-type': 'application/json'})
      return void res.end(JSON.stringify(gateway!.protectedResourceMetadata()))
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const base = `http://127.0.0.1:${port}`
  const resource = `${base}/mcp`
  const auth = await createTestAuth(resource)
  const {limits, ...rest} = overrides
  gateway = createGateway({
    verifier: auth.verifier,
    resource,
    resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp`,
    authorizationServers: [base],
    scopesSupported: ['mcp'],
    command: testServerCommand(),
    isolation: 'client',
    env: {},
    logger,
    clock: systemClock,
    ...rest,
    dataDir,
    limits: {...defaultLimits, ...limits},
  })
  const clients: Client[] = []
  let closed = false
  const harness: Harness = {
    url: new URL(resource),
    resource,
    gateway,
    auth,
    logger,
    dataDir,
    server,
    token: (clientId, scope) => auth.sign(clientId, {scope: scope ?? 'mcp'}),
    async connect(clientId, options = {}) {
      const token = options.token ?? (await harness.token(clientId))
      const client = new Client({name: `test-${clientId}`, version: '1.0.0'}, {capabilities: options.capabilities ?? {}})
      const transport = new StreamableHTTPClientTransport(harness.url, {
        requestInit: {headers: {authorization: `Bearer ${token}`}},
        reconnectionOptions: {maxReconnectionDelay: 100, initialReconnectionDelay: 10, reconnectionDelayGrowFactor: 1, maxRetries: 0},
      })
      client.onerror = () => {}
      await client.connect(transport)
      clients.push(client)
      return client
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.allSettled(clients.map((c) => c.close()))
      await gateway!.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  t.after(() => harness.close())
  return harness
}

/** True while a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A zombie (exited, not yet reaped by whoever inherited it once its daemon was gone) still
  // answers signal 0 but runs nothing: /proc/<pid>/stat's state (field 3) is Z.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

/** Resolves when `check` holds, polling on setImmediate (no fixed sleeps); rejects after `limit` tries. */
export async function until(check: () => boolean | Promise<boolean>, what: string, limit = 200_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await check()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`timed out waiting for: ${what}`)
}

export const textOf = (result: unknown): string => {
  const content = (result as {content?: Array<{type: string; text?: string}>}).content ?? []
  return content.map((c) => c.text ?? '').join('')
}
