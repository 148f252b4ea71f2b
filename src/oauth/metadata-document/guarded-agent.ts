import {lookup as dnsLookup, type LookupAddress} from 'node:dns'
import type {LookupFunction} from 'node:net'
import {Agent, buildConnector} from 'undici'
import {isNonPublicAddress} from './address-policy.js'

export class BlockedAddressError extends Error {
  constructor(readonly address: string) {
    super(`refusing to connect to the non-public address ${address}`)
  }
}

/**
 * An undici Agent that will not connect to non-public addresses unless told to. The rule is
 * enforced twice on the address actually used, so DNS rebinding (a name that resolves to a public
 * address when checked and to 127.0.0.1 when connecting) cannot get around it:
 * - in the resolver handed to the socket, before connecting: every resolved address must pass;
 * - after connecting, on the socket's remote address (also covers IP-literal hosts).
 */
export function createGuardedAgent({
  allowNonPublic,
  connectTimeoutMs,
  headersTimeoutMs,
  bodyTimeoutMs,
  lookup = dnsLookup as unknown as LookupFunction,
  ca,
}: {
  allowNonPublic: boolean
  connectTimeoutMs: number
  headersTimeoutMs: number
  bodyTimeoutMs: number
  /** The resolver (injectable for tests). */
  lookup?: LookupFunction
  /** Extra trusted CA certificates (tests); the daemon uses the system store and NODE_EXTRA_CA_CERTS. */
  ca?: string | undefined
}): Agent {
  const guardedLookup: LookupFunction = (hostname, options, callback) => {
    lookup(hostname, {...options, all: true}, (error, addresses) => {
      if (error) return (callback as (e: Error) => void)(error)
      const list = (Array.isArray(addresses) ? addresses : [{address: addresses as unknown as string, family: 4}]) as LookupAddress[]
      const bad = allowNonPublic ? undefined : list.find((a) => isNonPublicAddress(a.address))
      if (bad) return (callback as (e: Error) => void)(new BlockedAddressError(bad.address))
      if ((options as {all?: boolean}).all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list)
      ;(callback as (e: null, a: string, f: number) => void)(null, list[0]!.address, list[0]!.family)
    })
  }
  const connector = buildConnector({timeout: connectTimeoutMs, lookup: guardedLookup, ...(ca ? {ca} : {})})
  return new Agent({
    headersTimeout: headersTimeoutMs,
    bodyTimeout: bodyTimeoutMs,
    connections: 4,
    pipelining: 0,
    connect(options, callback) {
      connector(options, (error, socket) => {
        if (error || !socket) return callback(error ?? new Error('no socket'), null)
        const remote = socket.remoteAddress ?? ''
        if (!allowNonPublic && isNonPublicAddress(remote)) {
          socket.destroy()
          return callback(new BlockedAddressError(remote), null)
        }
        callback(null, socket)
      })
    },
  })
}
