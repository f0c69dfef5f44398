import os from 'node:os'

/** One line per figure with a target: the figure, the target beside it, and whether it is met. */
export const verdict = (figure: string, measured: string, target: string, met: boolean): string =>
  `${figure}: ${measured}; target ${target}: ${met ? 'met' : 'NOT MET'}`

/** The machine's 1, 5 and 15-minute load averages: what shared the cores when a section started. */
export const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')
