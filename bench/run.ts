/**
 * `npm run bench [-- --quick] [-- --json] [-- --only 1,2] [-- --check-loadgen] [-- --cpu-prof]`:
 * every scenario for every system and floor, alternating, server on core 0 and load generator on
 * core 1 where taskset exists.
 */
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {cpus, totalmem} from 'node:os'
import {join, resolve} from 'node:path'
import {BENCH_DIR} from './lib/paths.js'
import {installCleanup, removeLogs, runSync, stopAll} from './lib/proc.js'
import {hasTaskset, pinSelfToLoadgenCore, cpuCount} from './lib/taskset.js'
import {renderScenario, renderTargets, type Context, type ScenarioResult} from './lib/report.js'
import {removeDataDirs} from './systems/gatehouse.js'
import {machineBusySeconds} from './lib/proctree.js'
import {setTimeout as sleep} from 'node:timers/promises'

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(name)
const valueOf = (name: string) => {
  const i = argv.findIndex((a) => a === name || a.startsWith(name + '='))
  if (i === -1) return undefined
  return argv[i]!.includes('=') ? argv[i]!.slice(name.length + 1) : argv[i + 1]
}
if (flag('--help') || flag('-h')) {
  console.log(`usage: npm run bench -- [--quick] [--json] [--only 1,2,...] [--check-loadgen] [--cpu-prof[=DIR]]
  --quick   shorter runs
  --json    one JSON document on stdout; progress goes to stderr
  --only    scenarios to run: 1 tokens, 2 tool call, 3 session open, 4 memory, 5 scale, 6 cli,
            7 loadgen (the load generator checked against autocannon and wrk)
  --check-loadgen  the same as --only 7
  --cpu-prof[=DIR] every Gatehouse daemon started writes a V8 CPU profile when it stops, into DIR
            (default bench/profiles/<date>/, not committed); summarise one with
            node --import tsx bench/profile-top.ts FILE.cpuprofile
  --wait-quiet  before each scenario wait (up to 120 s) for other processes to leave the CPU idle,
                and repeat (up to twice) a measured round they disturbed`)
  process.exit(0)
}
const quick = flag('--quick')
const json = flag('--json')
const waitQuiet = flag('--wait-quiet')
const only = flag('--check-loadgen')
  ? ['7']
  : valueOf('--only')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
/** --cpu-prof or --cpu-prof=DIR (a following argument is not taken: it may be another flag). */
const cpuProfArg = argv.find((a) => a === '--cpu-prof' || a.startsWith('--cpu-prof='))
const profileDir = cpuProfArg
  ? resolve(cpuProfArg.includes('=') ? cpuProfArg.slice('--cpu-prof='.length) : join(BENCH_DIR, 'profiles', new Date().toISOString().replace(/[:.]/g, '-')))
  : undefined

function ensureBenchDeps(): void {
  const needed = ['oidc-provider', 'supergateway', 'mcp-proxy', 'autocannon', '@modelcontextprotocol/server-everything']
  if (needed.every((p) => existsSync(join(BENCH_DIR, 'node_modules', p, 'package.json')))) return
  process.stderr.write('bench: installing the peers into bench/node_modules (npm ci)...\n')
  const r = runSync('npm', ['ci', '--no-audit', '--no-fund'], {cwd: BENCH_DIR, timeoutMs: 300000})
  if (r.status !== 0) throw new Error(`npm ci in bench/ failed:\n${r.stderr}`)
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown'
  return {
    nproc: cpuCount(),
    cpu: model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    taskset: hasTaskset(),
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
  }
}

const SCENARIOS: {id: string; name: string; load: () => Promise<(ctx: Context) => Promise<ScenarioResult>>}[] = [
  {id: '1', name: 'tokens', load: async () => (await import('./scenarios/1-tokens.js')).tokens},
  {id: '2', name: 'toolcall', load: async () => (await import('./scenarios/2-toolcall.js')).toolCall},
  {id: '3', name: 'session', load: async () => (await import('./scenarios/3-session.js')).sessionOpen},
  {id: '4', name: 'memory', load: async () => (await import('./scenarios/4-memory.js')).memory},
  {id: '5', name: 'scale', load: async () => (await import('./scenarios/5-scale.js')).scale},
  {id: '6', name: 'cli', load: async () => (await import('./scenarios/6-cli.js')).cli},
  {id: '7', name: 'loadgen', load: async () => (await import('./scenarios/7-loadgen.js')).checkLoadgen},
  {id: '8', name: 'postgres', load: async () => (await import('./scenarios/7-postgres.js')).postgresStore},
]

/** Busy cores on the machine over `ms` while the benchmark itself is idle. */
async function background(ms = 1000): Promise<number> {
  const b0 = machineBusySeconds()
  const t0 = Date.now()
  await sleep(ms)
  return (machineBusySeconds() - b0) / ((Date.now() - t0) / 1000)
}

