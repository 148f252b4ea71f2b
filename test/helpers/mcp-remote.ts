import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type {TestContext} from 'node:test'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {freePort} from './free-port.js'
import {tempDir} from './tmp.js'

/** The `mcp-remote` executable of the devDependency (what `npx -y mcp-remote` runs). */
export function mcpRemoteBin(): string {
  const require = createRequire(import.meta.url)
  const pkgFile = require.resolve('mcp-remote/package.json')
  return join(dirname(pkgFile), (JSON.parse(readFileSync(pkgFile, 'utf8')) as {bin: Record<string, string>}).bin['mcp-remote']!)
}

/**
 * One mcp-remote, as a person's desktop app runs it: its own home and config dir (so two of them
 * never share a registration or tokens), its own loopback callback port, and a client name for the
 * consent page (`--static-oauth-client-metadata`); or exactly `args` (e.g. a snippet's), when given. It opens the browser through `open`, whose
 * xdg-open honours $BROWSER when no desktop is detected: ours records each authorization URL for
 * the test to open in Chromium. `connected` settles when its stdio session is up (after consent).
 */
export async function startMcpRemote(t: TestContext, {serverUrl, clientName = 'mcp-remote', args: given}: {serverUrl: string; clientName?: string; args?: string[]}) {
  const home = tempDir(t)
  const urls = join(home, 'opened-urls')
  const browserCmd = join(home, 'record-url')
  writeFileSync(browserCmd, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${urls}'\n`)
  chmodSync(browserCmd, 0o755)
  mkdirSync(join(home, 'mcp-auth'))
  const env: Record<string, string> = {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, BROWSER: browserCmd, MCP_REMOTE_CONFIG_DIR: join(home, 'mcp-auth'), NO_COLOR: '1'}
  const args = [mcpRemoteBin(), ...(given ?? [serverUrl, String(await freePort()), '--static-oauth-client-metadata', JSON.stringify({client_name: clientName})])]
  const transport = new StdioClientTransport({command: process.execPath, args, env, stderr: 'pipe'})
  let log = ''
  transport.stderr?.on('data', (d: Buffer) => (log += d.toString()))
  const client = new Client({name: clientName, version: '1.0.0'})
  t.after(() => client.close().catch(() => {}))
  const connected = client.connect(transport, {timeout: 90_000})
  connected.catch(() => {})
  const opened = () => (existsSync(urls) ? readFileSync(urls, 'utf8').split('\n').filter((l) => l.startsWith('http')) : [])
  return {
    client,
    connected,
    /** Where it keeps its registration and tokens (MCP_REMOTE_CONFIG_DIR). */
    configDir: join(home, 'mcp-auth'),
    /** Every authorization URL it has opened so far. */
    opened,
    /** Waits (polling, `ms` at most) until it has opened its `n`th authorization URL (1-based). */
    async authorizationUrl(n = 1, ms = 60_000): Promise<URL> {
      const deadline = Date.now() + ms
      for (;;) {
        const all = opened()
        if (all.length >= n) return new URL(all[n - 1]!)
        if (Date.now() > deadline) throw new Error(`mcp-remote did not open authorization URL #${n} within ${ms} ms; its log:\n${log}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    log: () => log,
  }
}
