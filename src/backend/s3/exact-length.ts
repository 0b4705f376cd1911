// A pass-through that fails unless exactly the announced number of bytes goes through: a source
// shorter or longer than PutSource.size must never end up stored under the final name.
import { Transform, type TransformCallback } from 'node:stream';
import { BackendError } from '../errors.js';

export class ExactLength extends Transform {
  #seen = 0;

  constructor(readonly expected: number, readonly label: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.expected) {
      callback(new BackendError('permanent', `${this.label}: the source gave more than the ${this.expected} bytes announced`));
    } else {
      callback(null, chunk);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#seen === this.expected
      ? null
      : new BackendError('permanent', `${this.label}: the source ended after ${this.#seen} of ${this.expected} bytes`));
  }
}
