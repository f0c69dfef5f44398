import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { h } from './dom.ts'
import { count } from './format.ts'

const PALETTE = [
  '#2563eb',
  '#d97706',
  '#059669',
  '#db2777',
  '#7c3aed',
  '#0891b2',
  '#65a30d',
  '#dc2626',
  '#4b5563',
  '#c026d3',
  '#94a3b8',
]

export interface Series {
  label: string
  values: number[]
}

const bars = uPlot.paths.bars!({ size: [0.7, 48] })

/**
 * A stacked bar chart of `series` per day (each series' bar drawn from zero to its running total,
 * the totals first, so each shows as its own band), sized to its box. A picture only (`aria-hidden`): the table beside it is its text alternative.
 */
export function stackedChart(days: string[], series: Series[], unit: string): { el: HTMLElement; stop(): void } {
  const box = h('div', { class: 'chart', 'aria-hidden': 'true' })
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000)
  // Cumulative from the last series up, so the first is the top of the stack.
  const stacked: number[][] = []
  let below = days.map(() => 0)
  for (let i = series.length - 1; i >= 0; i--) {
    below = below.map((b, d) => b + (series[i]!.values[d] ?? 0))
    stacked[i] = below
  }
  const axisColor = getComputedStyle(document.documentElement).getPropertyValue('--fg').trim() || '#222'
  const gridColor = getComputedStyle(document.documentElement).getPropertyValue('--line').trim() || '#ddd'
  let plot: uPlot | undefined
  const draw = () => {
    const width = Math.max(280, box.clientWidth)
    if (plot) return plot.setSize({ width, height: 240 })
    plot = new uPlot(
      {
        width,
        height: 240,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] } },
        axes: [
          { stroke: axisColor, grid: { stroke: gridColor } },
          {
            stroke: axisColor,
            grid: { stroke: gridColor },
            values: (_u, ticks) => ticks.map((t) => count(t)),
            size: 56,
            label: unit,
          },
        ],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length],
            fill: PALETTE[i % PALETTE.length],
            width: 0,
            paths: bars,
            points: { show: false },
          })),
        ],
      },
      [xs, ...stacked],
      box,
    )
  }
  const resize = new ResizeObserver(() => draw())
  requestAnimationFrame(() => {
    draw()
    resize.observe(box)
  })
  const legend = h(
    'ul',
    { class: 'legend', 'aria-hidden': 'true' },
    series.map((s, i) => h('li', {}, h('span', { class: `swatch c${i % PALETTE.length}` }), s.label)),
  )
  return {
    el: h('figure', { class: 'figure' }, box, legend),
    stop() {
      resize.disconnect()
      plot?.destroy()
    },
  }
}
