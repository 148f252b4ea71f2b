/**
 * The scope policy (CONTRACT.md "Policy file"): which scopes a tool, resource or prompt needs.
 * Rules are tried in file order and the first match wins; `default` covers what no rule matches.
 */
export type PolicyKind = 'tools' | 'resources' | 'prompts'

export const KINDS: PolicyKind[] = ['tools', 'resources', 'prompts']

export interface Rule {
  pattern: string
  matcher: RegExp
  scopes: string[]
  /**
   * Who may use what the rule matches (issue 17), when the rule says: user names (or ids) and
   * roles; a caller who is none of them is refused whatever their scopes. A client acting for
   * itself (client credentials) is no user and has no role.
   */
  users?: string[]
  roles?: string[]
}

/** The person behind a call, as the policy sees them. */
export interface PolicyPerson {
  id: string
  name: string
  role: string
}

export interface Policy {
  readonly rules: Record<PolicyKind, Rule[]>
  readonly defaultScopes: string[]
  /**
   * Scopes needed (all of them) for this name; [] when none. A resource URI must be in its
   * normal form (normalizeResourceUri): the rules' patterns are.
   */
  required(kind: PolicyKind, name: string): readonly string[]
  /** Whether `person` (undefined: no person, client credentials) may use this name at all; the first matching rule decides. */
  permits(kind: PolicyKind, name: string, person: PolicyPerson | undefined): boolean
  /** Every scope the policy names, for scopes_supported. */
  scopes(): string[]
}

/** A policy problem, with the line it is on (1-based) when known. */
export class PolicyError extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${reason}` : reason)
  }
}

/** No policy: every valid token may use everything. */
export const openPolicy: Policy = buildPolicy({tools: [], resources: [], prompts: []}, [])

export function buildPolicy(rules: Record<PolicyKind, Rule[]>, defaultScopes: string[]): Policy {
  const all = new Set(defaultScopes)
  for (const kind of KINDS) for (const r of rules[kind]) for (const s of r.scopes) all.add(s)
  const named = [...all]
  return {
    rules,
    defaultScopes,
    required(kind, name) {
      for (const r of rules[kind]) if (r.matcher.test(name)) return r.scopes
      return defaultScopes
    },
    permits(kind, name, person) {
      for (const r of rules[kind]) {
        if (!r.matcher.test(name)) continue
        if (r.users === undefined && r.roles === undefined) return true
        if (person === undefined) return false
        return Boolean(r.users?.includes(person.name) || r.users?.includes(person.id) || r.roles?.includes(person.role))
      }
      return true
    },
    scopes: () => named,
  }
}

/** The scopes in `required` that the token lacks. */
export function missingScopes(required: readonly string[], held: readonly string[]): string[] {
  return required.filter((s) => !held.includes(s))
}
