/**
 * The environment a child starts with (DESIGN.md principle 8, "the child is a guest"): nothing
 * of the daemon's own environment but PATH, HOME, the locale and TZ, then what the operator
 * passed with --env, then the gateway's own GATEHOUSE_* description of the client. The client's
 * bearer token is never part of it.
 *
 * GATEHOUSE_SCOPES is the scopes the CLIENT is registered for (issue 11, item 28), never those
 * of a token or a session: one child serves every session of its client, each under its own
 * token, so no session's scopes can describe the child. The gateway enforces each session's
 * scopes on every message; a child may use the variable only as the client's ceiling (e.g. to
 * not offer tools the client can never use), never as a grant.
 */
const inherited = new Set(['PATH', 'HOME', 'LANG', 'TZ'])

export interface ChildIdentity {
  clientId: string
  /** The client's registered scopes; undefined: GATEHOUSE_SCOPES is not set. */
  clientScopes: readonly string[] | undefined
  /**
   * The person the child serves in `--isolation user` (issue 17): GATEHOUSE_USER_ID, their stable
   * id. Then GATEHOUSE_CLIENT_ID is not set: every client of that person shares the child.
   */
  userId?: string | undefined
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
  delete env.GATEHOUSE_USER_ID
  if (identity?.userId !== undefined) {
    env.GATEHOUSE_USER_ID = identity.userId
    delete env.GATEHOUSE_CLIENT_ID
    delete env.GATEHOUSE_SCOPES
  } else if (identity) {
    env.GATEHOUSE_CLIENT_ID = identity.clientId
    if (identity.clientScopes) env.GATEHOUSE_SCOPES = identity.clientScopes.join(' ')
    else delete env.GATEHOUSE_SCOPES
  } else {
    delete env.GATEHOUSE_CLIENT_ID
    delete env.GATEHOUSE_SCOPES
  }
  return env
}
