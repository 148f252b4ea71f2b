import type {Actor} from '../audit/actor.js'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ClientAdmin} from '../clients/admin.js'
import type {Clock} from '../clock.js'
import type {StatusReport} from '../daemon/status-report.js'
import {residentBytes} from '../daemon/process-identity.js'
import {GatehouseError} from '../errors.js'
import type {ChildSnapshot} from '../gateway/gateway.js'
import {readParams} from '../http/body.js'
import type {Handler, RequestContext, Route} from '../http/router.js'
import type {Logger} from '../log.js'
import type {createConsentAdmin} from '../owner/consents.js'
import type {Store} from '../store/types.js'
import {activityPage, auditRowJson, type ActivityFilter} from './activity-page.js'
import {assetHandlers} from './assets.js'
import {createAuditFeed} from './audit-feed.js'
import {usageChart} from './chart.js'
import {clientsPage, confirmPage, createdPage} from './clients-page.js'
import type {ConsoleLogin, ConsoleUser} from './console-login.js'
import {healthPage} from './health-page.js'
import {csrfField, escapeHtml, foreign, layout, sendHtml, type Tab} from './html.js'
import {createLiveEvents} from './live-events.js'
import {usageByClient, usageSeries} from './usage.js'
import {disableUserPage, usersPage} from './users-page.js'
import type {UserAdmin} from '../users/user-admin.js'

export interface ConsoleDeps {
  /** Where the console lives, e.g. "/console" (see consolePath). */
  base: string
  issuer: string
  login: ConsoleLogin
  store: Store
  clock: Clock
  logger: Logger
  admin: ClientAdmin
  consents: ReturnType<typeof createConsentAdmin>
  /** People (src/users/user-admin.ts): the Users page disables and enables through it, as `gatehouse users disable` does. */
  users: UserAdmin
  gateway: {snapshot(): {sessions: Array<{clientId: string}>; children: ChildSnapshot[]}}
  /** What `gatehouse status` reports (src/daemon/status-report.ts). */
  status(): Promise<StatusReport>
  /** Largest form body, bytes. */
  maxBodyBytes?: number
  /** Live activity views open at once (server-sent events); more get 503. */
  maxLiveViewers?: number
  /** How often the live view looks for new audit events, ms. */
  pollMs?: number
}

const RESERVED = ['/oauth', '/mcp', '/.well-known', '/token', '/authorize', '/register', '/healthz']

/**
 * Checks a --console-path: an absolute path of plain segments, not one the daemon already serves.
 * Returns it without a trailing slash. Throws INVALID_INPUT otherwise.
 */
export function consolePath(path: string): string {
  const p = path.replace(/\/+$/, '')
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(p) || p.split('/').some((s) => s === '.' || s === '..')) {
    throw new GatehouseError('INVALID_INPUT', `--console-path ${JSON.stringify(path)} must be a path such as /console (letters, digits, . _ ~ - between slashes)`)
  }
  if (RESERVED.some((r) => p === r || p.startsWith(`${r}/`))) throw new GatehouseError('INVALID_INPUT', `--console-path ${p} is already served by the daemon`)
  return p
}

/** A refusal shown as a console page (not a JSON error): status, title, text. */
class ConsolePageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail)
  }
}

const filterValue = (v: string | null) => (v === null || v === '' ? undefined : v.slice(0, 300))

/**
 * The owner's console (issue 16): Clients, Activity and Health pages behind the owner's login.
 * Only a signed-in browser session reaches a page; every change is a POST carrying the session's
 * CSRF token; a request carrying any Authorization header (a client's bearer token) is refused,
 * so no token issued here ever opens the console. Pages send a CSP without inline script or
 * style and refuse framing (html.ts PAGE_HEADERS).
 */
