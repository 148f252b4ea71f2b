// A client's bytes never reach the owner's terminal raw (issue 11, item 26). Text that a client
// or a child chose (a tool name, a client name, a child's stderr) is printed with control
// characters escaped in every human output; --json stays exact.
// Rules: ECMA-48 §5 (C0 and C1 control functions: ESC [ ... CSI, OSC 52 ... BEL), Unicode
// UAX #9 (bidi controls, Cf), CVE-2021-42574 (Trojan Source); CONTRACT.md (--json: exactly one
// JSON document). Real daemon (bin/oauth-server.js), real SDK child, real CLI executables.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {runBin} from '../helpers/cli.js'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {fixture} from '../helpers/gateway.js'
import {tempDir} from '../helpers/tmp.js'
import {openSqliteStore} from '../../src/store/sqlite/store.js'
import {terminalText} from '../../src/cli/terminal-text.js'

// Clear the screen, paint red, write the clipboard (OSC 52), a C1 CSI, DEL, a bidi override and
// isolate, a zero-width joiner, a line separator, a fake newline row, a backspace.
const EVIL = 'tool\x1b[2J\x1b[31mOK\x1b]52;c;ZXZpbA==\x07\x9b31m\x7f\u202Eevil\u2066x\u2069\u200D\u2028\nfake row\b|end\\'

/** Anything a terminal would act on rather than print; a human output must hold none but \n. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/u

const assertPrintable = (output: string, what: string) => {
  const m = RAW_CONTROL.exec(output)
  assert.equal(m, null, `${what} printed a raw U+${m?.[0].codePointAt(0)!.toString(16).padStart(4, '0')}`)
}

test('terminalText escapes C0, C1, DEL, bidi and other format characters, and only those, reversibly', () => {
  assert.equal(terminalText('plain ascii, é, 中文, emoji 😀'), 'plain ascii, é, 中文, emoji 😀')
  assert.equal(terminalText('\x1b[2J'), '\\x1B[2J')
  assert.equal(terminalText('a\u202Eb\u2066c\u200Bd\uFEFF\u00AD'), 'a\\u{202E}b\\u{2066}c\\u{200B}d\\u{FEFF}\\xAD')
  assert.equal(terminalText('\x00\x7f\x9b\t\n'), '\\x00\\x7F\\x9B\\x09\\x0A')
  assert.equal(terminalText('lone \uD800 surrogate'), 'lone \\u{D800} surrogate')
  // The backslash is doubled, so a client cannot type text that looks like an escape.
  assert.equal(terminalText('\\x1B'), '\\\\x1B')
  assertPrintable(terminalText(EVIL), 'terminalText')
})

test("a client's tool name and a child's stderr reach audit, list, consents and the daemon's log escaped; --json exact", async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir, args: ['--', process.execPath, fixture('file-server.mjs')]})
  const mcp = `${daemon.issuer}/mcp`
  const token = await fetchToken(daemon.issuer, agent)
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(mcp, {method: 'POST', headers: {authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...headers}, body: JSON.stringify(body)})
  const init = await post({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 'x', version: '1'}}})
  const h = {'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25'}
  await init.text()
  await (await post({jsonrpc: '2.0', id: 2, method: 'tools/call', params: {name: EVIL, arguments: {}}}, h)).text()
  await (await post({jsonrpc: '2.0', id: 3, method: 'tools/call', params: {name: 'shout', arguments: {text: EVIL}}}, h)).text()
  assert.equal(await daemon.stop(), 0)

  // The daemon's own log (text format): the child's stderr, escaped (one log line per line it wrote).
  assertPrintable(daemon.stderr().replace(/\n/g, ''), "the daemon's log")
  for (const line of EVIL.split('\n')) assert.ok(daemon.stderr().includes(terminalText(line)), daemon.stderr())

  // Rows a registered client wrote: a name and a consent (as a client could register before
  // names were checked for format characters; the store holds whatever older versions accepted).
  const store = openSqliteStore(dataDir)
  const id = 'https://client.example/\u202Emeta.json'
  await store.clients.insert({
    id, name: EVIL, description: '', secretHash: null, authMethod: 'none', jwks: null, scopes: ['mcp'], grantTypes: ['authorization_code'],
    redirectUris: ['https://client.example/cb'], accessTokenTtl: null, tokenRateLimit: null, mcpRateLimit: null, registration: 'metadata_document', metadata: {}, createdAt: Date.now(),
  })
  await store.consents.remember({clientId: id, subject: 'owner', scopes: ['mcp'], at: Date.now()})
  await store.close()

  const human: Array<[string, string[]]> = [
    ['run', ['audit']],
    ['oauth-list-clients', []],
    ['run', ['consents', 'list']],
    ['run', ['keys', 'list']],
    ['run', ['consents', 'revoke', id]],
    ['oauth-revoke-client', ['--client-id', id, '--yes']],
    ['oauth-revoke-client', ['--client-id', `${EVIL}-unknown`, '--yes']],
  ]
  for (const [bin, args] of human) {
    const r = await runBin(bin, args, {dataDir})
    assertPrintable(r.stdout.replace(/\n/g, ''), `${bin} ${args[0] ?? ''}`)
    assertPrintable(r.stderr.replace(/\n/g, ''), `${bin} ${args[0] ?? ''} (stderr)`)
    // The value is there, visibly escaped (an error message quotes it as JSON: \u001b).
    if (bin !== 'run' || args[0] !== 'keys') assert.match(`${r.stdout}${r.stderr}`, /\\(x1B|u001b)\[2J/, `${bin} ${args.join(' ')}:\n${r.stdout}${r.stderr}`)
  }

  // --json is exact: the same bytes the client sent.
  const audit = JSON.parse((await runBin('run', ['audit', '--json'], {dataDir})).stdout) as Array<{name: string | null}>
  assert.ok(audit.some((e) => e.name === EVIL))
  const clients = JSON.parse((await runBin('oauth-list-clients', ['--all', '--json'], {dataDir})).stdout) as Array<{client_id: string; name: string}>
  assert.equal(clients.find((c) => c.client_id === id)?.name, EVIL)
  const consents = JSON.parse((await runBin('run', ['consents', 'list', '--all', '--json'], {dataDir})).stdout) as Array<{client_id: string; client_name: string}>
  assert.equal(consents.find((c) => c.client_id === id)?.client_name, EVIL)
})
