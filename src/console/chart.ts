import {escapeHtml} from './html.js'
import type {Usage} from './usage.js'

/**
 * A bar chart of calls and refusals, as SVG written here on the server (docs/DESIGN.md, "The
 * owner's console": no chart library, no script, nothing inline the CSP would have to allow).
 * Each slot is a stacked bar: calls below, refusals above; colours come from the stylesheet
 * (classes `calls`, `refusals`). The numbers are also in each bar's <title> and in the caption,
 * so the chart reads without sight and without colour.
 */
export function usageChart({series, label, from, to}: {series: Usage[]; label: string; from: string; to: string}): string {
  const width = 600
  const height = 120
  const top = Math.max(1, ...series.map((u) => u.calls + u.refusals))
  const slot = width / Math.max(1, series.length)
  const bar = Math.max(1, slot - 1)
  const y = (n: number) => (n / top) * (height - 4)
  const rects = series
    .map((u, i) => {
      const x = (i * slot).toFixed(1)
      const hc = y(u.calls)
      const hr = y(u.refusals)
      const title = `<title>${u.calls} calls, ${u.refusals} refusals</title>`
      return (
        `<g>${title}<rect class="slot" x="${x}" y="0" width="${bar.toFixed(1)}" height="${height}"/>` +
        (u.calls ? `<rect class="calls" x="${x}" y="${(height - hc).toFixed(1)}" width="${bar.toFixed(1)}" height="${hc.toFixed(1)}"/>` : '') +
        (u.refusals ? `<rect class="refusals" x="${x}" y="${(height - hc - hr).toFixed(1)}" width="${bar.toFixed(1)}" height="${hr.toFixed(1)}"/>` : '') +
        '</g>'
      )
    })
    .join('')
  const calls = series.reduce((n, u) => n + u.calls, 0)
  const refusals = series.reduce((n, u) => n + u.refusals, 0)
  return `<figure class="chart"><svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(`${label}: ${calls} calls, ${refusals} refusals`)}">${rects}</svg>
<figcaption><span class="key calls">${calls} calls</span> <span class="key refusals">${refusals} refusals</span> <span class="span">${escapeHtml(label)}, ${escapeHtml(from)} to ${escapeHtml(to)}; peak ${top} per slot</span></figcaption></figure>`
}
