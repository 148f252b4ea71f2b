/** Results of a scenario, and how they are printed. */

export interface Table {
  title: string
  columns: string[]
  rows: string[][]
}

export interface Target {
  scenario: string
  what: string
  goal: string
  value: string
  /** null: could not be measured (system not available, scenario failed, or the part not built yet). */
  met: boolean | null
  /** The issue that set the target. */
  issue?: string
  /** Why it is not measured, when the part it needs does not exist yet ("needs issue 13 ..."). */
  notMeasured?: string
  /** Most cores other processes used during a run this target rests on, when above NOISY_CORES. */
  noisy?: number
}

/** Other load (cores) above which a target's status is marked noisy: the figures are not to be trusted. */
export const NOISY_CORES = 0.3

/** Marks a target noisy when any of the runs it rests on met more than NOISY_CORES of other load. */
export function withNoise(t: Target, runs: {machineCpu: number; serverCpu: number; loadgenCpu: number}[]): Target {
  const worst = Math.max(0, ...runs.map(otherLoad))
  return worst > NOISY_CORES && t.met !== null ? {...t, noisy: Number(worst.toFixed(2))} : t
}

export interface ScenarioResult {
  id: string
  title: string
  tables: Table[]
  notes: string[]
  targets: Target[]
  /** Raw figures for --json. */
  data: Record<string, unknown>
  error?: string
}

export interface Context {
  quick: boolean
  /** Times a measured round may be repeated when other processes used the CPU during it (--wait-quiet). */
  retries: number
  log(message: string): void
}

/** Runs one measured round, repeating it (up to ctx.retries times) while other load disturbed it. */
export async function quietRound<T extends {machineCpu: number; serverCpu: number; loadgenCpu: number}>(
  ctx: Context,
  label: string,
  run: () => Promise<T>,
): Promise<T> {
  let r = await run()
  for (let i = 0; i < ctx.retries && otherLoad(r) > 0.15; i++) {
    ctx.log(`${label}: ${otherLoad(r).toFixed(2)} cores of other load, repeating the round`)
    r = await run()
  }
  return r
}

/** Cores busy with something other than the server and the load generator during a run. */
export function otherLoad(r: {machineCpu: number; serverCpu: number; loadgenCpu: number}): number {
  return Math.max(0, r.machineCpu - r.serverCpu - r.loadgenCpu)
}

/** A note when other processes on the machine took a noticeable share of CPU during runs. */
export function noiseNote(runs: {name: string; other: number}[]): string | undefined {
  const noisy = runs.filter((r) => r.other > 0.1)
  if (!noisy.length) return undefined
  return `WARNING: other processes used CPU during the runs (${noisy.map((r) => `${r.name} ${r.other.toFixed(2)} cores`).join(', ')}); figures are depressed, run again on a quiet machine`
}

/**
 * The cells every throughput row shares: rate, latency, errors, CPU per operation (and what one
 * core would sustain at it), core use of server and load generator, and other load.
 */
export function throughputCells(
  x: {rps: number; p50: number; p99: number; errors: number; serverCpu: number; loadgenCpu: number; machineCpu: number},
  cpuPerOp: number,
): string[] {
  return [
    fmt.int(x.rps),
    fmt.ms(x.p50),
    fmt.ms(x.p99),
    fmt.int(x.errors),
    fmt.us(cpuPerOp),
    fmt.int(1e6 / cpuPerOp),
    fmt.pct(x.serverCpu),
    fmt.pct(x.loadgenCpu),
    otherLoad(x).toFixed(2),
  ]
}

export const fmt = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'),
  ms: (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) : '-'),
  us: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'),
  mib: (bytes: number) => (Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : '-'),
  pct: (f: number) => (Number.isFinite(f) ? `${Math.round(f * 100)}%` : '-'),
  ratio: (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-'),
}

export function renderTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |'
  const sep = '|' + widths.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|'
  return [`**${t.title}**`, '', line(t.columns), sep, ...t.rows.map(line)].join('\n')
}

export function renderScenario(s: ScenarioResult): string {
  const parts = [`### ${s.id}. ${s.title}`, '']
  if (s.error) parts.push(`FAILED: ${s.error}`, '')
  for (const t of s.tables) parts.push(renderTable(t), '')
  for (const n of s.notes) parts.push(`- ${n}`)
  if (s.notes.length) parts.push('')
  return parts.join('\n')
}

export function renderTargets(targets: Target[]): string {
  return renderTable({
    title: 'Targets',
    columns: ['scenario', 'issue', 'target', 'goal', 'measured', 'status'],
    rows: targets.map((t) => [
      t.scenario,
      t.issue ?? '',
      t.what,
      t.goal,
      t.value,
      (t.notMeasured ? `not measured: ${t.notMeasured}` : t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED') +
        (t.noisy ? ` (noisy: ${t.noisy} cores of other load)` : ''),
    ]),
  })
}

export function target(
  scenario: string,
  what: string,
  goal: string,
  value: number,
  ok: (v: number) => boolean,
  show: (v: number) => string,
  issue?: string,
): Target {
  const measurable = Number.isFinite(value)
  return {scenario, what, goal, value: measurable ? show(value) : 'not available', met: measurable ? ok(value) : null, issue}
}

/**
 * A ratio target of issue 15: Gatehouse's server CPU per operation at most `max` times its floor's,
 * printed with both figures. `ratio` is the median of the per-round ratios; `gh` and `floor` the
 * CPU µs per operation shown beside it.
 */
export function floorTarget(scenario: string, what: string, max: number, ratio: number, gh: number, floor: number, floorName: string): Target {
  return target(
    scenario,
    what,
    `<= ${max}x ${floorName}`,
    ratio,
    (v) => v <= max,
    (v) => `${v.toFixed(2)}x (${fmt.us(gh)} / ${fmt.us(floor)} µs)`,
    '15',
  )
}

/** A target whose subject does not exist yet: reported, never given a number. */
export function notMeasured(scenario: string, what: string, goal: string, needs: string, issue = '15'): Target {
  return {scenario, what, goal, value: '-', met: null, issue, notMeasured: needs}
}
