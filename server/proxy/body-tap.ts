/**
 * A copy of a body as it streams past, kept up to `limit` bytes: the proxy forwards every byte, but a capture
 * stores at most CAPTURE_BODY_LIMIT. Chunks are kept by reference (Node never reuses a chunk it emitted), so
 * tapping costs an array push, not a copy.
 */
export class BodyTap {
  private readonly limit: number;
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte that passed, kept or not. */
  total = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= this.limit) return;
    const room = this.limit - this.kept;
    const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(piece);
    this.kept += piece.length;
  }

  /** Whether bytes passed that were not kept. */
  get truncated(): boolean {
    return this.total > this.kept;
  }

  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
  }
}
