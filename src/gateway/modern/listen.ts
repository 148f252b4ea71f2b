/**
 * `subscriptions/listen` (MCP 2026-07-28 basic-patterns-subscriptions): one long-lived POST
 * response stream per listener, carrying only the change notifications it opted into, each
 * tagged with `_meta["io.modelcontextprotocol/subscriptionId"]` = the listen request's id. The
 * first message is `notifications/subscriptions/acknowledged` with the filter the gateway
 * honours (types the child does not support are left out). Its resource subscriptions reach
 * the child as `resources/subscribe`, reference counted across sessions and listeners
 * (child-subscriptions.ts). It ends when the client closes the stream, when its access is
 * revoked, or when the gateway stops (then with a graceful `complete` response, §Graceful
 * Closure). While idle it carries a keep-alive comment every `keepAliveMs` (sse.ts), so that a
 * proxy's idle read timeout does not cut it.
 */
import type {ServerResponse} from 'node:http'
import type {Principal} from '../../principal/principal.js'
import type {ChangeListener} from '../change-listener.js'
import {ErrorCode, isId, paramsOf, type JsonRpcId, type JsonRpcMessage} from '../json-rpc.js'
import type {Multiplexer} from '../multiplexer.js'
import {DEFAULT_MAX_UNSENT_BYTES, SseStream} from '../sse.js'
import {refuse400, SUBSCRIPTION_ID_META} from './envelope.js'

/** How many resource URIs one listener may subscribe to. */
export const MAX_LISTEN_URIS = 256

export interface ListenFilter {
  toolsListChanged?: boolean
  promptsListChanged?: boolean
  resourcesListChanged?: boolean
  resourceSubscriptions?: string[]
}

const FLAGS: ReadonlyArray<[keyof ListenFilter, string]> = [
  ['toolsListChanged', 'notifications/tools/list_changed'],
  ['promptsListChanged', 'notifications/prompts/list_changed'],
  ['resourcesListChanged', 'notifications/resources/list_changed'],
]

/** The filter of a listen request; throws Refusal (400, -32602) for a malformed one. */
export function readFilter(msg: JsonRpcMessage): ListenFilter {
  const n = paramsOf(msg)?.notifications
  if (n === undefined) return {}
  if (typeof n !== 'object' || n === null || Array.isArray(n)) throw refuse400(msg, ErrorCode.InvalidParams, 'Invalid params: notifications must be an object')
  const o = n as Record<string, unknown>
  const filter: ListenFilter = {}
  for (const [key] of FLAGS) {
    const v = o[key]
    if (v === undefined) continue
    if (typeof v !== 'boolean') throw refuse400(msg, ErrorCode.InvalidParams, `Invalid params: notifications.${key} must be a boolean`)
    ;(filter as Record<string, unknown>)[key] = v
  }
  const uris = o.resourceSubscriptions
  if (uris !== undefined) {
    if (!Array.isArray(uris) || uris.some((u) => typeof u !== 'string')) throw refuse400(msg, ErrorCode.InvalidParams, 'Invalid params: notifications.resourceSubscriptions must be an array of strings')
    if (uris.length > MAX_LISTEN_URIS) throw refuse400(msg, ErrorCode.InvalidParams, `Invalid params: at most ${MAX_LISTEN_URIS} resourceSubscriptions`)
    filter.resourceSubscriptions = uris as string[]
  }
  return filter
}

/** The part of `filter` a child with these capabilities can honour (§Acknowledgment). */
export function honoured(filter: ListenFilter, capabilities: Record<string, unknown> | undefined): ListenFilter {
  const cap = (k: string) => capabilities?.[k] as Record<string, unknown> | undefined
  const out: ListenFilter = {}
  if (filter.toolsListChanged && cap('tools')?.listChanged === true) out.toolsListChanged = true
  if (filter.promptsListChanged && cap('prompts')?.listChanged === true) out.promptsListChanged = true
  if (filter.resourcesListChanged && cap('resources')?.listChanged === true) out.resourcesListChanged = true
  if (filter.resourceSubscriptions && cap('resources')?.subscribe === true) out.resourceSubscriptions = [...new Set(filter.resourceSubscriptions)]
  return out
}

export class Listener implements ChangeListener {
  readonly uris: ReadonlySet<string>
  private readonly methods = new Set<string>()
  private readonly stream: SseStream
  private readonly idJson: string
  ended = false

  constructor(
    readonly id: JsonRpcId,
    readonly filter: ListenFilter,
    readonly principal: Principal,
    readonly mux: Multiplexer,
    res: ServerResponse,
    private readonly onEnd: (listener: Listener) => void,
    maxUnsentBytes = DEFAULT_MAX_UNSENT_BYTES,
    /** Keep-alive comment interval (ms) while the stream is idle (sse.ts); 0: none. */
    keepAliveMs = 0,
  ) {
    if (!isId(id)) throw new Error('a listener needs a request id')
    this.idJson = JSON.stringify(id)
    this.uris = new Set(filter.resourceSubscriptions ?? [])
    for (const [key, method] of FLAGS) if (filter[key]) this.methods.add(method)
    this.stream = new SseStream(1, undefined, maxUnsentBytes, undefined, keepAliveMs)
    this.stream.attach(res)
    res.once('close', () => this.end(false))
    this.send({jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: {_meta: {[SUBSCRIPTION_ID_META]: id}, notifications: filter}})
    mux.addListener(this)
  }

  get clientId(): string {
    return this.principal.clientId
  }

  wants(method: string, uri?: string): boolean {
    if (method === 'notifications/resources/updated') return uri !== undefined && this.uris.has(uri)
    return this.methods.has(method)
  }

  deliver(msg: JsonRpcMessage): void {
    const params = paramsOf(msg) ?? {}
    const meta = typeof params._meta === 'object' && params._meta !== null ? (params._meta as Record<string, unknown>) : {}
    this.send({jsonrpc: '2.0', method: msg.method, params: {...params, _meta: {...meta, [SUBSCRIPTION_ID_META]: this.id}}})
  }

  /** Ends the subscription: `graceful` sends its completion response first (§Graceful Closure). */
  end(graceful: boolean): void {
    if (this.ended) return
    this.ended = true
    this.mux.removeListener(this)
    if (graceful) this.stream.send(`{"jsonrpc":"2.0","id":${this.idJson},"result":{"resultType":"complete","_meta":{"${SUBSCRIPTION_ID_META}":${this.idJson}}}}`)
    this.stream.end()
    this.onEnd(this)
  }

  private send(msg: unknown): void {
    this.stream.send(JSON.stringify(msg))
  }
}
