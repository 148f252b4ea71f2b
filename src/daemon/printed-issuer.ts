/**
 * Which issuer a command that prints URLs should use: --issuer when given, else the issuer of
 * the daemon running on this data dir (its runtime record), else the default
 * http://127.0.0.1:8080 with a notice saying so (issue: settings pointing at the running daemon).
 */
import {readRuntimeRecord} from './runtime-record.js'

/** `oauth-server`'s default issuer (server.ts defaults: host 127.0.0.1, port 8080). */
export const DEFAULT_ISSUER = 'http://127.0.0.1:8080'

/**
 * `notice` is null when the issuer is certain (given, or the running daemon's); otherwise the
 * line to show. Throws GatehouseError RUNTIME_RECORD when the record is not ours (nothing changed).
 */
export async function issuerForPrinting(flag: string | undefined, dataDir: string): Promise<{issuer: string; notice: string | null}> {
  if (flag) return {issuer: flag.replace(/\/+$/, ''), notice: null}
  const state = await readRuntimeRecord(dataDir)
  if (state.state === 'running') return {issuer: state.record.issuer, notice: null}
  return {
    issuer: DEFAULT_ISSUER,
    notice: `no daemon is running on ${dataDir}; the settings below assume ${DEFAULT_ISSUER} (start one with \`npx oauth-server\`, or pass --issuer URL)`,
  }
}
