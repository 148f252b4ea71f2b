/**
 * Which PostgreSQL client for the store: `pg` (node-postgres) or `postgres` (postgres.js),
 * measured on what the token path asks of the store. Starts a throwaway server
 * (test/helpers/postgres.ts), then for each library:
 *   lookup  a client by primary key (the client directory's miss), 8 in flight;
 *   rotate  a refresh rotation: BEGIN; SELECT ... FOR UPDATE; UPDATE; INSERT; COMMIT, 8 in flight.
 * Prints operations per second and this process's CPU per operation (the database's own CPU is
 * the same SQL for both). Run: node --import tsx bench/postgres-clients.ts
 */
import {randomBytes} from 'node:crypto'
import pg from 'pg'
import postgres from 'postgres'
import {startPostgres} from '../test/helpers/postgres.js'

const N = Number(process.env.N ?? 4000)
const CONCURRENCY = 8
const server = await startPostgres()

async function measure(name: string, op: (i: number) => Promise<void>) {
  for (let i = 0; i < 300; i++) await op(i) // warm-up
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let next = 0
  await Promise.all(Array.from({length: CONCURRENCY}, async () => {
    while (next < N) await op(next++)
  }))
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const row = {case: name, opsPerSec: Math.round((N / ms) * 1000), clientCpuUsPerOp: Math.round((cpu.user + cpu.system) / N)}
  console.log(JSON.stringify(row))
  return row
}

const schema = `CREATE TABLE clients (id text PRIMARY KEY, name text NOT NULL, scopes text NOT NULL, created_at bigint NOT NULL);
  CREATE TABLE tokens (id text PRIMARY KEY, family_id text NOT NULL, consumed_at bigint, data text NOT NULL DEFAULT '{}', created_at bigint NOT NULL)`
const ids = Array.from({length: 1000}, () => randomBytes(12).toString('hex'))

async function withPg() {
  const url = await server.database('pg')
  const pool = new pg.Pool({connectionString: url, max: CONCURRENCY})
  await pool.query(schema)
  for (const id of ids) await pool.query('INSERT INTO clients VALUES ($1, $2, $3, $4)', [id, 'agent', '["mcp"]', Date.now()])
  await measure('pg lookup', async (i) => {
    await pool.query({name: 'by-id', text: 'SELECT * FROM clients WHERE id = $1', values: [ids[i % ids.length]]})
  })
  await measure('pg rotate', async (i) => {
    const c = await pool.connect()
    try {
      const hash = randomBytes(16).toString('hex')
      await c.query('BEGIN')
      await c.query({name: 'ins', text: 'INSERT INTO tokens (id, family_id, created_at) VALUES ($1, $2, $3)', values: [hash, 'f' + i, i]})
      await c.query({name: 'sel', text: 'SELECT * FROM tokens WHERE id = $1 FOR UPDATE', values: [hash]})
      await c.query({name: 'upd', text: 'UPDATE tokens SET consumed_at = $1 WHERE id = $2', values: [i, hash]})
      await c.query({name: 'ins', text: 'INSERT INTO tokens (id, family_id, created_at) VALUES ($1, $2, $3)', values: [hash + 'n', 'f' + i, i]})
      await c.query('COMMIT')
    } catch (e) {
      await c.query('ROLLBACK')
      throw e
    } finally {
      c.release()
    }
  })
  await pool.end()
}

async function withPostgresJs() {
  const url = await server.database('pj')
  const sql = postgres(url, {max: CONCURRENCY, onnotice: () => {}})
  await sql.unsafe(schema)
  for (const id of ids) await sql`INSERT INTO clients VALUES (${id}, 'agent', '["mcp"]', ${Date.now()})`
  await measure('postgres lookup', async (i) => {
    await sql`SELECT * FROM clients WHERE id = ${ids[i % ids.length]!}`
  })
  await measure('postgres rotate', async (i) => {
    const hash = randomBytes(16).toString('hex')
    await sql.begin(async (tx) => {
      await tx`INSERT INTO tokens (id, family_id, created_at) VALUES (${hash}, ${'f' + i}, ${i})`
      await tx`SELECT * FROM tokens WHERE id = ${hash} FOR UPDATE`
      await tx`UPDATE tokens SET consumed_at = ${i} WHERE id = ${hash}`
      await tx`INSERT INTO tokens (id, family_id, created_at) VALUES (${hash + 'n'}, ${'f' + i}, ${i})`
    })
  })
  await sql.end()
}

try {
  // Alternate the order so neither library always gets the warmer machine.
  await withPg()
  await withPostgresJs()
  await withPg()
  await withPostgresJs()
} finally {
  await server.stop()
}