async function main() {
  installCleanup()
  // Also on SIGINT/SIGTERM and errors (their handlers end in process.exit): no temporary dirs left.
  process.on('exit', () => {
    removeDataDirs()
    removeLogs()
  })
  // This sandbox sets NODE_EXTRA_CA_CERTS, which makes every Node process read a CA bundle at
  // start (~70 ms here). Nothing measured talks TLS, and Gatehouse's children start with a clean
  // environment anyway: strip it so that every process started (servers, children, the CLI and
  // the spawn floor) starts the same way.
  delete process.env.NODE_EXTRA_CA_CERTS
  if (profileDir) {
    mkdirSync(profileDir, {recursive: true})
    // Read by systems/gatehouse.ts at each daemon start; the daemon writes the profile on its graceful stop.
    const flags = (process.env.BENCH_GATEHOUSE_NODE_FLAGS ?? '').split(' ').filter((f) => f && !f.startsWith('--cpu-prof'))
    process.env.BENCH_GATEHOUSE_NODE_FLAGS = [...flags, '--cpu-prof', `--cpu-prof-dir=${profileDir}`].join(' ')
  }
  ensureBenchDeps()
  const pinned = pinSelfToLoadgenCore()
  const m = machine()
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`)
  log(`${m.mode} run on ${m.nproc} cores (${m.cpu}), Node ${m.node}, ${pinned ? 'servers on core 0, load generator on core 1' : 'no CPU pinning (taskset missing or one core)'}`)
  const started = Date.now()
  const results: ScenarioResult[] = []
  const backgroundLoad: Record<string, number> = {}
  for (const s of SCENARIOS) {
    if (only && !only.includes(s.id) && !only.includes(s.name)) continue
    const t0 = Date.now()
    let idle = await background()
    if (idle > 0.15 && waitQuiet) {
      const deadline = Date.now() + 120000
      log(`machine busy (${idle.toFixed(2)} cores used by other processes); waiting up to 120 s for it to quieten`)
      while (idle > 0.15 && Date.now() < deadline) idle = await background(2000)
    }
    backgroundLoad[s.id] = Number(idle.toFixed(2))
    log(`scenario ${s.id} (${s.name}); background load ${idle.toFixed(2)} cores${idle > 0.15 ? ' -- NOISY: other processes are using the CPU' : ''}`)
    const ctx: Context = {quick, retries: waitQuiet ? 2 : 0, log: (msg) => log(`  [${s.id}] ${msg}`)}
    try {
      results.push(await (await s.load())(ctx))
    } catch (err) {
      const e = err as Error
      log(`scenario ${s.id} failed: ${e.stack ?? e}`)
      results.push({id: s.id, title: s.name, tables: [], notes: [], targets: [], data: {}, error: e.message.split('\n')[0]!})
    } finally {
      await stopAll()
    }
    log(`scenario ${s.id} took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
  const seconds = (Date.now() - started) / 1000
  const targets = results.flatMap((r) => r.targets)
  const profiles = profileDir && existsSync(profileDir) ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, f)) : []
  if (profileDir) {
    log(`CPU profiles of the Gatehouse daemons (${profiles.length}) in ${profileDir}; figures of a profiled run are inflated by the profiler, compare only unprofiled runs`)
    for (const p of profiles) log(`  node --import tsx bench/profile-top.ts ${p}`)
  }
  const doc = {machine: {...m, pinned, profiled: Boolean(profileDir)}, seconds, backgroundLoad, scenarios: results, targets, profiles}
  mkdirSync(join(BENCH_DIR, 'results'), {recursive: true})
  writeFileSync(join(BENCH_DIR, 'results', `last-${m.mode}.tmp.json`), JSON.stringify(doc, null, 2))
  if (json) {
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n')
  } else {
    const out = [
      `## Gatehouse benchmark (${m.mode}, ${m.date})`,
      '',
      `Machine: ${m.nproc} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}; ${pinned ? 'server tree pinned to core 0, load generator to core 1' : 'not pinned'}. Took ${seconds.toFixed(0)} s.`,
      ...(profileDir ? [`PROFILED RUN (--cpu-prof): the Gatehouse daemons ran under the V8 profiler, so their figures are inflated; profiles in ${profileDir}.`] : []),
      `Background load before each scenario (cores busy with other processes): ${Object.entries(backgroundLoad).map(([k, v]) => `${k}: ${v}`).join(', ')}${Object.values(backgroundLoad).some((v) => v > 0.15) ? ' -- the machine was not quiet; figures are depressed' : ''}.`,
      '',
      ...results.map(renderScenario),
      renderTargets(targets),
      '',
    ]
    process.stdout.write(out.join('\n'))
  }
}

main()
  .catch((err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`)
    process.exitCode = 1
  })
  .finally(async () => {
    await stopAll()
    removeDataDirs()
    removeLogs()
  })
