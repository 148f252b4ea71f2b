import type {IncomingMessage} from 'node:http'

/**
 * The session cookie (MCP security best practices, "Consent Cookie Security"): HttpOnly,
 * SameSite=Lax, Path=/; under HTTPS also Secure with the `__Host-` prefix, which binds it to
 * this exact host (RFC 6265bis §4.1.3.2).
 */
export function sessionCookie({secure}: {secure: boolean}) {
  const name = secure ? '__Host-gatehouse-session' : 'gatehouse-session'
  return {
    name,
    read(req: IncomingMessage): string | undefined {
      const header = req.headers.cookie
      if (!header) return undefined
      for (const part of header.split(';')) {
        const eq = part.indexOf('=')
        if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
      }
      return undefined
    },
    serialize(value: string, maxAgeSeconds: number): string {
      return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure ? '; Secure' : ''}`
    },
  }
}

export type SessionCookie = ReturnType<typeof sessionCookie>
