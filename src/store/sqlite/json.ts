/** Moved to src/store/json.ts (both backends); kept so src/store/sqlite/grants.ts is untouched here. */
export * from '../json.js'
