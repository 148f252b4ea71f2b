/**
 * Control and format characters (Unicode Cc, Cf, Zl, Zp, and lone surrogates): C0 and C1 controls,
 * bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069), marks (U+200E, U+200F, U+061C),
 * zero-width characters (U+200B-U+200D, U+FEFF), the soft hyphen, line and paragraph separators.
 * In a client's name or URI, which the owner reads on the consent page, in the console and in the
 * CLI's tables, they can reverse or hide the words around them (Unicode TR36 §2.3 bidirectional
 * spoofing; CVE-2021-42574). One rule for every client, registered (RFC 7591, metadata
 * documents) or created by the owner with the CLI.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u

/** The first control or format character in `value`, named `U+XXXX`; undefined when there is none. */
export function invisibleCharacter(value: string): string | undefined {
  const m = INVISIBLE.exec(value)
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined
}
