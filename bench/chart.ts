/**
 * The recall-vs-QPS chart, drawn as SVG by hand: one panel per concurrency, one line per
 * layer, a point per `ef_search` (the curve every ANN benchmark draws: up and to the right is
 * better).
 */

/** One point of a line. */
export interface ChartPoint {
  recall: number
  qps: number
  label: string
}

/** One panel: a title and a line per series. */
export interface ChartPanel {
  title: string
  series: { name: string; points: ChartPoint[] }[]
}

const RECALL_TICKS = [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999]
const MAX_RECALL = 0.999
const COLOURS = [
  '#1f77b4',
  '#7f7f7f',
  '#bcbd22',
  '#ff7f0e',
  '#17becf',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
]
const PANEL_WIDTH = 360
const PANEL_HEIGHT = 300
const MARGIN = { top: 56, right: 16, bottom: 48, left: 64 }

/**
 * An SVG document of `panels` side by side under `title`.
 *
 * @example
 * writeFileSync('chart.svg', recallQpsChart('native', [{ title: '16 clients', series }]))
 */
export function recallQpsChart(title: string, panels: readonly ChartPanel[]): string {
  const names = [...new Set(panels.flatMap((panel) => panel.series.map((s) => s.name)))]
  const colour = (name: string) => COLOURS[names.indexOf(name) % COLOURS.length]!
  const points = panels.flatMap((panel) => panel.series.flatMap((s) => s.points))
  const recalls = points.map((p) => p.recall).filter(Number.isFinite)
  // Recall on a log scale of what is missed, -log10(1 - recall), as the high end (0.95 to
  // 0.99) is where the choices are made and a linear axis crowds it into a corner.
  const ticks = RECALL_TICKS.filter((t) => t >= Math.min(...recalls, 0.9) - 1e-9)
  const minRecall = Math.min(ticks[0] ?? 0.5, Math.min(...recalls))
  const maxRecall = Math.max(0.99, Math.min(MAX_RECALL, Math.max(...recalls, 0)))
  const missed = (recall: number) => -Math.log10(1 - Math.min(recall, MAX_RECALL))
  const width = panels.length * (PANEL_WIDTH + MARGIN.left + MARGIN.right)
  const legendHeight = 28
  const height = PANEL_HEIGHT + MARGIN.top + MARGIN.bottom + legendHeight
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ]
  panels.forEach((panel, index) => {
    const x0 = index * (PANEL_WIDTH + MARGIN.left + MARGIN.right) + MARGIN.left
    const y0 = MARGIN.top
    const maxQps = niceCeiling(
      Math.max(
        1,
        ...panel.series.flatMap((s) => s.points.map((p) => p.qps)).filter(Number.isFinite),
      ),
    )
    const sx = (recall: number) =>
      x0 +
      ((missed(recall) - missed(minRecall)) / (missed(maxRecall) - missed(minRecall))) * PANEL_WIDTH
    const sy = (qps: number) => y0 + PANEL_HEIGHT - (qps / maxQps) * PANEL_HEIGHT
    parts.push(
      `<text x="${x0 + PANEL_WIDTH / 2}" y="${y0 - 12}" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`,
      `<rect x="${x0}" y="${y0}" width="${PANEL_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`,
    )
    for (let i = 0; i <= 4; i++) {
      const qps = (maxQps * i) / 4
      const y = sy(qps)
      parts.push(
        `<line x1="${x0}" x2="${x0 + PANEL_WIDTH}" y1="${y}" y2="${y}" stroke="#eee"/>`,
        `<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${Math.round(qps)}</text>`,
      )
    }
    for (const recall of ticks.filter((t) => t <= maxRecall + 1e-9)) {
      const x = sx(recall)
      parts.push(
        `<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + PANEL_HEIGHT}" stroke="#eee"/>`,
        `<text x="${x}" y="${y0 + PANEL_HEIGHT + 16}" text-anchor="middle">${recall}</text>`,
      )
    }
    parts.push(
      `<text x="${x0 + PANEL_WIDTH / 2}" y="${y0 + PANEL_HEIGHT + 36}" text-anchor="middle">recall@10 (log scale of 1 - recall)</text>`,
      `<text transform="translate(${x0 - 48} ${y0 + PANEL_HEIGHT / 2}) rotate(-90)" text-anchor="middle">queries per second</text>`,
    )
    for (const series of panel.series) {
      const valid = series.points.filter((p) => Number.isFinite(p.recall) && Number.isFinite(p.qps))
      if (valid.length === 0) continue
      const path = valid.map((p) => `${sx(p.recall).toFixed(1)},${sy(p.qps).toFixed(1)}`).join(' ')
      parts.push(
        `<polyline points="${path}" fill="none" stroke="${colour(series.name)}" stroke-width="2"/>`,
      )
      for (const p of valid) {
        parts.push(
          `<circle cx="${sx(p.recall).toFixed(1)}" cy="${sy(p.qps).toFixed(1)}" r="3" fill="${colour(series.name)}"><title>${escape(`${series.name} ${p.label}: recall ${p.recall.toFixed(3)}, ${Math.round(p.qps)} QPS`)}</title></circle>`,
        )
      }
    }
    // The ef_search of each point, once per panel, on the first series.
    for (const p of panel.series[0]?.points ?? []) {
      if (!Number.isFinite(p.recall) || !Number.isFinite(p.qps)) continue
      parts.push(
        `<text x="${sx(p.recall) + 4}" y="${sy(p.qps) - 6}" font-size="10" fill="#555">${escape(p.label)}</text>`,
      )
    }
  })
  let x = MARGIN.left
  const y = height - 12
  for (const name of names) {
    parts.push(
      `<rect x="${x}" y="${y - 9}" width="14" height="4" fill="${colour(name)}"/>`,
      `<text x="${x + 18}" y="${y - 3}">${escape(name)}</text>`,
    )
    x += 28 + name.length * 7
  }
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
