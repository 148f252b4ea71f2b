/**
 * Text from clients and children on the owner's terminal (issue 11, item 26). A tool name, a
 * client name, a resource URI, a log field: bytes someone else chose. Printed raw, `ESC[2J`
 * clears the screen, `ESC]52;c;...BEL` writes the clipboard (OSC 52), colour codes fake an
 * "ok", a newline fakes a row, U+202E reverses what follows (Trojan Source, CVE-2021-42574).
 *
 * `terminalText` is the one escaping function for every human output of every command (tables,
 * lines, the daemon's text log, error messages); `--json` output is never passed through it, so
 * it stays exact. What is escaped, visibly and reversibly:
 *   - C0 controls, DEL and C1 controls (Unicode Cc; ECMA-48 §5), as `\xHH`;
 *   - format characters (Unicode Cf: bidi embeddings, overrides and isolates, zero-width
 *     characters, BOM, soft hyphen), line/paragraph separators (Zl, Zp) and lone surrogates
 *     (Cs), as `\u{HHHH}`;
 *   - the backslash itself, as `\\`, so an escaped sequence and the same text typed by a client
 *     never look alike.
 * Everything else (letters of every script, emoji, punctuation) is printed as it is.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0')

/** `value` with control, format and separator characters escaped (see above); safe to print. */
export function terminalText(value: string): string {
  return value.replace(UNSAFE, (c) => {
    if (c === '\\') return '\\\\'
    const code = c.codePointAt(0)!
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`
  })
}

/** terminalText for a value that may be absent: `fallback` (not escaped) stands for null/undefined. */
export const terminalCell = (value: string | null | undefined, fallback = '-'): string =>
  value === null || value === undefined ? fallback : terminalText(value)
