import {existsSync} from 'node:fs'
import {ECHO_SERVER, NODE, benchModule} from './paths.js'

/**
 * A stdio MCP server a gateway is measured in front of, and how its echo tool is called and
 * checked. The bench's own echo server (`fixtures/echo-server.mjs`: raw NDJSON, no SDK, so the
 * child costs next to nothing) and the official `@modelcontextprotocol/server-everything`
 * (built on the MCP SDK: zod validation, the SDK's transport; what a real child costs).
 */
export interface ChildSpec {
  /** Short name used in tables: `echo`, `everything`. */
  name: string
  /** What it is, for notes. */
  label: string
  argv: string[]
  /** Arguments of its echo tool for `text`. */
  args(text: string): Record<string, string>
  /** The text its echo tool answers for `text`. */
  expected(text: string): string
  /** Why it cannot run here, or undefined. */
  unavailable(): string | undefined
}

export const ECHO_CHILD: ChildSpec = {
  name: 'echo',
  label: 'the bench echo server (fixtures/echo-server.mjs)',
  argv: [NODE, ECHO_SERVER],
  args: (text) => ({text}),
  expected: (text) => text,
  unavailable: () => undefined,
}

const EVERYTHING = benchModule('@modelcontextprotocol', 'server-everything', 'dist', 'index.js')

export const EVERYTHING_CHILD: ChildSpec = {
  name: 'everything',
  label: '@modelcontextprotocol/server-everything (stdio)',
  argv: [NODE, EVERYTHING, 'stdio'],
  // tools/echo.js of server-everything: {message} -> "Echo: <message>".
  args: (text) => ({message: text}),
  expected: (text) => `Echo: ${text}`,
  unavailable: () => (existsSync(EVERYTHING) ? undefined : '@modelcontextprotocol/server-everything is not installed in bench/'),
}

export const CHILDREN = [ECHO_CHILD, EVERYTHING_CHILD]

/** argv as one shell-ready string (for gateways that take a command line). Paths here have no spaces. */
export function cmdline(c: ChildSpec): string {
  return c.argv.join(' ')
}
