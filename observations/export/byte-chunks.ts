/**
 * Text encoded as UTF-8 straight into large buffers (1 MB each): a batch's lines leave as a few big writes to a
 * deflate stream or a socket, not hundreds of small ones, and a long string (a transcript) is encoded where it
 * lies instead of being joined into a longer string first (which V8 copies to flatten before encoding) and then
 * copied once more by Buffer.concat.
 */
export class ByteChunks {
  private readonly size: number;
  private buffer: Buffer | null = null;
  private used = 0;
  private readonly full: Buffer[] = [];

  constructor(size = 1 << 20) {
    this.size = size;
  }

  write(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units).
    const most = text.length * 3;
    if (!this.buffer || this.buffer.length - this.used < most) {
      this.seal();
      this.buffer = Buffer.allocUnsafe(Math.max(this.size, most));
    }
    this.used += this.buffer.write(text, this.used);
  }

  private seal(): void {
    if (this.buffer && this.used > 0) this.full.push(this.buffer.subarray(0, this.used));
    this.buffer = null;
    this.used = 0;
  }

  /** The bytes written so far, in order; the builder starts empty again. */
  take(): Buffer[] {
    this.seal();
    return this.full.splice(0);
  }
}
