// A put's source, checked to hold exactly the size it announced: a short or long source fails the
// stream (and so the upload) instead of storing a file of the wrong size under a volume's name.
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { BackendError } from './errors.js';
import type { PutSource } from './types.js';

export function exactLength(source: PutSource, name: string): Readable {
  let seen = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > source.size) callback(new BackendError('permanent', `${name}: the source has more than the announced ${source.size} bytes`));
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (seen !== source.size) callback(new BackendError('permanent', `${name}: the source ended after ${seen} of ${source.size} bytes`));
      else callback();
    },
  });
  // pipeline, unlike pipe, hands a failing source's error on to `check`
  pipeline(source.open(), check, () => undefined);
  return check;
}
