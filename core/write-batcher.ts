/**
 * Groups writes that arrive at the same time into one statement. Under load, a statement per request spends
 * most of the database's time on per-statement work (parse, plan, commit and its WAL flush, a round trip);
 * one statement for the requests that queued while the previous one ran shares that work among them.
 *
 * There is no timer: an item waits only while `maxInFlight` batches are already running, so a lone request is
 * written at once, and a busy server writes bigger batches. A batch is one statement, so atomic: when it fails
 * (one bad item fails it all), each of its items is written alone, so each request gets its own outcome and a
 * bad item cannot take the others down with it.
 */
export class WriteBatcher<T> {
  private readonly writeMany: (items: T[]) => Promise<void>;
  private readonly options: { maxBatch: number; maxInFlight: number };
  private queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    writeMany: (items: T[]) => Promise<void>,
    options: { maxBatch: number; maxInFlight: number },
  ) {
    this.writeMany = writeMany;
    this.options = options;
  }

  /** Resolves when the item is written (committed), or rejects with its own error. */
  write(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(batch: typeof this.queue): Promise<void> {
    try {
      await this.writeMany(batch.map((b) => b.item));
      for (const b of batch) b.resolve();
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      await Promise.all(
        batch.map(async (b) => {
          try {
            await this.writeMany([b.item]);
            b.resolve();
          } catch (own) {
            b.reject(own);
          }
        }),
      );
    }
  }
}
