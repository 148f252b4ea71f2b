/** What a scenario needs from a system under test. */

export interface TokenServer {
  name: string
  port: number
  /** Root of the server's process tree. */
  pid: number
  /** One token request: path, headers and form body (client_credentials, client_secret_basic). */
  path: string
  headers: Record<string, string>
  body: string
  stop(): Promise<void>
}

export interface Gateway {
  name: string
  port: number
  pid: number
  /** MCP endpoint path. */
  path: string
  /** A bearer token for the benchmark's client, where the gateway wants one. */
  bearer?: string
  /** Registers another OAuth client and returns a token for it (gatehouse only). */
  newClient?(): Promise<string>
  stop(): Promise<void>
}

export interface System<T> {
  name: string
  /** Why this system cannot run here, or undefined when it can. */
  unavailable(): string | undefined
  start(options?: Record<string, unknown>): Promise<T>
}
