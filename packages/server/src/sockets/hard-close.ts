import type { Socket } from 'node:net'

/** How long a revoked stream's last event gets to reach a reader who keeps up, before the cut. */
export const REVOKED_GRACE_MS = 250

/**
 * Ends a connection now, dropping whatever the kernel still holds for the peer. A plain `destroy()`
 * would let megabytes of queued audio keep flowing to a slow reader after a revocation; a TCP reset
 * discards it. A TLS socket's TCP socket is its `_parent` (Node keeps it there; no public accessor).
 */
export function hardClose(socket: Socket | undefined | null): void {
  if (!socket || socket.destroyed) return
  const tcp = (socket as Socket & { _parent?: Socket })._parent ?? socket
  try {
    tcp.resetAndDestroy()
  } catch {
    socket.destroy()
  }
  socket.destroy()
}

/** After the grace period, cuts the connection if the stream has not ended by itself. */
export function cutAfterGrace(socket: Socket | undefined | null, ended: () => boolean): void {
  setTimeout(() => {
    if (!ended()) hardClose(socket)
  }, REVOKED_GRACE_MS).unref()
}
