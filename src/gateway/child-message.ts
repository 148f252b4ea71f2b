/**
 * What counts as a message on the child's stdout. Only a JSON object with `"jsonrpc": "2.0"` and
 * the shape of a request, notification or response is a JSON-RPC message (JSON-RPC 2.0 §4, §4.1,
 * §5, §5.1; MCP 2025-11-25 schema: ids are strings or numbers, params an object). Anything else a
 * child writes (log lines such as `{"level":"info","msg":"handling","id":1}`, banners, a batch)
 * is noise: logged, bounded, without its content, and dropped, as the official SDK's stdio client
 * does (its ReadBuffer validates each line against the JSON-RPC schema and reports the rest as
 * errors). Noise never answers a request and is never forwarded.
 */
import type {Logger} from '../log.js'
import type {JsonRpcMessage} from './json-rpc.js'

export type ChildMessage =
  | {kind: 'request'; msg: JsonRpcMessage}
  | {kind: 'notification'; msg: JsonRpcMessage}
  | {kind: 'response'; msg: JsonRpcMessage}
  | {kind: 'noise'; reason: string; keys: string[]}

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isRequestId = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))

/** The top-level key names of a value, at most 8 of 32 characters each: what a log may show. */
function keysOf(value: unknown): string[] {
  if (!isObject(value)) return []
  return Object.keys(value)
    .slice(0, 8)
    .map((k) => k.slice(0, 32).replace(/[^\x20-\x7e]/g, '?'))
}

/** Classifies one parsed line from the child (the result of JSON.parse). */
export function classifyChildMessage(value: unknown): ChildMessage {
  const noise = (reason: string): ChildMessage => ({kind: 'noise', reason, keys: keysOf(value)})
  if (Array.isArray(value)) return noise('a batch (not used by MCP since 2025-06-18)')
  if (!isObject(value)) return noise('not a JSON object')
  if (value.jsonrpc !== '2.0') return noise('no "jsonrpc": "2.0" member')
  const msg = value as JsonRpcMessage
  const hasResult = has(value, 'result')
  const hasError = has(value, 'error')
  if (has(value, 'method')) {
    // §4: a request or a notification; it carries no result or error.
    if (typeof msg.method !== 'string') return noise('method is not a string')
    if (hasResult || hasError) return noise('a request with a result or error')
    if (msg.params !== undefined && !isObject(msg.params)) return noise('params is not an object')
    if (!has(value, 'id')) return {kind: 'notification', msg}
    if (!isRequestId(msg.id)) return noise('a request id that is not a string or number')
    return {kind: 'request', msg}
  }
  // §5: exactly one of result and error; the id of the request (null only for an error the
  // server could not attribute).
  if (hasResult === hasError) return noise(hasResult ? 'both result and error' : 'neither method, result nor error')
  if (!has(value, 'id')) return noise('a response without an id')
  if (hasError) {
    // §5.1: an error object with an integer code and a string message.
    const error = msg.error
    if (!isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') return noise('a malformed error object')
    if (msg.id !== null && !isRequestId(msg.id)) return noise('a response id that is not a string, number or null')
    return {kind: 'response', msg}
  }
  if (!isRequestId(msg.id)) return noise('a response id that is not a string or number')
  return {kind: 'response', msg}
}

/**
 * Logs noise from one child without letting it flood the daemon's log: the first `first` lines
 * each (reason, byte count and key names, never content: a log line may hold secrets), then one
 * summary line per `every` further lines.
 */
export function createNoiseLog(logger: Logger, tag: string, {first = 20, every = 1000}: {first?: number; every?: number} = {}) {
  let count = 0
  return function noise(reason: string, bytes: number, keys: string[] = []): void {
    count++
    if (count <= first) {
      logger.warn('child wrote a line that is not a JSON-RPC message; dropped', {child: tag, reason, bytes, keys: keys.join(',')})
    } else if (count % every === 0) {
      logger.warn('child keeps writing lines that are not JSON-RPC messages; dropped', {child: tag, dropped_so_far: count})
    }
  }
}
