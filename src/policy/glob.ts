/**
 * Glob patterns for tool names, resource URIs and prompt names: `*` any run of characters,
 * `?` one character, `[abc]` / `[a-z]` / `[!abc]` a class, `\` escapes the next character.
 * Compiled once, when the policy loads; matching is a RegExp test.
 */
export class GlobError extends Error {}

export function compileGlob(pattern: string): RegExp {
  if (pattern.length === 0) throw new GlobError('empty pattern')
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === '\\') {
      if (i + 1 >= pattern.length) throw new GlobError('pattern ends with a lone backslash')
      re += escape(pattern[++i]!)
    } else if (ch === '*') {
      re += '.*'
    } else if (ch === '?') {
      re += '.'
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end < 0) throw new GlobError(`unclosed [ at position ${i + 1}`)
      let body = pattern.slice(i + 1, end)
      const negate = body.startsWith('!')
      if (negate) body = body.slice(1)
      if (body.length === 0) throw new GlobError(`empty character class at position ${i + 1}`)
      const ranges = body.replace(/[\\\]^]/g, (c) => `\\${c}`)
      for (const m of ranges.matchAll(/(.)-(.)/g)) {
        if (m[1]! > m[2]!) throw new GlobError(`reversed range ${m[0]} at position ${i + 1}`)
      }
      re += `[${negate ? '^' : ''}${ranges}]`
      i = end
    } else if (ch === ']') {
      throw new GlobError(`unmatched ] at position ${i + 1}`)
    } else {
      re += escape(ch)
    }
  }
  return new RegExp(re + '$', 's')
}

const escape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
