import type {IncomingMessage} from 'node:http'

/**
 * A cookie of the consent pages (MCP security best practices, "Consent Cookie Security"):
 * HttpOnly, SameSite=Lax, Path=/; under HTTPS also Secure with the `__Host-` prefix, which binds
 * it to this exact host (RFC 6265bis §4.1.3.2).
 */
function hostCookie(base: string, {secure}: {secure: boolean}) {
  const name = secure ? `__Host-${base}` : base
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

/** The browser session cookie (see sessions.ts). */
export const sessionCookie = (options: {secure: boolean}) => hostCookie('gatehouse-session', options)

/** The owner's device token (see src/owner/device-token.ts), kept for 400 days (RFC 6265bis §5.5 cap). */
export const deviceCookie = (options: {secure: boolean}) => hostCookie('gatehouse-device', options)
export const DEVICE_COOKIE_MAX_AGE_S = 400 * 86_400

export type SessionCookie = ReturnType<typeof sessionCookie>
