/**
 * The MCP server gated when no command is given: the official @modelcontextprotocol/server-memory,
 * run with this Node binary, its knowledge graph kept under <dataDir>/memory, one file per
 * OAuth client (or one shared file in shared isolation) so clients' memories stay apart.
 */
import {createHash} from 'node:crypto'
import {createRequire} from 'node:module'
import {join} from 'node:path'

const require = createRequire(import.meta.url)

export function defaultServerScript(): string {
  // The package's bin; its exports map does not expose dist/index.js, so resolve package.json.
  const pkg = require.resolve('@modelcontextprotocol/server-memory/package.json')
  return join(pkg, '..', 'dist', 'index.js')
}

/**
 * A filename that is safe on every OS for any client id: readable characters kept, anything
 * else (or an id that would be too long or reserved) replaced by a hash, so two ids never map
 * to one file.
 */
export function memoryFileName(clientId: string): string {
  if (/^[A-Za-z0-9_-]{1,100}$/.test(clientId) && clientId !== 'shared') return `${clientId}.jsonl`
  const hash = createHash('sha256').update(clientId).digest('hex').slice(0, 32)
  return `client-${hash}.jsonl`
}

/** `owner`: a client id (one memory per client), `{userId}` (one memory per person, --isolation user), or undefined (shared). */
export function defaultServerSpec(dataDir: string, owner: string | {userId: string} | undefined): {command: string; args: string[]; env: Record<string, string>} {
  // User ids (usr_ + hex) never collide with client ids (gtc_..., URLs) or 'shared'.
  const file = owner === undefined ? 'shared.jsonl' : typeof owner === 'string' ? memoryFileName(owner) : memoryFileName(owner.userId)
  return {
    command: process.execPath,
    args: [defaultServerScript()],
    env: {MEMORY_FILE_PATH: join(dataDir, 'memory', file)},
  }
}
