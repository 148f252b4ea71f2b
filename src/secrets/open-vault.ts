import {createFileVault} from './file-vault.js'
import {probeKeychain} from './keychain.js'
import type {SecretVault} from './vault.js'

/**
 * The OS keychain where one works, else the 0600 file in the data dir. `notice` is the one line
 * to show the user when the fallback is taken.
 */
export async function openVault(dataDir: string): Promise<{vault: SecretVault; notice: string | null}> {
  const probe = await probeKeychain()
  if (probe.ok) return {vault: probe.vault, notice: null}
  const vault = createFileVault(dataDir)
  return {vault, notice: `no OS keychain: ${probe.reason}; keeping secrets in ${vault.location} (mode 0600)`}
}
