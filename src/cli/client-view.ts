import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'
import type {ClientRecord} from '../store/types.js'
import {terminalText} from './terminal-text.js'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** The JSON shape of a client in `oauth-list-clients --json` (CONTRACT.md). Never a secret or its hash. */
export function clientJson(c: ClientRecord) {
  return {
    client_id: c.id,
    name: c.name,
    description: c.description,
    scopes: c.scopes,
    grant_types: c.grantTypes,
    created_at: iso(c.createdAt),
    last_used_at: iso(c.lastUsedAt),
    revoked_at: iso(c.revokedAt),
    status: c.revokedAt === null ? ('active' as const) : ('revoked' as const),
    registration: c.registration,
    token_endpoint_auth_method: c.authMethod,
    redirect_uris: c.redirectUris,
    access_token_lifetime: c.accessTokenTtl,
  }
}

const day = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().slice(0, 16).replace('T', ' '))

export function clientsTable(clients: ClientRecord[], c: ChalkInstance): string {
  const table = new Table({
    head: ['Client ID', 'Name', 'Scopes', 'Grants', 'Created (UTC)', 'Last used', 'Status'].map((h) => c.bold(h)),
    style: {head: [], border: []},
    wordWrap: true,
  })
  for (const k of clients) {
    // Names, ids (a metadata document's URL) and scopes of registered clients are theirs: escaped.
    const name = k.registration === 'cli' ? terminalText(k.name) : `${terminalText(k.name)}\n${c.dim(`(${k.registration === 'dynamic' ? 'registered' : 'metadata document'})`)}`
    table.push([
      terminalText(k.id),
      name,
      terminalText(k.scopes.join(' ')) || '-',
      k.grantTypes.map(terminalText).join('\n'),
      day(k.createdAt),
      day(k.lastUsedAt),
      k.revokedAt === null ? c.green('active') : c.red('revoked'),
    ])
  }
  return table.toString()
}
