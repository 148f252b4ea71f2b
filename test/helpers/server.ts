import {cliActor} from '../../src/audit/actor.js'
import type {TestContext} from 'node:test'
import {manualClock} from '../../src/clock.js'
import {createClientAdmin, type GenerateInput} from '../../src/clients/admin.js'
import {memoryLogger} from '../../src/log.js'
import {createServer, type ServerOptions} from '../../src/server.js'
import {openSqliteStore} from '../../src/store/sqlite/store.js'
import {tempDir} from './tmp.js'

/**
 * The daemon in-process on a free loopback port, with a manual clock and an in-memory log, plus
 * a second store connection (as the CLI would have) to create and revoke clients.
 */
export async function startInProcess(t: TestContext, options: Partial<ServerOptions> = {}) {
  const dataDir = options.dataDir ?? tempDir(t)
  const clock = manualClock(Date.now())
  const logger = memoryLogger()
  const server = await createServer({dataDir, port: 0, clock, logger, useKeychain: false, ...options})
  const cliStore = openSqliteStore(dataDir, {clock})
  const admin = createClientAdmin({store: cliStore, clock})
  t.after(async () => {
    await server.close()
    await cliStore.close()
  })
  return {
    server,
    issuer: server.issuer,
    clock,
    logger,
    dataDir,
    admin,
    store: cliStore,
    async client(input: Partial<GenerateInput> & {name: string}) {
      const {client, secret} = await admin.generate(input, cliActor())
      return {client_id: client.id, client_secret: secret!, scopes: client.scopes}
    },
  }
}