export function createConsole(deps: ConsoleDeps): {routes: Route[]; close(): void} {
  const {base, login, store, clock} = deps
  const maxBody = deps.maxBodyBytes ?? 16 * 1024
  /** The signed-in owner as the actor of what they do here (audit: method console). */
  const actorOf = (user: ConsoleUser): Actor => ({method: 'console', subject: user.subject, name: user.name})
  const feed = createAuditFeed({store, logger: deps.logger, intervalMs: deps.pollMs ?? 250})
  const page = (res: ServerResponse, status: number, title: string, tab: Tab | null, user: ConsoleUser | null, body: string, headers: Record<string, string | string[]> = {}) =>
    sendHtml(res, status, layout({base, title, tab, csrf: user?.csrf ?? null, body, who: user?.name}), headers)

  type Authed = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, user: ConsoleUser) => Promise<void> | void
  type Change = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, user: ConsoleUser, form: Map<string, string>) => Promise<void> | void

  /** The console's error mapping: its refusals and the admin services' errors as pages. */
  const mapped =
    (h: Handler): Handler =>
    async (req, res, ctx) => {
      try {
        // A bearer token (or any other Authorization) never authenticates to the console.
        if (req.headers.authorization !== undefined) throw new ConsolePageError(401, 'Not accepted here', 'The console takes the owner’s login in the browser, never a client’s token.')
        await h(req, res, ctx)
      } catch (error) {
        if (error instanceof ConsolePageError) return page(res, error.status, error.title, null, null, `<h1>${escapeHtml(error.title)}</h1><p class="error">${escapeHtml(error.detail)}</p><p><a href="${escapeHtml(`${base}/clients`)}">Back to the console</a></p>`, error.headers)
        throw error
      }
    }
  const signedIn = (h: Authed): Handler =>
    mapped(async (req, res, ctx) => {
      const user = await login.current(req)
      if (!user) {
        if (req.method === 'GET' || req.method === 'HEAD') return void res.writeHead(303, {Location: `${base}/login`, 'Cache-Control': 'no-store'}).end()
        throw new ConsolePageError(401, 'Not logged in', 'Log in to the console first.')
      }
      await h(req, res, ctx, user)
    })
  /** A change: signed in, a form body, and the session's CSRF token (synchronizer token pattern; OWASP CSRF cheat sheet). */
  const change = (h: Change): Handler =>
    signedIn(async (req, res, ctx, user) => {
      const form = await readParams(req, maxBody)
      if (!(await login.csrfMatches(req, form.get('csrf_token')))) throw new ConsolePageError(403, 'Request refused', 'The form could not be verified (CSRF token). Reload the page and try again.')
      try {
        await h(req, res, ctx, user, form)
      } catch (error) {
        if (error instanceof GatehouseError) {
          const status = error.code === 'NOT_FOUND' ? 404 : error.code === 'CONFLICT' ? 409 : 400
          throw new ConsolePageError(status, 'Not done', error.message)
        }
        throw error
      }
    })

  // --- login ---------------------------------------------------------------------------------
  const loginPage = (csrf: string, error?: string, refusedUser?: string) =>
    `<h1>Console login</h1>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}${
      refusedUser ? `<p class="warn" role="status">You are signed in as ${foreign(refusedUser)}, a member: the console is for owners.</p>` : ''
    }
<form method="post" action="${escapeHtml(`${base}/login`)}" class="login">${csrfField(csrf)}
<label for="username">User name <small>(empty: the owner's password of <code>gatehouse owner set-password</code>)</small></label><input id="username" name="username" autocomplete="username" maxlength="64" autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Log in</button></form>${
      login.upstream
        ? `<p class="upstream"><a class="button" href="${escapeHtml(`${base}/login/upstream`)}">${escapeHtml(login.upstream.label)}</a></p>`
        : ''
    }<p class="note">Owners only: members approve their clients on the consent page and see their approvals at <code>/oauth/account</code>.</p>`
  const getLogin: Handler = mapped(async (req, res, ctx) => {
    if (await login.current(req)) return void res.writeHead(303, {Location: `${base}/clients`, 'Cache-Control': 'no-store'}).end()
    const form = await login.form(req, ctx.remoteAddress)
    page(res, 200, 'Log in', null, null, loginPage(form.csrf, undefined, form.refusedUser), form.setCookie ? {'Set-Cookie': form.setCookie} : {})
  })
  const postLogin: Handler = mapped(async (req, res, ctx) => {
    const fields = await readParams(req, maxBody)
    const result = await login.logIn(req, ctx.remoteAddress, {csrf: fields.get('csrf_token'), password: fields.get('password') ?? '', username: fields.get('username')})
    if (result.ok) return void res.writeHead(303, {Location: `${base}/clients`, 'Cache-Control': 'no-store', ...(result.cookies.length ? {'Set-Cookie': result.cookies} : {})}).end()
    const form = await login.form(req, ctx.remoteAddress)
    const headers: Record<string, string> = result.retryAfter ? {'Retry-After': String(result.retryAfter)} : {}
    if (form.setCookie) headers['Set-Cookie'] = form.setCookie
    page(res, result.status, 'Log in', null, null, loginPage(form.csrf, result.message), headers)
  })
  const getUpstreamLogin: Handler = mapped(async (req, res) => {
    if (!login.upstream) throw new ConsolePageError(404, 'Not configured', 'Upstream sign-in is not configured on this server.')
    await login.upstream.start(req, res, `${deps.issuer}${base}/clients`)
  })
  const postLogout = change(async (req, res) => {
    const cookies = await login.logOut(req)
    res.writeHead(303, {Location: `${base}/login`, 'Cache-Control': 'no-store', 'Set-Cookie': cookies}).end()
  })

  // --- clients -------------------------------------------------------------------------------
  const clientsView = async (user: ConsoleUser, showRevoked: boolean, extra: {notice?: string; error?: string; form?: Record<string, string>} = {}) => {
    const now = clock.now()
    const [clients, usage, consents] = await Promise.all([store.clients.list({includeRevoked: showRevoked}), usageByClient(store, now - 3600_000), deps.consents.list({includeRevoked: false})])
    const snap = deps.gateway.snapshot()
    const sessions = new Map<string, number>()
    for (const s of snap.sessions) sessions.set(s.clientId, (sessions.get(s.clientId) ?? 0) + 1)
    const status = await deps.status()
    const lastSeen = new Map(status.clients.map((c) => [c.client_id, c.last_used_at ? Date.parse(c.last_used_at) : null]))
    const rows = clients.map((client) => ({
      client,
      sessions: sessions.get(client.id) ?? 0,
      lastHour: usage.get(client.id) ?? {calls: 0, refusals: 0},
      lastUsedAt: Math.max(client.lastUsedAt ?? 0, lastSeen.get(client.id) ?? 0) || null,
    }))
    return clientsPage({base, csrf: user.csrf, rows, consents, showRevoked, ...extra})
  }
  const getClients = signedIn(async (_req, res, ctx, user) => {
    const q = ctx.url.searchParams
    const notice = q.get('revoked') ? `Client ${q.get('revoked')} was revoked: it gets no new token, and the ones it holds are refused from now on.` : q.get('consent') ? `The approvals of ${q.get('consent')} were revoked.` : undefined
    page(res, 200, 'Clients', 'clients', user, await clientsView(user, q.get('all') === '1', {notice: notice?.slice(0, 400)}))
  })
  const createClient = change(async (_req, res, _ctx, user, form) => {
    const grant = form.get('grant_type') === 'authorization_code' ? 'authorization_code' : 'client_credentials'
    const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean)
    try {
      const {client, secret} = await deps.admin.generate({
        name: form.get('name') ?? '',
        description: form.get('description') || undefined,
        scopes: words(form.get('scopes')),
        grantTypes: grant === 'authorization_code' ? ['authorization_code', 'refresh_token'] : ['client_credentials'],
        redirectUris: words(form.get('redirect_uris')),
        authMethod: 'client_secret_basic',
      }, actorOf(user))
      page(res, 201, 'Client created', 'clients', user, createdPage({base, issuer: deps.issuer, client, secret}))
    } catch (error) {
      if (!(error instanceof GatehouseError)) throw error
      const status = error.code === 'CONFLICT' ? 409 : 400
      page(res, status, 'Clients', 'clients', user, await clientsView(user, false, {error: error.message, form: Object.fromEntries([...form].filter(([k]) => k !== 'csrf_token'))}))
    }
  })
  const confirmRevoke = signedIn(async (_req, res, ctx, user) => {
    const c = await store.clients.findById(ctx.url.searchParams.get('client_id') ?? '')
    if (!c) throw new ConsolePageError(404, 'No such client', 'That client does not exist.')
    if (c.revokedAt !== null) throw new ConsolePageError(409, 'Already revoked', `That client was revoked at ${new Date(c.revokedAt).toISOString()}.`)
    page(res, 200, 'Revoke a client', 'clients', user, confirmPage({
      base,
      csrf: user.csrf,
      action: `${base}/clients/revoke`,
      clientId: c.id,
      title: `Revoke ${foreign(c.name)}?`,
      detail: `<code>${foreign(c.id, 'ltr')}</code> will get no new token, and every token it holds is refused from its next request on; its open sessions end. This cannot be undone.`,
      button: 'Revoke this client',
      reason: true,
    }))
  })
  const revokeClient = change(async (_req, res, _ctx, user, form) => {
    if (form.get('confirm') !== 'yes') throw new ConsolePageError(400, 'Not confirmed', 'Confirm the revocation on its page.')
    const reason = (form.get('reason') ?? '').trim().slice(0, 500) || undefined
    const id = form.get('client_id') ?? ''
    // By id only: a name could match another client than the one confirmed.
    if (!(await store.clients.findById(id))) throw new ConsolePageError(404, 'No such client', 'That client does not exist.')
    const c = await deps.admin.revoke(id, {by: user.subject, reason}, actorOf(user))
    res.writeHead(303, {Location: `${base}/clients?${new URLSearchParams({revoked: c.id})}`, 'Cache-Control': 'no-store'}).end()
  })
  const confirmConsent = signedIn(async (_req, res, ctx, user) => {
    const id = ctx.url.searchParams.get('client_id') ?? ''
    const c = await store.clients.findById(id)
    if (!c) throw new ConsolePageError(404, 'No such client', 'That client does not exist.')
    page(res, 200, 'Revoke approvals', 'clients', user, confirmPage({
      base,
      csrf: user.csrf,
      action: `${base}/consents/revoke`,
      clientId: c.id,
      title: `Revoke your approvals of ${foreign(c.name)}?`,
      detail: `The grants made under them end: <code>${foreign(c.id, 'ltr')}</code> must ask you again on the consent page.`,
      button: 'Revoke the approvals',
      reason: false,
    }))
  })
  const revokeConsent = change(async (_req, res, _ctx, user, form) => {
    if (form.get('confirm') !== 'yes') throw new ConsolePageError(400, 'Not confirmed', 'Confirm on the confirmation page.')
    const id = form.get('client_id') ?? ''
    if (!(await store.clients.findById(id))) throw new ConsolePageError(404, 'No such client', 'That client does not exist.')
    const r = await deps.consents.revoke(id, {}, actorOf(user))
    res.writeHead(303, {Location: `${base}/clients?${new URLSearchParams({consent: r.clientId})}`, 'Cache-Control': 'no-store'}).end()
  })

  // --- users ---------------------------------------------------------------------------------
  const userRows = async () => {
    const [users, identities, consents] = await Promise.all([deps.users.list(), store.users.identityCounts(), store.consents.list({includeRevoked: false})])
    const approved = new Map<string, number>()
    for (const c of consents) approved.set(c.subject, (approved.get(c.subject) ?? 0) + 1)
    return users.map((user) => ({user, identities: identities.get(user.id) ?? 0, consents: approved.get(user.id) ?? 0}))
  }
  const getUsers = signedIn(async (_req, res, ctx, user) => {
    const q = ctx.url.searchParams
    const notice = q.get('disabled') ? `${q.get('disabled')} was disabled: their approvals and grants are revoked.` : q.get('enabled') ? `${q.get('enabled')} may sign in again.` : undefined
    page(res, 200, 'Users', 'users', user, usersPage({base, csrf: user.csrf, me: user.subject, rows: await userRows(), notice: notice?.slice(0, 200)}))
  })
  /** The user a form names, by id only (a name could have been given to someone else since the page was drawn). */
  const namedUser = async (id: string) => {
    const u = id.startsWith('usr_') ? await store.users.findById(id) : undefined
    if (!u) throw new ConsolePageError(404, 'No such user', 'That user does not exist.')
    return u
  }
  const confirmDisableUser = signedIn(async (_req, res, ctx, user) => {
    const u = await namedUser(ctx.url.searchParams.get('user_id') ?? '')
    if (u.disabledAt !== null) throw new ConsolePageError(409, 'Already disabled', `${u.name} is already disabled.`)
    if (u.id === user.subject) throw new ConsolePageError(409, 'Not yourself', 'You cannot disable yourself here: you would lock yourself out of the console. Ask another owner, or use gatehouse users disable.')
    const consents = (await store.consents.list({includeRevoked: false, subject: u.id})).length
    page(res, 200, 'Disable a user', 'users', user, disableUserPage({base, csrf: user.csrf, user: u, consents}))
  })
  const disableUser = change(async (_req, res, _ctx, user, form) => {
    if (form.get('confirm') !== 'yes') throw new ConsolePageError(400, 'Not confirmed', 'Confirm on the confirmation page.')
    const u = await namedUser(form.get('user_id') ?? '')
    if (u.id === user.subject) throw new ConsolePageError(409, 'Not yourself', 'You cannot disable yourself here: you would lock yourself out of the console.')
    // The same service as `gatehouse users disable`: one transaction revokes their consents and
    // grants; every daemon on this store hears it through the change feed.
    await deps.users.disable(u.id, actorOf(user))
    res.writeHead(303, {Location: `${base}/users?${new URLSearchParams({disabled: u.name})}`, 'Cache-Control': 'no-store'}).end()
  })
  const enableUser = change(async (_req, res, _ctx, user, form) => {
    const u = await namedUser(form.get('user_id') ?? '')
    await deps.users.enable(u.id, actorOf(user))
    res.writeHead(303, {Location: `${base}/users?${new URLSearchParams({enabled: u.name})}`, 'Cache-Control': 'no-store'}).end()
  })

  // --- activity ------------------------------------------------------------------------------
  const names = async () => new Map((await store.clients.list({includeRevoked: true})).map((c) => [c.id, c.name]))
  const readFilter = (q: URLSearchParams): ActivityFilter => ({client: filterValue(q.get('client')), event: filterValue(q.get('event')), outcome: filterValue(q.get('outcome'))})
  const charts = async (clientIds: string[], all: Map<string, string>) => {
    const now = clock.now()
    const out: string[] = []
    for (const id of clientIds) {
      const [hour, day] = await Promise.all([
        usageSeries(store, {clientId: id, now, slotMs: 60_000, slots: 60}),
        usageSeries(store, {clientId: id, now, slotMs: 30 * 60_000, slots: 48}),
      ])
      out.push(`<section class="client-charts"><h3>${foreign(all.get(id) ?? id)} <code>${foreign(id, 'ltr')}</code></h3><div class="charts">
${usageChart({series: hour, label: 'last hour, per minute', from: '60 min ago', to: 'now'})}${usageChart({series: day, label: 'last day, per 30 minutes', from: '24 h ago', to: 'now'})}</div></section>`)
    }
    return out.length ? `<h2>Calls and refusals</h2>${out.join('')}` : ''
  }
  const getActivity = signedIn(async (_req, res, ctx, user) => {
    const filter = readFilter(ctx.url.searchParams)
    const all = await names()
    const records = await store.audit.query({clientId: filter.client, event: filter.event, outcome: filter.outcome, newestFirst: true, limit: 200})
    // Charts: the client filtered on, else the ten busiest clients of the last day.
    let chartIds: string[]
    if (filter.client) chartIds = [filter.client]
    else {
      const usage = await usageByClient(store, clock.now() - 86_400_000)
      chartIds = [...usage].sort((a, b) => b[1].calls + b[1].refusals - (a[1].calls + a[1].refusals)).slice(0, 10).map(([id]) => id)
    }
    const q = new URLSearchParams()
    if (filter.client) q.set('client', filter.client)
    if (filter.event) q.set('event', filter.event)
    if (filter.outcome) q.set('outcome', filter.outcome)
    q.set('after', String(records[0]?.id ?? (await store.audit.query({newestFirst: true, limit: 1}))[0]?.id ?? 0))
    page(res, 200, 'Activity', 'activity', user, activityPage({
      base,
      filter,
      clients: [...all].map(([id, name]) => ({id, name})),
      rows: records.map((r) => auditRowJson(r, all)),
      charts: await charts(chartIds, all),
      feed: `${base}/activity/events?${q}`,
    }))
  })
  const live = createLiveEvents({store, feed, names, readFilter, maxViewers: deps.maxLiveViewers ?? 20})
  const getEvents = signedIn((req, res, ctx) => live(req, res, ctx))

  // --- health --------------------------------------------------------------------------------
  const getHealth = signedIn(async (_req, res, _ctx, user) => {
    const now = clock.now()
    const [report, keys, storeOk, all, people] = await Promise.all([deps.status(), store.signingKeys.list(), store.ping().then(() => true, () => false), names(), store.users.list()])
    const userNames = new Map(people.map((u) => [u.id, u.name]))
    const children = await Promise.all(
      deps.gateway.snapshot().children.map(async (c) => ({
        ...c,
        rss: await residentBytes(c.pid),
        uptimeSeconds: Math.max(0, (now - c.startedAt) / 1000),
        clientName: c.clientId === null ? null : (all.get(c.clientId) ?? null),
        userName: c.userId === null ? null : (userNames.get(c.userId) ?? null),
      })),
    )
    page(res, 200, 'Health', 'health', user, healthPage({
      report,
      children,
      keys: keys.map((k) => ({kid: k.kid, alg: k.alg, createdAt: k.createdAt, retiredAt: k.retiredAt, verifyUntil: k.verifyUntil, ageSeconds: Math.max(0, (now - k.createdAt) / 1000)})),
      storeOk,
    }))
  })

  const home = signedIn((_req, res) => void res.writeHead(303, {Location: `${base}/clients`, 'Cache-Control': 'no-store'}).end())
  const assets = assetHandlers()
  const r = (method: Route['method'], path: string, handler: Handler): Route => ({method, path: `${base}${path}`, cors: 'none', handler})
  const routes: Route[] = [
    r('GET', '', home),
    r('GET', '/', home),
    r('GET', '/login', getLogin),
    r('POST', '/login', postLogin),
    r('GET', '/login/upstream', getUpstreamLogin),
    r('POST', '/logout', postLogout),
    r('GET', '/clients', getClients),
    r('POST', '/clients/create', createClient),
    r('GET', '/clients/revoke', confirmRevoke),
    r('POST', '/clients/revoke', revokeClient),
    r('GET', '/consents/revoke', confirmConsent),
    r('POST', '/consents/revoke', revokeConsent),
    r('GET', '/users', getUsers),
    r('GET', '/users/disable', confirmDisableUser),
    r('POST', '/users/disable', disableUser),
    r('POST', '/users/enable', enableUser),
    r('GET', '/activity', getActivity),
    r('GET', '/activity/events', getEvents),
    r('GET', '/health', getHealth),
    ...[...assets].map(([file, handler]) => r('GET', `/assets/${file}`, handler)),
  ]
  return {routes, close: () => feed.close()}
}
