/**
 * The gateway's children: which child a caller goes to (by isolation mode), starting one when
 * needed under `maxChildren` (stopping the longest-idle one to make room), stopping idle ones,
 * and what `gatehouse status` shows of them. Each child is a Multiplexer (multiplexer.ts).
 *
 * Limits (issue 11, item 13): at most `maxChildren` processes at once, children being stopped
 * aside; a child with a session being started on it, or requests in flight, is not idle (item 19).
 */
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {Principal} from '../principal/principal.js'
import {childEnv, type ChildIdentity} from './child-env.js'
import type {ChildRegistry} from './child-registry.js'
import {defaultServerSpec} from './default-server.js'
import {Multiplexer, type MultiplexerOptions} from './multiplexer.js'
import type {Session} from './session.js'

export type Isolation = 'client' | 'session' | 'shared' | 'user'

/** Child processes at once when GatewayLimits.maxChildren is not set. */
export const DEFAULT_MAX_CHILDREN = 100
/** How long (ms) a child may take to answer initialize when GatewayLimits.initializeTimeoutMs is not set. */
export const DEFAULT_INITIALIZE_TIMEOUT_MS = 30_000

/** A running child as `snapshot()` shows it. `restarts`: children started before it for the same client (or the shared one). */
export interface ChildSnapshot {
  pid: number
  /** The client it serves; null for the `shared` child and for a person's child (`--isolation user`). */
  clientId: string | null
  /** The person it serves in `--isolation user` (their stable id), else null. */
  userId: string | null
  startedAt: number
  restarts: number
  stderr: string[]
}

/**
 * Which child a session of `principal` goes to. `client`: one per OAuth client; `session`: a fresh
 * key each time (a child per session); `shared`: one for all; `user` (issue 17): one per person,
 * so all of that person's clients share it. A token with no person (client credentials) keeps a
 * child per client in `user` mode: it never joins anyone's.
 */
export function isolationKey(isolation: Isolation, principal: Principal, next: () => number): string {
  switch (isolation) {
    case 'client':
      return `client:${principal.clientId}`
    case 'shared':
      return 'shared'
    case 'session':
      return `session:${next()}`
    case 'user':
      return principal.user ? `user:${principal.user.id}` : `client:${principal.clientId}`
  }
}

/**
 * What the child is told about whom it serves (child-env.ts): nothing in `shared`; in `user`
 * mode, the person (never a token) and, as the client, the one whose session started it (all of
 * that person's clients share the child, so no client's scopes describe it: none are given).
 */
function childIdentity(isolation: Isolation, principal: Principal): ChildIdentity | undefined {
  if (isolation === 'shared') return undefined
  if (isolation === 'user' && principal.user) return {clientId: principal.clientId, clientScopes: undefined, userId: principal.user.id}
  // The client's registered scopes, not this token's: the child outlives the token (child-env.ts).
  return {clientId: principal.clientId, clientScopes: principal.clientScopes}
}

export interface ChildPoolOptions {
  isolation: Isolation
  /** The stdio MCP server to gate; undefined = the bundled @modelcontextprotocol/server-memory. */
  command: {command: string; args: string[]} | undefined
  dataDir: string
  /** --env KEY=VALUE pass-through for children. */
  env: Record<string, string>
  /** The daemon's environment, from which PATH, HOME, locale and TZ pass to children. */
  parentEnv: NodeJS.ProcessEnv
  maxChildren: number
  /** How long (ms) an idle child of `client`/`user`/`shared` isolation is kept (`session`: none). */
  childIdleTimeoutMs: number
  /** SIGTERM to SIGKILL (ms). */
  killGraceMs: number
  registry: ChildRegistry
  logger: Logger
  clock: Clock
  /** Timeouts and hooks every child gets (requestTimeoutMs, discoverTimeoutMs, onInputRequired, ...). */
  child: Pick<MultiplexerOptions, 'maxLineBytes' | 'requestTimeoutMs' | 'initializeTimeoutMs' | 'discoverTimeoutMs' | 'onInputRequired'>
  /** The child has exited: these sessions of it must be ended. */
  onChildExit(sessions: Session[]): void
}

