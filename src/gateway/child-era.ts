/**
 * Which protocol era a child speaks, and how the gateway speaks to a modern one.
 *
 * MCP 2026-07-28 transports-stdio §Backward Compatibility: a client that supports both eras
 * SHOULD probe with `server/discover` before any other request, its preferred modern version in
 * `_meta`. A DiscoverResult means the server is modern; a recognized modern error (such as
 * UnsupportedProtocolVersionError) means it is modern but does not speak that version ("Do not
 * fall back to initialize"); any other error, or no answer within a reasonable timeout, means
 * it is legacy: fall back to `initialize`. The fallback "MUST NOT be keyed to one specific error
 * code". versioning §Backward Compatibility: the era is a property of the server process, so it
 * is probed once per child and kept for its life.
 *
 * A modern child is spoken to statelessly (basic-index §_meta): every request carries the
 * version, the client's capabilities and identity, and optionally its log level, in `_meta`. A
 * 2026 caller's own envelope passes through; a 2025 session's is made from what it declared in
 * its `initialize` (`legacyEnvelope`).
 */
import {LOG_LEVELS, type Caller} from './caller.js'
import {ErrorCode, type JsonRpcMessage} from './json-rpc.js'
import {MODERN_VERSIONS, MODERN_VERSION_META} from './protocol-version.js'

export type ChildEra = 'legacy' | 'modern'

/** How long a child may stay silent on `server/discover` before it is taken for legacy; default 2 s. */
export const DEFAULT_DISCOVER_TIMEOUT_MS = 2000

/** The modern version the gateway speaks to a modern child. */
export const CHILD_MODERN_VERSION = MODERN_VERSIONS[0]

const CLIENT_CAPABILITIES_META = 'io.modelcontextprotocol/clientCapabilities'
const CLIENT_INFO_META = 'io.modelcontextprotocol/clientInfo'
const LOG_LEVEL_META = 'io.modelcontextprotocol/logLevel'
const SERVER_INFO_META = 'io.modelcontextprotocol/serverInfo'

/** Error codes only a modern server sends (schema.ts: HeaderMismatch, MissingRequiredClientCapability, UnsupportedProtocolVersion). */
const MODERN_ERRORS = new Set<number>([ErrorCode.HeaderMismatch, ErrorCode.MissingRequiredClientCapability, ErrorCode.UnsupportedProtocolVersion])

/** The params of the gateway's probe: its own envelope, declaring what it can relay. */
export function discoverParams(capabilities: Record<string, unknown>, clientInfo: {name: string; version: string}): Record<string, unknown> {
  return {_meta: {[MODERN_VERSION_META]: CHILD_MODERN_VERSION, [CLIENT_CAPABILITIES_META]: capabilities, [CLIENT_INFO_META]: clientInfo}}
}

export type ProbeOutcome =
  /** `init`: an initialize-shaped result (capabilities, serverInfo, instructions) for 2025 sessions and server/discover. */
  | {era: 'modern'; init: Record<string, unknown>}
  | {era: 'legacy'}
  /** Modern, but none of its versions is one the gateway speaks: not usable, and no fallback. */
  | {era: 'none'; reason: string}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * What the child's answer to `server/discover` says of its era (transports-stdio §Backward
 * Compatibility). `answer` is the child's response, or the gateway's own timeout or
 * connection error (which say "legacy", as silence does).
 */
export function readProbe(answer: JsonRpcMessage): ProbeOutcome {
  const result = answer.result
  if (isObject(result) && Array.isArray(result.supportedVersions)) {
    const versions = result.supportedVersions.filter((v): v is string => typeof v === 'string')
    if (!versions.includes(CHILD_MODERN_VERSION)) return {era: 'none', reason: `it speaks only ${versions.join(', ') || 'no version'}`}
    const meta = isObject(result._meta) ? result._meta : {}
    const info = isObject(meta[SERVER_INFO_META]) ? meta[SERVER_INFO_META] : {name: 'unknown', version: '0'}
    return {
      era: 'modern',
      init: {
        protocolVersion: CHILD_MODERN_VERSION,
        capabilities: isObject(result.capabilities) ? result.capabilities : {},
        serverInfo: info,
        ...(typeof result.instructions === 'string' ? {instructions: result.instructions} : {}),
      },
    }
  }
  const error = answer.error
  if (isObject(error) && typeof error.code === 'number' && MODERN_ERRORS.has(error.code)) {
    const data = isObject(error.data) ? error.data : {}
    const supported = Array.isArray(data.supported) ? data.supported.join(', ') : 'unknown'
    return {era: 'none', reason: `it is a modern server that does not speak ${CHILD_MODERN_VERSION} (it speaks ${supported})`}
  }
  return {era: 'legacy'}
}

/**
 * The `_meta` envelope a 2025 session's request carries to a modern child: the version, the
 * capabilities it declared at initialize (the ones the gateway relays), the gateway as client,
 * and the session's log level (logging/setLevel; server-utilities-logging §Per-request log
 * level: without it the child sends no log for the request).
 */
export function legacyEnvelope(caller: Caller, clientInfo: {name: string; version: string}): Record<string, unknown> {
  const caps: Record<string, unknown> = {}
  if (caller.capabilities.sampling) caps.sampling = {}
  if (caller.capabilities.elicitation) caps.elicitation = {}
  if (caller.capabilities.roots) caps.roots = {}
  const level = LOG_LEVELS[caller.logLevel]
  return {
    [MODERN_VERSION_META]: CHILD_MODERN_VERSION,
    [CLIENT_CAPABILITIES_META]: caps,
    [CLIENT_INFO_META]: clientInfo,
    ...(level !== undefined ? {[LOG_LEVEL_META]: level} : {}),
  }
}

/** The `notifications` filter of the gateway's own subscriptions/listen on a modern child: every change type it supports, and the URIs held. */
export function childListenFilter(capabilities: Record<string, unknown>, uris: Iterable<string>): Record<string, unknown> {
  const cap = (k: string) => (isObject(capabilities[k]) ? capabilities[k] : undefined)
  const filter: Record<string, unknown> = {}
  if (cap('tools')?.listChanged === true) filter.toolsListChanged = true
  if (cap('prompts')?.listChanged === true) filter.promptsListChanged = true
  if (cap('resources')?.listChanged === true) filter.resourcesListChanged = true
  const list = [...uris]
  if (cap('resources')?.subscribe === true && list.length > 0) filter.resourceSubscriptions = list
  return filter
}

/** True for a result line that asks the client for input (basic-patterns-mrtr §InputRequiredResult). */
export const isInputRequired = (result: unknown): result is {resultType: 'input_required'; inputRequests?: unknown; requestState?: unknown} =>
  isObject(result) && result.resultType === 'input_required'
