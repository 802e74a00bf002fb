/**
 * Listener lists of the bus. A listener that throws must not break the bus in the
 * middle of a transaction: the error is rethrown on a fresh task (so it still surfaces
 * as an uncaught exception, like an EventEmitter's), after every listener has run.
 */
export class Listeners<A extends unknown[]> {
  readonly #list: ((...args: A) => void)[] = [];

  add(listener: (...args: A) => void): void {
    this.#list.push(listener);
  }

  emit(...args: A): void {
    for (const l of this.#list) {
      try {
        l(...args);
      } catch (err) {
        setImmediate(() => {
          throw err;
        });
      }
    }
  }
}
