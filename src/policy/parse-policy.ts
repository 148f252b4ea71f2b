import {LineCounter, parseDocument, isMap, isScalar, isSeq, type Node} from 'yaml'
import {isScopeToken} from '../clients/validate.js'
import {compileGlob, GlobError} from './glob.js'
import {normalizeResourcePattern} from './resource-uri.js'
import {buildPolicy, KINDS, openPolicy, PolicyError, type Policy, type PolicyKind, type Rule} from './policy.js'

/** Parses and checks a policy document (YAML, or JSON, which YAML reads too). */
export function parsePolicy(text: string): Policy {
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, uniqueKeys: true, prettyErrors: true})
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : undefined)
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    throw new PolicyError(e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), e.linePos?.[0]?.line)
  }
  const root = doc.contents
  if (root === null) return openPolicy
  if (!isMap(root)) throw new PolicyError('the policy must be a mapping with default, tools, resources, prompts', lineOf(root))

  let defaultScopes: string[] = []
  const rules: Record<PolicyKind, Rule[]> = {tools: [], resources: [], prompts: []}
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    const keyLine = lineOf(pair.key as Node)
    if (key === 'default') {
      defaultScopes = scopeList(pair.value as Node, lineOf)
    } else if ((KINDS as string[]).includes(key)) {
      const section = pair.value as Node | null
      if (section === null || (isScalar(section) && section.value === null)) continue
      if (!isMap(section)) throw new PolicyError(`${key} must map patterns to scopes`, lineOf(section) ?? keyLine)
      for (const rule of section.items) {
        const pattern = isScalar(rule.key) ? String(rule.key.value) : ''
        const line = lineOf(rule.key as Node)
        let matcher: RegExp
        try {
          // Resource rules are matched against normalised URIs (resource-uri.ts): write the pattern in that form too.
          matcher = compileGlob(key === 'resources' ? normalizeResourcePattern(pattern) : pattern)
        } catch (error) {
          if (error instanceof GlobError) throw new PolicyError(`invalid pattern ${JSON.stringify(pattern)}: ${error.message}`, line)
          throw error
        }
        rules[key as PolicyKind].push({pattern, matcher, ...ruleBody(rule.value as Node, lineOf, line)})
      }
    } else {
      throw new PolicyError(`unknown field ${JSON.stringify(key)} (expected default, tools, resources, prompts)`, keyLine)
    }
  }
  return buildPolicy(rules, defaultScopes)
}

const ROLES = ['owner', 'member']

/**
 * A rule's value: scopes (a string or a list, as before), or a mapping with `scopes` and who may
 * use it, `users` (names or ids) and/or `roles` (owner, member):
 *   "delete_*": {scopes: memories:admin, roles: [owner]}
 */
function ruleBody(node: Node | null, lineOf: (n: Node | null | undefined) => number | undefined, line: number | undefined): {scopes: string[]; users?: string[]; roles?: string[]} {
  if (!isMap(node)) return {scopes: scopeList(node, lineOf, line)}
  const body: {scopes: string[]; users?: string[]; roles?: string[]} = {scopes: []}
  for (const pair of node.items) {
    const field = isScalar(pair.key) ? String(pair.key.value) : ''
    const at = lineOf(pair.key as Node) ?? line
    const value = pair.value as Node | null
    if (field === 'scopes') body.scopes = scopeList(value, lineOf, at)
    else if (field === 'users' || field === 'roles') {
      const names = stringList(value, at, field)
      if (field === 'roles') {
        for (const r of names) if (!ROLES.includes(r)) throw new PolicyError(`unknown role ${JSON.stringify(r)} (expected owner or member)`, at)
      }
      body[field] = names
    } else throw new PolicyError(`unknown rule field ${JSON.stringify(field)} (expected scopes, users, roles)`, at)
  }
  return body
}

function stringList(node: Node | null, line: number | undefined, field: string): string[] {
  const values: unknown[] = isSeq(node) ? node.items.map((i) => (isScalar(i) ? i.value : i)) : isScalar(node) ? [node.value] : [undefined]
  if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) throw new PolicyError(`${field} must be a name or a list of names`, line)
  return [...new Set(values as string[])]
}

function scopeList(node: Node | null, lineOf: (n: Node | null | undefined) => number | undefined, fallbackLine?: number): string[] {
  const line = lineOf(node) ?? fallbackLine
  const values: unknown[] = isSeq(node) ? node.items.map((i) => (isScalar(i) ? i.value : i)) : isScalar(node) ? [node.value] : [undefined]
  const scopes: string[] = []
  for (const v of values) {
    if (typeof v !== 'string') throw new PolicyError('a scope must be a string, or a list of strings', line)
    for (const s of v.split(' ').filter(Boolean)) {
      if (!isScopeToken(s)) throw new PolicyError(`invalid scope ${JSON.stringify(s)} (RFC 6749 §3.3)`, line)
      scopes.push(s)
    }
  }
  return [...new Set(scopes)]
}

