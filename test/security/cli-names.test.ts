// Owner-created client names and descriptions (issue 11 item 8's kind, on the CLI): a control or
// format character (Unicode Cc, Cf, Zl, Zp, lone surrogates: bidi overrides and isolates, marks,
// zero-width characters) is refused with a clear error, exit 3, and nothing is created, as
// registration refuses them (one function: src/clients/visible-text.ts). Rules: Unicode TR36
// §2.3 (bidirectional text spoofing), CVE-2021-42574; CONTRACT.md (one-line errors, non-zero exit).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {runBin} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const REFUSED = [
  ['RIGHT-TO-LEFT OVERRIDE', '\u202E', 'U+202E'],
  ['RIGHT-TO-LEFT ISOLATE', '\u2067', 'U+2067'],
  ['LEFT-TO-RIGHT MARK', '\u200E', 'U+200E'],
  ['ZERO WIDTH SPACE', '\u200B', 'U+200B'],
  ['ZERO WIDTH JOINER', '\u200D', 'U+200D'],
  ['BYTE ORDER MARK inside', '\uFEFF', 'U+FEFF'],
  ['SOFT HYPHEN', '\u00AD', 'U+00AD'],
  ['ESC (C0)', '\u001b', 'U+001B'],
  ['NEXT LINE (C1)', '\u0085', 'U+0085'],
] as const

test('oauth-generate-client refuses a name or description with a control or format character: exit 3, the character named, nothing created (TR36 §2.3)', async (t) => {
  const dataDir = tempDir(t)
  for (const [label, ch, code] of REFUSED) {
    const name = await runBin('oauth-generate-client', ['--name', `Docs ${ch}evil`, '--json'], {dataDir})
    assert.equal(name.code, 3, `${label}: ${name.stderr}`)
    assert.equal(name.stdout, '', label)
    assert.match(name.stderr, new RegExp(`client name contains the invisible or control character ${code.replace('+', '\\+')}`), label)
    assert.equal(name.stderr.trim().split('\n').length, 1, `${label}: one line`)
    assert.ok(!name.stderr.includes(ch), `${label}: the character itself is not echoed`)
    const description = await runBin('oauth-generate-client', ['--name', 'fine', '--description', `x${ch}y`, '--json'], {dataDir})
    assert.equal(description.code, 3, `${label}: ${description.stderr}`)
    assert.match(description.stderr, /description contains the invisible or control character/)
  }
  const list = await runBin('oauth-list-clients', ['--all', '--json'], {dataDir})
  assert.deepEqual(JSON.parse(list.stdout), [], 'nothing was created')
  // Right-to-left letters and other scripts are names, not format characters.
  const rtl = await runBin('oauth-generate-client', ['--name', 'تطبيق الملاحظات', '--json'], {dataDir})
  assert.equal(rtl.code, 0, rtl.stderr)
  assert.equal(JSON.parse(rtl.stdout).name, 'تطبيق الملاحظات')
})
