import type {IncomingMessage, ServerResponse} from 'node:http'
import type {RequestContext} from '../http/router.js'
import type {AuditRecord, Store} from '../store/types.js'
import {auditRowJson, type ActivityFilter} from './activity-page.js'
import type {AuditFeed} from './audit-feed.js'

/**
 * GET <console>/activity/events: the audit trail as server-sent events (HTML Living Standard,
 * "Server-sent events"), for the Activity page's live view. Each event is one `audit` message
 * whose `id` is the audit row's id (so a reconnecting EventSource resumes after it with
 * Last-Event-ID) and whose data is one line of JSON (JSON escapes CR and LF, so no value can
 * end a field or forge another event). First what happened after `after`, then new events as
 * the feed sees them, filtered like the page. At most `maxViewers` streams at once (503 beyond).
 */
export function createLiveEvents({
  store,
  feed,
  names,
  readFilter,
  maxViewers,
  heartbeatMs = 15_000,
}: {
  store: Store
  feed: AuditFeed
  names: () => Promise<Map<string, string>>
  readFilter: (q: URLSearchParams) => ActivityFilter
  maxViewers: number
  heartbeatMs?: number
}) {
  let open = 0
  return async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> => {
    if (open >= maxViewers) {
      res.writeHead(503, {'Retry-After': '10', 'Cache-Control': 'no-store', 'Content-Type': 'text/plain'}).end('too many live views are open')
      return
    }
    const filter = readFilter(ctx.url.searchParams)
    const resume = Number(req.headers['last-event-id'] ?? ctx.url.searchParams.get('after') ?? 0)
    let last = Number.isSafeInteger(resume) && resume > 0 ? resume : 0
    const matches = (r: AuditRecord) =>
      (filter.client === undefined || r.clientId === filter.client) && (filter.event === undefined || r.event === filter.event) && (filter.outcome === undefined || r.outcome === filter.outcome)
    let known = await names()
    const send = async (rows: AuditRecord[]) => {
      const fresh = rows.filter((r) => r.id > last && matches(r))
      if (fresh.length === 0) return
      if (fresh.some((r) => r.clientId !== null && !known.has(r.clientId))) known = await names()
      let out = ''
      for (const r of fresh) {
        out += `id: ${r.id}\nevent: audit\ndata: ${JSON.stringify(auditRowJson(r, known))}\n\n`
        last = Math.max(last, r.id)
      }
      res.write(out)
    }
    open++
    res.writeHead(200, {'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no'})
    res.write('retry: 2000\n\n')
    // Deliveries are chained, so rows go out in id order even when a name lookup awaits; live
    // batches wait until the backlog is out.
    let chain = Promise.resolve()
    const deliver = (rows: AuditRecord[]) => {
      chain = chain.then(() => send(rows)).catch(() => void res.destroy())
    }
    let backlogDone = false
    const queued: AuditRecord[][] = []
    let unsubscribe: () => void = () => {}
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs)
    heartbeat.unref()
    let closed = false
    res.once('close', () => {
      closed = true
      open--
      clearInterval(heartbeat)
      unsubscribe()
    })
    const stop = await feed.subscribe((rows) => (backlogDone ? deliver(rows) : void queued.push(rows)))
    if (closed) return stop()
    unsubscribe = stop
    // The backlog after subscribing: nothing falls between it and the feed (ids seen twice are dropped).
    for (let after = last; ; ) {
      const rows = await store.audit.query({afterId: after, clientId: filter.client, event: filter.event, outcome: filter.outcome, limit: 500})
      deliver(rows)
      if (rows.length < 500 || closed) break
      after = rows[rows.length - 1]!.id
    }
    backlogDone = true
    for (const rows of queued.splice(0)) deliver(rows)
  }
}
