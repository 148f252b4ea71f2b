import {spawnSync} from 'node:child_process'
import {performance} from 'node:perf_hooks'
import {existsSync} from 'node:fs'
import {BIN, generateClient, newDataDir} from '../systems/gatehouse.js'
import {populate} from '../lib/populate.js'
import {serverPrefix} from '../lib/taskset.js'
import {NODE} from '../lib/paths.js'
import {summarize, type Summary} from '../lib/stats.js'
import {fmt, target, type Context, type ScenarioResult} from '../lib/report.js'

/** `oauth-list-clients --json`, cold start to exit, on core 0, every output parsed and counted. */
function timeList(dataDir: string, expected: number, n: number): Summary {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const argv = [...serverPrefix(), NODE, BIN('oauth-list-clients'), '--json', '--data-dir', dataDir]
    const t0 = performance.now()
    const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8', maxBuffer: 1 << 28, timeout: 30000, env: {...process.env, NO_COLOR: '1'}})
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`oauth-list-clients exited ${r.status}: ${r.stderr}`)
    const list = JSON.parse(r.stdout) as unknown[]
    if (list.length !== expected) throw new Error(`oauth-list-clients listed ${list.length} clients, expected ${expected}`)
    times.push(ms)
  }
  return summarize(times)
}

export async function cli(ctx: Context): Promise<ScenarioResult> {
  const n = ctx.quick ? 5 : 15
  const notes: string[] = []
  const rows: [string, Summary][] = []
  if (!existsSync(BIN('oauth-list-clients'))) {
    notes.push('gatehouse: oauth-list-clients is not in this checkout')
  } else {
    const small = newDataDir()
    generateClient(small, 'bench')
    const big = newDataDir()
    generateClient(big, 'bench')
    ctx.log('populating 10,000 clients')
    populate(big, {clients: 10_000, revocations: 0, audit: 0})
    timeList(small, 1, 1) // warm the file cache
    ctx.log(`${n} runs each`)
    // Alternate the two stores run by run.
    const a: number[] = []
    const b: number[] = []
    for (let i = 0; i < n; i++) {
      a.push(timeList(small, 1, 1).p50)
      b.push(timeList(big, 10_001, 1).p50)
    }
    rows.push(['1 client', summarize(a)], ['10,001 clients', summarize(b)])
  }
  const big = rows.find(([k]) => k.startsWith('10,001'))?.[1]
  notes.push('wall time from spawn to exit of `node bin/oauth-list-clients.js --json`, pinned to core 0; the output is parsed and its length checked every run')
  return {
    id: '6',
    title: 'CLI: oauth-list-clients --json cold start',
    tables: [
      {
        title: 'oauth-list-clients --json',
        columns: ['store', 'runs', 'p50 ms', 'mean ms', 'max ms'],
        rows: rows.map(([k, s]) => [k, String(s.n), fmt.ms(s.p50), fmt.ms(s.mean), fmt.ms(s.max)]),
      },
    ],
    notes,
    targets: [target('6', 'oauth-list-clients --json, 10,000 clients (p50)', '< 400 ms', big?.p50 ?? Number.NaN, (v) => v < 400, (v) => `${fmt.ms(v)} ms`, '15')],
    data: {rows},
  }
}
