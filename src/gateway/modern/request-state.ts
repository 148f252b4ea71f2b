/**
 * `requestState` as the gateway mints it for a multi round-trip request (MCP 2026-07-28
 * basic-patterns-mrtr §Server Requirements, 4 and 5): an HMAC-SHA256 over what it continues,
 * with a key of this daemon's, so no client can forge or alter one; bound to the OAuth client,
 * the method and target of the request, and an expiry, so no other client can use it and it
 * cannot be moved to another request. Single use is enforced by the store that holds the
 * parked request (input-required.ts), as the spec asks of state that must be consumed once.
 *
 * Format: base64url(JSON payload) "." base64url(HMAC). Opaque to clients.
 */
import {createHmac, timingSafeEqual} from 'node:crypto'

export interface StatePayload {
  /** The parked request's id in the store (128 random bits). */
  i: string
  /** The OAuth client it belongs to. */
  c: string
  /** The method and target (tool/prompt name, resource URI; null for none) of the request it continues. */
  m: string
  n: string | null
  /** Expiry, ms since the epoch. */
  e: number
  /**
   * A 2026-07-28 child's own requestState, carried inside the gateway's (input-required.ts
   * sealChildState): the child's InputRequiredResult passes to the caller as is, its state
   * bound to the client and request by the gateway's seal. Absent for the gateway's own states.
   */
  s?: string
  /**
   * The node (--node-id) holding the parked request, when several daemons share a store: a
   * retry that reaches another node is forwarded there (input-required.ts ParkedElsewhere).
   */
  o?: string
}

/** The longest state accepted (a child's own state rides inside; base64url grows it by a third). */
export const MAX_STATE_CHARS = 64 * 1024

/** A sealer for one daemon key (at least 32 bytes). */
export function createStateSealer(key: Uint8Array) {
  if (key.byteLength < 32) throw new Error('the requestState key must have at least 32 bytes')
  const mac = (data: string) => createHmac('sha256', key).update(data).digest()
  return {
    seal(payload: StatePayload): string {
      const data = Buffer.from(JSON.stringify(payload)).toString('base64url')
      return `${data}.${mac(data).toString('base64url')}`
    },
    /** The payload of a state this daemon sealed, or undefined (malformed, altered, or another key's). */
    open(state: string): StatePayload | undefined {
      if (state.length > MAX_STATE_CHARS) return undefined
      const dot = state.indexOf('.')
      if (dot <= 0 || dot !== state.lastIndexOf('.')) return undefined
      const data = state.slice(0, dot)
      const given = Buffer.from(state.slice(dot + 1), 'base64url')
      const expected = mac(data)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
      let p: unknown
      try {
        p = JSON.parse(Buffer.from(data, 'base64url').toString('utf8'))
      } catch {
        return undefined
      }
      const o = p as Partial<StatePayload>
      if (typeof o !== 'object' || o === null || typeof o.i !== 'string' || typeof o.c !== 'string' || typeof o.m !== 'string' || (o.n !== null && typeof o.n !== 'string') || typeof o.e !== 'number' || (o.s !== undefined && typeof o.s !== 'string') || (o.o !== undefined && typeof o.o !== 'string')) return undefined
      return o as StatePayload
    },
  }
}
