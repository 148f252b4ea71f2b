/** Gatehouse's public API, for embedding the daemon and for tests. */
export {createServer, type RunningServer, type ServerOptions} from './server.js'
export {createLogger, type Logger} from './log.js'
export {openSqliteStore} from './store/sqlite/store.js'
export {openStore, type StoreConfig} from './store/open-store.js'
export {createClientAdmin} from './clients/admin.js'
