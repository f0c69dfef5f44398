import WebSocket from 'ws'

export interface Handshake {
  /** The HTTP status of a refused handshake, or 101 when it opened. */
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
  ws?: WebSocket
}

/** Opens a WebSocket and reports how the handshake ended, without throwing. */
export function handshake(url: string, headers: Record<string, string> = {}): Promise<Handshake> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => resolve({ status: 101, body: '', headers: {}, ws }))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    ws.once('error', () => resolve({ status: 0, body: '', headers: {} }))
  })
}

/** Collects JSON messages from a socket until `until` says stop (or the socket closes). */
export function collect(ws: WebSocket, until: (msg: any, all: any[]) => boolean): Promise<any[]> {
  return new Promise((resolve) => {
    const all: any[] = []
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString())
      all.push(msg)
      if (until(msg, all)) {
        ws.off('message', onMessage)
        resolve(all)
      }
    }
    ws.on('message', onMessage)
    ws.once('close', () => resolve(all))
  })
}

export const wsUrl = (httpsUrl: string, query = ''): string =>
  `${httpsUrl.replace(/^https/, 'wss')}/tts/websocket${query}`
