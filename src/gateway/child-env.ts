/**
 * The environment a child starts with (DESIGN.md principle 8, "the child is a guest"): nothing
 * of the daemon's own environment but PATH, HOME, the locale and TZ, then what the operator
 * passed with --env, then the gateway's own GATEHOUSE_* description of the client. The client's
 * bearer token is never part of it.
 */
const inherited = new Set(['PATH', 'HOME', 'LANG', 'TZ'])

export interface ChildIdentity {
  clientId: string
  scopes: readonly string[]
}

export function childEnv(
  parent: NodeJS.ProcessEnv,
  extra: Record<string, string>,
  identity: ChildIdentity | undefined,
  own: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue
    if (inherited.has(key) || key.startsWith('LC_')) env[key] = value
  }
  Object.assign(env, extra, own)
  if (identity) {
    env.GATEHOUSE_CLIENT_ID = identity.clientId
    env.GATEHOUSE_SCOPES = identity.scopes.join(' ')
  } else {
    delete env.GATEHOUSE_CLIENT_ID
    delete env.GATEHOUSE_SCOPES
  }
  return env
}
