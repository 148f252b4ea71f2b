import {readFileSync} from 'node:fs'
import {GatehouseError} from '../../errors.js'
import {isEmpty, parseClaimPairs} from './allow-list.js'
import {readClientKey} from './client-key.js'
import {UPSTREAM_CALLBACK_PATH, type UpstreamOptions} from './upstream-login.js'

/** The `--oidc-*` flags of oauth-server, as parsed. */
export interface UpstreamFlags {
  'oidc-issuer'?: string | undefined
  'oidc-client-id'?: string | undefined
  'oidc-client-secret-file'?: string | undefined
  'oidc-client-key-file'?: string | undefined
  'oidc-allow-email'?: string[] | undefined
  'oidc-allow-domain'?: string[] | undefined
  'oidc-allow-claim'?: string[] | undefined
  'oidc-auto-create'?: boolean | undefined
  'oidc-only'?: boolean | undefined
}

/**
 * Upstream sign-in settings from the flags, or undefined when --oidc-issuer is absent. CONFIG
 * errors: an issuer that is not https (http only on a loopback host), a missing client id, neither
 * or both of --oidc-client-secret-file and --oidc-client-key-file (private_key_jwt, RFC 7523
 * §2.2), an unreadable or empty secret file or an unusable key file (client-key.ts), --oidc-auto-create without any allow-list
 * entry (it would let anyone with an account at the provider in), and the other --oidc-* flags
 * without --oidc-issuer.
 */
export function upstreamOptions(flags: UpstreamFlags): UpstreamOptions | undefined {
  const issuer = flags['oidc-issuer']
  if (!issuer) {
    const stray = Object.entries(flags).find(([k, v]) => k.startsWith('oidc-') && v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
    if (stray) throw new GatehouseError('CONFIG', `--${stray[0]} needs --oidc-issuer`)
    return undefined
  }
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new GatehouseError('CONFIG', `--oidc-issuer is not a URL: ${JSON.stringify(issuer)}`)
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new GatehouseError('CONFIG', '--oidc-issuer must be https (http only on a loopback host, for development)')
  if (!flags['oidc-client-id']) throw new GatehouseError('CONFIG', '--oidc-issuer needs --oidc-client-id')
  const file = flags['oidc-client-secret-file']
  const keyFile = flags['oidc-client-key-file']
  if (file && keyFile) throw new GatehouseError('CONFIG', 'give one of --oidc-client-secret-file (client_secret_basic) and --oidc-client-key-file (private_key_jwt), not both')
  if (!file && !keyFile) throw new GatehouseError('CONFIG', '--oidc-issuer needs --oidc-client-secret-file (client_secret_basic) or --oidc-client-key-file (private_key_jwt)')
  let clientAuth: UpstreamOptions['clientAuth']
  if (keyFile) clientAuth = {method: 'private_key_jwt', key: readClientKey(keyFile)}
  else {
    let secret: string
    try {
      secret = readFileSync(file!, 'utf8').trim()
    } catch (error) {
      throw new GatehouseError('CONFIG', `cannot read --oidc-client-secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
    if (!secret) throw new GatehouseError('CONFIG', `--oidc-client-secret-file ${file} is empty`)
    clientAuth = {method: 'client_secret_basic', secret}
  }
  const allow = {emails: flags['oidc-allow-email'] ?? [], domains: flags['oidc-allow-domain'] ?? [], claims: parseClaimPairs(flags['oidc-allow-claim'] ?? [])}
  if (flags['oidc-auto-create'] && isEmpty(allow)) {
    throw new GatehouseError('CONFIG', '--oidc-auto-create needs an allow-list (--oidc-allow-email, --oidc-allow-domain or --oidc-allow-claim): otherwise anyone with an account at the provider would get one here')
  }
  return {issuer, clientId: flags['oidc-client-id'], clientAuth, allow, autoCreate: flags['oidc-auto-create'] ?? false, only: flags['oidc-only'] ?? false}
}

/**
 * The start-up banner's lines for upstream sign-in: the provider, Gatehouse's client id and
 * authentication method there, who may sign in, and the redirect URI to register at the provider
 * (`<issuer>/oauth/upstream/callback`, exactly as the authorization request sends it; OIDC Core
 * §3.1.2.1 requires an exact match with a registered one).
 */
export function upstreamBanner(options: UpstreamOptions, issuer: string): string[] {
  const allow = [
    ...options.allow.emails.map((e) => `email ${e}`),
    ...options.allow.domains.map((d) => `domain ${d}`),
    ...options.allow.claims.map(({name, value}) => `claim ${name}=${value}`),
  ]
  return [
    `  sign-in via     ${options.issuer}  (client id ${options.clientId}, ${options.clientAuth.method}; scopes openid email profile)`,
    `  redirect URI    ${issuer}${UPSTREAM_CALLBACK_PATH}  (register it at the provider)`,
    `  who may sign in ${allow.length > 0 ? allow.join(', ') : 'users linked with gatehouse users link'}${options.autoCreate ? '; accounts made at first sign-in' : ''}${options.only ? '; no password form' : ''}`,
  ]
}
