// A stream of objects that can also be read a batch at a time. The state index decodes thousands of
// records per block; handed over one at a time through three async generators, their promises and
// garbage were a tenth of a no-change backup, so the backup takes them in batches (of 64: state-index.ts).

/** An async stream of objects whose producer can hand them over a batch at a time. */
export interface Batched<T> extends AsyncIterable<T> {
  /** the objects in batches (read either this or the objects, once) */
  batches(): AsyncIterator<T[]>;
}

/** A Batched stream over the batches `read` yields; it can be read once (a second read throws). */
export function batched<T>(read: () => AsyncIterator<T[]>): Batched<T> {
  let used = false;
  const batches = () => {
    // a second reader would start over the same underlying stream, half-read by the first
    if (used) throw new Error('a batched stream is read once');
    used = true;
    return read();
  };
  return {
    batches,
    async *[Symbol.asyncIterator]() {
      const it = batches();
      try {
        for (let next = await it.next(); !next.done; next = await it.next()) yield* next.value;
      } finally {
        await it.return?.(undefined);
      }
    },
  };
}

export function isBatched<T>(source: AsyncIterable<T>): source is Batched<T> {
  return typeof (source as Partial<Batched<T>>).batches === 'function';
}

/** Batches of any stream: a batched one's own, else one object per batch. */
export async function* batchesOf<T>(source: AsyncIterable<T>): AsyncGenerator<T[]> {
  if (isBatched(source)) {
    const it = source.batches();
    try {
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    } finally {
      await it.return?.(undefined);
    }
    return;
  }
  for await (const object of source) yield [object];
}