/** The children of one gateway (see the file comment): `claim`, `sweep`, `retireRevoked`, `stopAll`, and views for status. */
export function createChildPool(options: ChildPoolOptions) {
  const {isolation, dataDir, logger, clock} = options
  const multiplexers = new Map<string, Multiplexer>()
  /** Every multiplexer whose child may still be running, in the map or not (stopping, failed). */
  const live = new Set<Multiplexer>()
  const origins = new WeakMap<Multiplexer, {clientId: string | null; userId: string | null; startedAt: number; restarts: number}>()
  /** Children started per client (or for the shared one), for `restarts`; bounded by the clients seen. */
  const starts = new Map<string, number>()
  let childSeq = 0
  /** The principal of each child's latest caller: what revocation is judged on once no session holds the child (2026 requests have none). */
  const lastCaller = new WeakMap<Multiplexer, Principal>()

  function spawnFor(key: string, principal: Principal): Multiplexer {
    const identity = childIdentity(isolation, principal)
    let spec: {command: string; args: string[]; env: Record<string, string>}
    let prepare: (() => Promise<void>) | undefined
    if (options.command === undefined) {
      spec = defaultServerSpec(dataDir, identity === undefined ? undefined : identity.userId !== undefined ? {userId: identity.userId} : identity.clientId)
      prepare = async () => void (await mkdir(join(dataDir, 'memory'), {recursive: true, mode: 0o700}))
    } else {
      spec = {...options.command, env: {}}
    }
    const tag = `${identity === undefined ? 'shared' : (identity.userId ?? identity.clientId)}#${++childSeq}`
    const mux = new Multiplexer({
      ...options.child,
      tag,
      spec: {command: spec.command, args: spec.args, env: childEnv(options.parentEnv, options.env, identity, spec.env)},
      prepare,
      shared: isolation === 'shared',
      logger,
      clock,
      registry: options.registry,
      killGraceMs: options.killGraceMs,
      onExit(mux, attached) {
        live.delete(mux)
        if (multiplexers.get(key) === mux) multiplexers.delete(key)
        // The child is gone: its sessions end, and their ids answer 404 from now on.
        options.onChildExit(attached)
      },
    })
    const startKey = isolation === 'shared' ? '' : (identity?.userId ?? principal.clientId)
    const started = starts.get(startKey) ?? 0
    starts.set(startKey, started + 1)
    origins.set(mux, {clientId: identity === undefined || identity.userId !== undefined ? null : principal.clientId, userId: identity?.userId ?? null, startedAt: clock.now(), restarts: isolation === 'session' ? 0 : started})
    return mux
  }

  /** Stops a child that is no longer in the map (idle, revoked, or making room). */
  function retire(key: string, mux: Multiplexer, why: string): void {
    if (multiplexers.get(key) === mux) multiplexers.delete(key)
    logger.info(why, {pid: mux.pid})
    void mux.stop(options.killGraceMs)
  }

  /** Makes room for one more child under maxChildren by stopping the longest-idle one; false if none is idle. */
  function makeRoomForChild(now: number): boolean {
    let oldest: [string, Multiplexer] | undefined
    for (const entry of multiplexers) {
      const mux = entry[1]
      if (mux.dead || !mux.idleLongerThan(now, 0)) continue
      if (oldest === undefined || mux.idleSince! < oldest[1].idleSince!) oldest = entry
    }
    if (oldest === undefined) return false
    retire(oldest[0], oldest[1], 'stopping an idle child to make room for another')
    return true
  }

  /**
   * The child a new caller of this principal goes to, claimed (the idle sweep leaves it alone
   * until `release`); started if need be. `modern`: for 2026 requests, which have no session, so
   * in `session` isolation one child serves a client's 2026 requests. Undefined when a new child
   * would exceed maxChildren and no idle one can make room.
   */
  function claim(principal: Principal, modern = false): {mux: Multiplexer; release: () => void} | undefined {
    const key = modern && isolation === 'session' ? `modern:${principal.clientId}` : isolationKey(isolation, principal, () => ++childSeq)
    let mux = multiplexers.get(key)
    if (mux === undefined || mux.dead) {
      let running = 0
      for (const m of multiplexers.values()) if (!m.dead) running++
      if (running >= options.maxChildren && !makeRoomForChild(clock.now())) return undefined
      mux = spawnFor(key, principal)
      multiplexers.set(key, mux)
      live.add(mux)
      const created = mux
      created.ready.catch(() => {
        if (multiplexers.get(key) === created) multiplexers.delete(key)
      })
    }
    lastCaller.set(mux, principal)
    return {mux, release: mux.claim()}
  }

  /** Times out overdue requests on every child, and stops the children idle long enough. */
  function sweep(now: number): void {
    for (const [key, mux] of multiplexers) {
      mux.sweep(now)
      const idleFor = isolation === 'session' ? 0 : options.childIdleTimeoutMs
      // Not while a session is being started on it (item 19), nor with requests in flight.
      if (mux.idleLongerThan(now, idleFor)) retire(key, mux, 'stopping an idle child')
    }
  }

  /** Stops the child of `session` if revocation left it without sessions and idle. */
  function retireRevoked(session: Session): void {
    for (const [key, mux] of multiplexers) {
      if (mux === session.host && mux.sessions.size === 0 && mux.idleLongerThan(clock.now(), 0)) retire(key, mux, 'stopping the child of revoked access')
    }
  }

  /**
   * Stops each child that no session holds, has nothing in flight, and whose latest caller's
   * access `revoked` says is withdrawn (a reason string; undefined: still valid). This is how the
   * child of a client that only sent 2026-07-28 requests (no session to end) stops at revocation
   * rather than at its idle timeout. Not in `shared` isolation (the caller checks).
   */
  async function retireUnattendedRevoked(revoked: (principal: Principal) => Promise<string | undefined>): Promise<void> {
    for (const [key, mux] of [...multiplexers]) {
      const principal = lastCaller.get(mux)
      if (principal === undefined || mux.sessions.size > 0 || !mux.idleLongerThan(clock.now(), 0)) continue
      if ((await revoked(principal)) === undefined) continue
      // Judged after an await: only if it is still that child, and still unattended.
      if (multiplexers.get(key) === mux && mux.sessions.size === 0 && mux.idleLongerThan(clock.now(), 0)) retire(key, mux, 'stopping the child of revoked access')
    }
  }

  /** Stops every child, whatever its state (starting, in use, failed, already stopping): SIGTERM, SIGKILL after killGraceMs. */
  async function stopAll(): Promise<void> {
    const all = [...live]
    multiplexers.clear()
    await Promise.all(all.map((m) => m.stop(options.killGraceMs)))
  }

  return {
    claim,
    sweep,
    retireRevoked,
    retireUnattendedRevoked,
    stopAll,
    /** Children in use (not dead). */
    running: (): number => [...multiplexers.values()].filter((m) => !m.dead).length,
    /** Every child process still running: in use, starting, failed and being stopped. */
    pids: (): number[] => [...live].flatMap((m) => (m.pid !== undefined && m.running ? [m.pid] : [])),
    snapshot: (): ChildSnapshot[] =>
      [...multiplexers.values()].flatMap((m) => {
        const origin = origins.get(m)
        return m.pid !== undefined && !m.dead && origin ? [{pid: m.pid, ...origin, stderr: m.stderrTail}] : []
      }),
  }
}

export type ChildPool = ReturnType<typeof createChildPool>
