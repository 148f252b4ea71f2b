import {GatehouseError} from '../errors.js'
import type {ClientRecord} from '../store/types.js'

/**
 * How a client came to be, for people reading CLI output: null for one the owner created with
 * the CLI, else a mark ("registered": RFC 7591 dynamic registration; "metadata document": a
 * client ID metadata document). Self-registered clients choose their own names, so wherever a
 * name is shown beside an owner's client it carries this mark.
 */
export function registrationMark(client: Pick<ClientRecord, 'registration'>): string | null {
  if (client.registration === 'cli') return null
  return client.registration === 'dynamic' ? 'registered' : 'metadata document'
}

/** `name (mark, id)`, the way commands name a client they act on. */
export const describeClient = (c: Pick<ClientRecord, 'name' | 'id' | 'registration'>) => {
  const mark = registrationMark(c)
  return `${c.name} (${mark ? `${mark}, ` : ''}${c.id})`
}

/**
 * The client a name given on the command line means, among `candidates` (the clients carrying
 * that exact name). Owner-created clients are looked at first and alone: anyone may register a
 * client under any name (RFC 7591 §2 `client_name` is the client's own claim), so a registered
 * client must never shadow, nor make ambiguous, the owner's own `oauth-revoke-client victim`.
 * Only when no owner-created client has the name are registered ones considered; several of them
 * is a CONFLICT that lists their ids, marked. Undefined when there is no candidate.
 */
export function pickByName(candidates: readonly ClientRecord[], name: string): ClientRecord | undefined {
  const own = candidates.filter((c) => c.registration === 'cli')
  const pool = own.length > 0 ? own : candidates
  if (pool.length <= 1) return pool[0]
  throw new GatehouseError(
    'CONFLICT',
    `${pool.length} clients are named ${JSON.stringify(name)}; give the client id (${pool.map((c) => `${c.id}${registrationMark(c) ? ` [${registrationMark(c)}]` : ''}`).join(', ')})`,
  )
}
