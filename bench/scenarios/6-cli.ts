import {spawnSync} from 'node:child_process'
import {performance} from 'node:perf_hooks'
import {existsSync} from 'node:fs'
import {BIN, generateClient, newDataDir} from '../systems/gatehouse.js'
import {populate} from '../lib/populate.js'
import {serverPrefix} from '../lib/taskset.js'
import {NODE} from '../lib/paths.js'
import {summarize, type Summary} from '../lib/stats.js'
import {fmt, target, type Context, type ScenarioResult} from '../lib/report.js'
import {childrenCpuSeconds} from '../lib/external-loadgen.js'

/**
 * `oauth-list-clients --json`, cold start to exit, on core 0, every output parsed and counted.
 * Wall time and the process's own CPU (this process's waited-for children: user + system), the
 * figure other load on the machine disturbs least.
 */
function timeList(dataDir: string, expected: number, n: number): {wall: number[]; cpu: number[]} {
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < n; i++) {
    const argv = [...serverPrefix(), NODE, BIN('oauth-list-clients'), '--json', '--data-dir', dataDir]
    const c0 = childrenCpuSeconds()
    const t0 = performance.now()
    const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8', maxBuffer: 1 << 28, timeout: 30000, env: {...process.env, NO_COLOR: '1'}})
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`oauth-list-clients exited ${r.status}: ${r.stderr}`)
    const list = JSON.parse(r.stdout) as unknown[]
    if (list.length !== expected) throw new Error(`oauth-list-clients listed ${list.length} clients, expected ${expected}`)
    wall.push(ms)
    cpu.push((childrenCpuSeconds() - c0) * 1000)
  }
  return {wall, cpu}
}

export async function cli(ctx: Context): Promise<ScenarioResult> {
  const n = ctx.quick ? 5 : 15
  const notes: string[] = []
  const rows: [string, Summary, Summary][] = []
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
    const a = {wall: [] as number[], cpu: [] as number[]}
    const b = {wall: [] as number[], cpu: [] as number[]}
    for (let i = 0; i < n; i++) {
      for (const [into, dir, expected] of [[a, small, 1], [b, big, 10_001]] as const) {
        const t = timeList(dir, expected, 1)
        into.wall.push(...t.wall)
        into.cpu.push(...t.cpu)
      }
    }
    rows.push(['1 client', summarize(a.wall), summarize(a.cpu)], ['10,001 clients', summarize(b.wall), summarize(b.cpu)])
  }
  const bigRow = rows.find(([k]) => k.startsWith('10,001'))
  const big = bigRow?.[1]
  const bigCpu = bigRow?.[2].p50 ?? Number.NaN
  notes.push('wall time from spawn to exit of `node bin/oauth-list-clients.js --json`, pinned to core 0; the output is parsed and its length checked every run')
  notes.push('CPU: user + system time of the command (cutime/cstime of this process, 10 ms ticks); other load on the machine stretches the wall time far more than the CPU')
  return {
    id: '6',
    title: 'CLI: oauth-list-clients --json cold start',
    tables: [
      {
        title: 'oauth-list-clients --json',
        columns: ['store', 'runs', 'p50 ms', 'mean ms', 'max ms', 'CPU p50 ms'],
        rows: rows.map(([k, s, c]) => [k, String(s.n), fmt.ms(s.p50), fmt.ms(s.mean), fmt.ms(s.max), fmt.ms(c.p50)]),
      },
    ],
    notes,
    targets: [target('6', 'oauth-list-clients --json, 10,000 clients (p50)', '< 400 ms', big?.p50 ?? Number.NaN, (v) => v < 400, (v) => `${fmt.ms(v)} ms (CPU ${fmt.ms(bigCpu)} ms)`, '15')],
    data: {rows},
  }
}
